"""Contact points in an ad: phones (E.164), messenger handles, emails, links and their domains.

``extract_contacts(ad)`` returns one ``Contact`` per distinct (kind, value), at its first
occurrence, ordered by field then position. Spans (start/end) index the original field text.

Order of work per field, each step claiming its spans so later steps cannot re-read them:
links -> emails -> labelled handles ("TG: xxx", "微信: xxx", "WA: +...") -> bare @handles
-> phones (phonenumbers, several regions) -> phones spelled in English words.
Simple obfuscation is undone: letters of a label split by dots/spaces ("t e l e g r a m"),
"(at)"/"[dot]" in emails, "t . me" / "t[.]me" in links. The phone steps and hub-country numbers live in rules/phones.py.
No Scrapy here.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator

from ._lowertwin import lower_source
from ._regex import finditer_at, guarded
from .regex_store import stored_compile
from .model import AD_FIELDS, Ad, Contact
from .phones import (HUB_PHONE_REGIONS, _MATCHER_RUN, _parse_phone, _phone_windows, _phones,  # noqa: F401 re-exported
                     _word_phones, hub_country_number)

# Default phone regions, most likely first; a script or app hint in the ad moves one forward.
REGIONS = ("PH", "KH", "TH", "VN", "ID", "MY", "MM", "LA", "CN", "IN", "KE", "NG", "BR", "US")

# Fields worth reading for contacts (salary and location never hold one we want).
CONTACT_FIELDS = ("contact", "description", "title", "company")

_SEP = r"[\s.\-_*·•]{0,2}"  # what obfuscators put between letters


def _spaced(word: str) -> str:
    """Regex for ``word`` with optional junk between its letters: t.e.l.e.g.r.a.m, t e l e gram."""
    return _SEP.join(re.escape(ch) for ch in word)


_DOT = r"\s*(?:\.|\[\.\]|\(\.\)|\[dot\]|\(dot\)|\{dot\}|\s+dot\s+)\s*"
_AT = r"\s*(?:@|＠|\[at\]|\(at\)|\{at\}|\s+at\s+(?=[a-z0-9-]+" + _DOT + r"[a-z]{2,}))\s*"

# ---- links -------------------------------------------------------------------------------
_TG_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t" + _DOT + r"me|telegram" + _DOT + r"(?:me|dog))\s*/\s*"
    r"(?:s/)?(?P<handle>\+[\w-]{6,}|joinchat/[\w-]+|[a-z][a-z0-9_]{3,31})", re.I)
_WA_LINK = re.compile(
    r"(?:https?://)?(?:wa" + _DOT + r"me/\+?|(?:api|web)\.whatsapp\.com/send/?\?phone=\+?)(?P<num>\d{7,15})", re.I)
_LINE_LINK = re.compile(r"(?:https?://)?line" + _DOT + r"me/(?:ti/p/|R/ti/p/)?~?(?P<handle>[@\w.\-]{3,40})", re.I)
_ZALO_LINK = re.compile(r"(?:https?://)?zalo" + _DOT + r"me/(?P<num>\+?\d{8,15}|[a-z0-9_.]{3,40})", re.I)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`，。、）)\]]+", re.I)
_BARE_TLDS = ("com|net|org|info|biz|io|co|me|xyz|top|vip|cc|asia|online|site|shop|app|link|club|work|jobs|"
              "ph|kh|th|vn|id|my|mm|la|cn|in|ke|ng|br|us|uk|sg|hk|tw")
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:" + _BARE_TLDS + r")(?![\w@\-])(?:/[^\s<>\"'，。）)]*)?",
    re.I)

_EMAIL = re.compile(
    r"(?<![\w.+\-])(?P<local>[a-z0-9][a-z0-9._%+\-]{0,63})" + _AT +
    r"(?P<domain>(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?" + _DOT + r")+[a-z]{2,24})(?![\w\-])", re.I)

# ---- labelled handles --------------------------------------------------------------------
_LABELS = {
    "telegram": [_spaced("telegram"), _spaced("tele"), r"tg", r"纸飞机", r"飞机", r"电报", r"เทเลแกรม"],
    "whatsapp": [_spaced("whatsapp"), r"whats\s*app", r"wa", r"w/a", r"wsp", r"วอทสแอพ"],
    "line": [r"line\s*(?:id|ไอดี)", r"line(?=\s*[:：=])", r"ไลน์(?:\s*ไอดี)?", r"ไอดีไลน์"],
    "wechat": [_spaced("wechat"), r"we\s+chat", r"微信(?:号)?", r"威信", r"薇信", r"v信", r"vx", r"wx"],
    "zalo": [_spaced("zalo")],
    "qq": [r"qq(?:号)?"],
}
_LABEL_VALUE = (
    r"(?:\s*(?:id|ID|号|ไอดี))?\s*(?:[:：=]|-\s|–|\s)\s*(?:id\s*[:：]?\s*|(?:only|username|handle)\s*[:：]\s*)?"
    r"(?P<value>\+?\d[\d\s\-.()]{5,20}\d|@?[A-Za-z][\w.\-]{2,31}|\d{5,12})"
)
_LABELLED = re.compile(
    # the leading lookaheads (the first letter of every label, then its first two characters) let re skip most
    # positions cheaply; every label below starts with one of these pairs
    "(?=[twlvzq纸飞电เวไ微威薇])"
    r"(?=t[eg\s.\-_*·•]|w[haes/x\s.\-_*·•]|li|v[x信]|z[a\s.\-_*·•]|qq|[纸飞电เวไ微威薇])(?:" + "|".join(
        # no lookbehind here: a pattern that starts with a literal lets re skip ahead fast;
        # the left word boundary is checked in _labelled()
        rf"(?P<{kind}>(?:{'|'.join(pats)})(?![A-Za-z]))" for kind, pats in _LABELS.items()
    ) + ")",
    re.I,
)
_VALUE_AFTER = re.compile(_LABEL_VALUE, re.I)


def _labelled_lower() -> re.Pattern:
    """_LABELLED for lower-cased text, without IGNORECASE: each label is one alternative that starts with a
    plain character and the group named after its kind (numbered: "telegram__0") follows that character, so
    `re` scans for the first characters in a tight loop instead of trying the pattern at every position."""
    alts = []
    for kind, pats in _LABELS.items():
        for n, pat in enumerate(pats):
            first, rest = pat[0], pat[1:]
            rest = lower_source(rest)
            if lower_source(first) != first or not first.isalnum() or rest is None:
                raise ValueError(f"label {pat!r} must start with a plain lower-case character")
            alts.append(rf"{first}(?P<{kind}__{n}>{rest}(?![a-zıſ]))")
    return stored_compile("|".join(alts))


_LABELLED_LOWER = _labelled_lower()  # on text.lower() (same length): the matches of _LABELLED on the text

_BARE_HANDLE = re.compile(r"(?=@)(?<![\w@.])@(?P<handle>[a-z][a-z0-9_]{4,31})(?![\w@]|\.[a-z])", re.I)

# The ad's language -> the phone region its readers' national numbers belong to: tried first, before script
# hints and the default order ("(061) 456 7788" in an Indonesian ad is a Medan number, not a Thai one).
LANGUAGE_REGIONS = {"id": "ID", "ms": "MY", "th": "TH", "vi": "VN", "km": "KH", "my": "MM", "lo": "LA",
                    "tl": "PH", "ceb": "PH", "zh-hans": "CN", "hi": "IN", "hi-latn": "IN", "sw": "KE", "pt": "BR"}

# Script or app hints: which region a national-format number most likely belongs to.
# (pattern, region, a substring that must be present before the regex is worth running; "" = a
# non-ASCII script, not worth running on ASCII text)
_HINTS = (
    (re.compile(r"[\u0e00-\u0e7f]"), "TH", ""),
    (re.compile(r"\bline\b"), "TH", "line"),
    (re.compile(r"[\u1780-\u17ff]"), "KH", ""),
    (re.compile(r"[\u1000-\u109f]"), "MM", ""),
    (re.compile(r"[\u0e80-\u0eff]"), "LA", ""),
    (re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]"), "VN", ""),
    (re.compile(r"\bzalo\b"), "VN", "zalo"),
    (re.compile(r"[\u4e00-\u9fff]"), "CN", ""),
)

_TLD_EXTRACT = None


def _registered_domain(host: str) -> str:
    """example.com.kh for jobs.example.com.kh (public suffix list snapshot, never fetched)."""
    global _TLD_EXTRACT
    if _TLD_EXTRACT is None:
        import tldextract

        _TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    r = _TLD_EXTRACT(host)
    return f"{r.domain}.{r.suffix}".lower() if r.domain and r.suffix else host.lower()


def _clean_dots(s: str) -> str:
    return re.sub(_DOT, ".", s, flags=re.I)


class _Field:
    """Collects contacts from one field's text, keeping claimed spans apart."""

    def __init__(self, text: str, field: str, regions: tuple[str, ...], home: str | None = None):
        self.text, self.field, self.regions = text, field, regions
        self.home = home  # the ad's language's region: its valid reading wins over another region's grouping
        self.low = text.lower()
        self.claimed: list[tuple[int, int]] = []
        self.found: list[Contact] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.claimed)

    def add(self, kind: str, value: str, start: int, end: int, claim: bool = True) -> None:
        if claim:
            self.claimed.append((start, end))
        self.found.append(Contact(kind, value, self.text[start:end], self.field, start, end))


_BARE_DOMAIN_HINT = re.compile(r"\.(?:" + _BARE_TLDS + r")\b", re.I)
_BARE_DOMAIN_HINT_LOWER = stored_compile(r"\.(?:" + lower_source(_BARE_TLDS) + r")\b")  # on text.lower(): 3x faster
_EMAIL_HINT = guarded(r"[@＠]|[\[({]\s*at\s*[\])}]|\sat\s+[a-z0-9-]+" + _DOT + "[a-z]", re.I)


def _links(f: _Field) -> None:
    compact = f.low.replace(" ", "")
    if "me/" in compact or "whatsapp.com" in compact or "]me/" in compact:
        _app_links(f)
    low = f.low
    patterns = ([_URL] if ("http" in low or "www." in low) else []) + (
        [_BARE_DOMAIN] if (_BARE_DOMAIN_HINT_LOWER.search(low) if len(low) == len(f.text)
                           else _BARE_DOMAIN_HINT.search(f.text)) else [])
    for pattern in patterns:
        for m in pattern.finditer(f.text):
            raw = m.group(0).rstrip(".,;:!?")
            start, end = m.start(), m.start() + len(raw)
            if not f.free(start, end):
                continue
            url = raw if re.match(r"https?://", raw, re.I) else "http://" + raw
            host = re.sub(r"^https?://", "", url, flags=re.I).split("/")[0].split("?")[0].split(":")[0].lower()
            if "." not in host:
                continue
            f.add("url", url, start, end)
            f.add("domain", _registered_domain(host), start, end, claim=False)


def _app_links(f: _Field) -> None:
    for m in _TG_LINK.finditer(f.text):
        h = m.group("handle")
        f.add("telegram", h if h.startswith("+") else h.lower(), m.start(), m.end())
    for m in _WA_LINK.finditer(f.text):
        if f.free(m.start(), m.end()):
            num = m.group("num")
            # wa.me takes the number in international form: a national reading only for a leading 0
            value = _parse_phone("+" + num, f.regions) or (_parse_phone(num, f.regions) if num.startswith("0") else None)
            f.add("whatsapp", value or "+" + num, m.start(), m.end())
    for m in _LINE_LINK.finditer(f.text):
        if f.free(m.start(), m.end()):
            f.add("line", m.group("handle").lstrip("@~").lower(), m.start(), m.end())
    for m in _ZALO_LINK.finditer(f.text):
        if f.free(m.start(), m.end()):
            v = m.group("num")
            f.add("zalo", (_parse_phone(v, ("VN",) + f.regions) if v[-1].isdigit() else None) or v.lower(),
                  m.start(), m.end())


_SPACED_AT_SIGN = re.compile(r"\sat(?=\s)")  # " at " in lower-cased text (the trailing space is left for the next)
_EMAIL_START = re.compile(r"(?<![\w.+\-])[a-z0-9]", re.I)  # where _EMAIL's local part may begin
_MAX_LOCAL = 64  # characters of an address's local part (_EMAIL)
_LOCAL_RUN = re.compile(r"[a-z0-9._%+\-]+\Z", re.I)  # the characters of _EMAIL's local part, up to the end
_SPACED_AT_USABLE = re.compile(r"\s+at\s+(?=[a-z0-9-]+" + _DOT + r"[a-z]{2,})", re.I)  # _AT's spaced "at"


def _email_matches(text: str, low: str) -> Iterator[re.Match]:
    """What _EMAIL.finditer(text) yields, trying only the starts that can reach an "@"-like sign: inside the
    run of local-part characters (at most 64) that ends right before the sign or its whitespace. The regex costs a
    few microseconds per word, so scanning whole descriptions for one address was most of its cost."""
    if len(low) != len(text):
        yield from _EMAIL.finditer(text)  # lower() changed lengths: keep to the plain scan
        return
    # a spaced " at " is a sign only before a domain (_AT's lookahead): "at home" and "at our office" start nothing
    signs = [m.start() for m in _SPACED_AT_SIGN.finditer(low) if _SPACED_AT_USABLE.match(text, m.start())]
    for sign in ("@", "＠", "[at]", "(at)", "{at}"):
        i = low.find(sign)
        while i >= 0:
            signs.append(i)
            i = low.find(sign, i + 1)
    starts: set[int] = set()
    for end in signs:
        while end > 0 and text[end - 1].isspace():
            end -= 1  # _AT allows whitespace before the sign
        run = _LOCAL_RUN.search(text, max(0, end - _MAX_LOCAL), end)  # the local part ends at `end`: no gap
        if run:
            starts.update(m.start() for m in _EMAIL_START.finditer(text, run.start(), end))
    yield from finditer_at(_EMAIL, text, sorted(starts))


def _emails(f: _Field) -> None:
    t, low = f.text, f.low
    if not ("@" in t or "＠" in t or "at)" in low or "at]" in low or "at}" in low
            or (" at " in low and _EMAIL_HINT.search(t))):
        return
    for m in _email_matches(t, low):
        if f.free(m.start(), m.end()):
            f.add("email", f"{m.group('local')}@{_clean_dots(m.group('domain'))}".lower(), m.start(), m.end())


def _labelled(f: _Field) -> None:
    lower = len(f.low) == len(f.text)
    for m in (_LABELLED_LOWER.finditer(f.low) if lower else _LABELLED.finditer(f.text)):
        if m.start() and f.text[m.start() - 1].isascii() and f.text[m.start() - 1].isalnum():
            continue  # inside a word: "software", "toward"
        kind = m.lastgroup.partition("__")[0]
        v = _VALUE_AFTER.match(f.text, m.end())
        if not v or not f.free(m.start(), v.end()):
            continue
        raw_value = v.group("value").rstrip(".-")
        end = v.start("value") + len(raw_value)
        is_number = bool(re.fullmatch(r"\+?[\d\s\-.()]+", raw_value))
        if kind == "qq":
            if re.fullmatch(r"\d{5,12}", raw_value):
                f.add("qq", raw_value, m.start(), end)
            continue
        if is_number:
            hint = {"zalo": ("VN",), "line": ("TH",), "wechat": ("CN",)}.get(kind, ())
            phone = _parse_phone(raw_value, hint + f.regions)
            if phone:
                f.add(kind, phone, m.start(), end)
            continue
        handle = raw_value.lstrip("@")
        if kind in ("whatsapp", "zalo"):
            continue  # these are phone numbers; a word after "WA" is not a contact
        if kind == "telegram" and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", handle):
            continue
        label = f.text[m.start(): m.end()]
        separated = re.search(r"[:：=@/]", f.text[m.end(): v.start("value") + 1])
        if len(label) <= 2 and (label.isascii() or label == "飞机") and not separated:
            continue  # "tg", "wa", "vx", "飞机" (also "plane") alone need a colon or @ before the value
        if not separated and not re.search(r"[\d_]", handle):
            continue  # "Telegram today", "Telegram channels", "WeChat hoặc": a word, not a handle
        f.add(kind, handle.lower(), m.start(), end)


_OTHER_PLATFORM = re.compile(r"\b(?:instagram|insta|ig|twitter|x\.com|facebook|fb|tiktok|threads|youtube)\b", re.I)


def _bare_handles(f: _Field) -> None:
    if "@" not in f.text:
        return  # _BARE_HANDLE starts with "@" (one character whatever the case): a scan would find nothing
    for m in _BARE_HANDLE.finditer(f.text):
        around = f.text[max(0, m.start() - 20): m.end() + 20]
        if f.free(m.start(), m.end()) and not _OTHER_PLATFORM.search(around):
            f.add("telegram", m.group("handle").lower(), m.start(), m.end())


def _ordered_regions(texts: Iterable[str], regions: tuple[str, ...], language: str | None = None) -> tuple[str, ...]:
    joined = " ".join(texts).lower()
    ascii_only = joined.isascii()
    hinted = [region for pattern, region, needed in _HINTS
              if region in regions and (needed or not ascii_only) and needed in joined and pattern.search(joined)]
    home = LANGUAGE_REGIONS.get(language or "")
    return tuple(dict.fromkeys(([home] if home in regions else []) + hinted + list(regions)))


def extract_from_text(text: str, field: str = "", regions: tuple[str, ...] | None = None,
                      home: str | None = None) -> list[Contact]:
    """Contacts in one text, in order of position (duplicates kept).

    ``regions``: phone regions in order of preference; default REGIONS, reordered by script hints.
    ``home``: the region of the ad's language: a valid national reading there wins.
    """
    if regions is None:
        regions = _ordered_regions([text or ""], REGIONS)
    f = _Field(text or "", field, regions, home)
    if f.text:
        for step in (_links, _emails, _labelled, _bare_handles, _phones, _word_phones):
            step(f)
    return sorted(f.found, key=lambda c: (c.start, c.kind))


SHORT_FIELD_CHARS = 300  # a field this short (a company, a contact line, a title) is often the same on many ads


@functools.lru_cache(maxsize=4096)
def _short_field_contacts(text: str, field: str, regions: tuple[str, ...], home: str | None) -> tuple[Contact, ...]:
    """extract_from_text, remembered: the ads of one source repeat their company and contact lines (Contact is
    frozen, so the same objects can be handed out again)."""
    return tuple(extract_from_text(text, field, regions, home))


def extract_contacts(ad: Ad, regions: tuple[str, ...] | None = None, language: str | None = None) -> list[Contact]:
    """Every distinct contact point of ``ad`` (first occurrence of each kind+value). ``language``: the ad's
    language code; its country's region is tried first for numbers in national format (LANGUAGE_REGIONS)."""
    texts = {k: getattr(ad, k) for k in CONTACT_FIELDS if getattr(ad, k, "")}
    order = _ordered_regions(texts.values(), tuple(regions or REGIONS), language)
    seen: set[tuple[str, str]] = set()
    out: list[Contact] = []
    for name in AD_FIELDS:
        if name not in texts:
            continue
        text, home = texts[name], LANGUAGE_REGIONS.get(language or "")
        found = (_short_field_contacts(text, name, order, home) if len(text) <= SHORT_FIELD_CHARS
                 else extract_from_text(text, name, order, home))
        for c in found:
            if (c.kind, c.value) not in seen:
                seen.add((c.kind, c.value))
                out.append(c)
    return out
