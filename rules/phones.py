"""Phone numbers in ad text: where PhoneNumberMatcher may find one (windows of phone characters), which spans are
plausible (not a salary, code or year range), spelled-out numbers ("nine one seven ..."), E.164 parsing of a raw
number in the likely regions, and numbers written with a hub country's dialling code. rules/entities.py runs the
finders (_phones, _word_phones) over each field with its other contact finders.

Example: hub_country_number(Contact("phone", "+85512345678", "+855 12 345 678", "contact", 0, 15)) -> ("KH", 0.5)
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from ._regex import guarded
from .model import Contact

if TYPE_CHECKING:
    from .entities import _Field

# ---- spans that are not phones ------------------------------------------------------------------------------
_DIGIT_RUN = guarded(r"\+?\(?\d[\d\s().\-/]{5,}\d")  # a look-ahead skips non-digit positions fast
_BEFORE_NOT_PHONE = re.compile(
    r"(?:\b(?:id|ref|reference|no|nr|number of|code|job|post|postal|zip|postcode|salary|gaji|lương|luong|"
    r"php|usd|(?<!contact |message )(?<!call |text |with |join )(?<!whatsapp )(?<!email )(?<!reach )us|rm|myr|thb|baht|vnd|rp|idr|inr|rs|kes|ksh|ngn|brl|rmb|cny)|[#$₱฿¥€£₫₹]|编号|工资|月薪)"
    r"\s*[:：#.]?\s*$",
    re.I,
)
_AFTER_NOT_PHONE = re.compile(
    r"^\s*(?:usd|php|thb|baht|rm\b|myr|vnd|đ|rp|idr|inr|kes|ngn|brl|rmb|元|万|บาท|pesos?|dollars?|\$|/\s*(?:month|mo|day|hr)"
    r"|per\b|a month|k\b|tr\b|triệu)",
    re.I,
)
# an upper-case code with a number segment glued to the digits that follow (DMW-123-LB-, POEA-091-)
_CODE_BEFORE = re.compile(r"\b[A-Z]{2,}-\d+-(?:[A-Z]{1,4}-)?$")
_WORD_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_WORD_RUN = re.compile(
    r"\b(?:(?:plus)[\s,\-]+)?(?:(?:double|triple|zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    r"(?:[\s,\-]+|$)){6,}",
    re.I,
)


@lru_cache(maxsize=4096)
def _parse_phone(raw: str, regions: tuple[str, ...]) -> str | None:
    """E.164 of ``raw`` if it is a valid number in one of ``regions`` (or international)."""
    digits = re.sub(r"[^\d+]", "", raw)
    if len(digits.lstrip("+")) < 7:
        return None
    tries = [None] if digits.startswith("+") else list(regions)
    if not digits.startswith("+") and len(digits) >= 10 and not digits.startswith("0"):
        tries.insert(0, None)  # wa.me/639171234567: country code without the plus
        digits_plus = "+" + digits
    else:
        digits_plus = digits
    for region in tries:
        try:
            num = phonenumbers.parse(digits_plus if region is None else digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            return phonenumbers.format_number(num, PhoneNumberFormat.E164)
    return None


def _plausible_phone_span(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    if not raw.startswith("+") and len(re.sub(r"\D", "", raw)) < 8:
        return False
    if _BEFORE_NOT_PHONE.search(text[max(0, start - 16): start]):
        return False
    if _AFTER_NOT_PHONE.match(text[end: end + 12]):
        return False
    if _CODE_BEFORE.search(text[max(0, start - 24): start]):
        return False  # the tail of a licence or reference code: DMW-123-LB-0420-2026
    if re.fullmatch(r"\(?(?:19|20)\d\d\)?\s*[-–/]\s*\(?(?:19|20)\d\d\)?", raw.strip()):
        return False  # 2019-2024
    return True


def _grouping_matches(raw: str, number: phonenumbers.PhoneNumber) -> bool:
    """The digits of ``raw`` are grouped as that region writes its numbers ("(415) 555-2671")."""
    groups = re.findall(r"\d+", raw)
    fmt = PhoneNumberFormat.INTERNATIONAL if raw.lstrip().startswith("+") else PhoneNumberFormat.NATIONAL
    return groups == re.findall(r"\d+", phonenumbers.format_number(number, fmt))


# PhoneNumberMatcher over a whole ad costs ~3 ms: 14 regions x (a Unicode regex scan of every character +
# parsing every digit group). A candidate only ever holds characters its pattern names (digits, phone
# punctuation, "+(", extension words such as "ext"/"anexo"), so the matcher runs only on maximal runs of
# those characters that hold enough digits, each with the one character of context it reads on either
# side. The result is exactly that of the whole text (tests/test_entities_windows.py checks it).
_DIGITS = re.compile(r"\d+")  # Unicode digits, as the matcher's \d
# A run can only yield a plausible phone (see _plausible_phone_span) with 8+ digits, or with a "+" and
# 5+ digits (country code + the shortest national number, 4 digits, in phonenumbers' metadata).
_MIN_DIGITS, _MIN_DIGITS_PLUS = 8, 5


def _matcher_char_class() -> re.Pattern | None:
    """`[...]*` over every character phonenumbers' candidate pattern can match, or None if unknown."""
    import re._constants as C
    import re._parser as P

    from phonenumbers import phonenumbermatcher

    pattern = getattr(phonenumbermatcher, "_PATTERN", None)
    if pattern is None:
        return None
    parts: set[str] = set()

    def walk(items) -> bool:
        for op, av in items:
            if op is C.LITERAL:
                parts.add(re.escape(chr(av)))
            elif op is C.IN:
                for o, v in av:
                    if o is C.LITERAL:
                        parts.add(re.escape(chr(v)))
                    elif o is C.RANGE:
                        parts.add(f"{re.escape(chr(v[0]))}-{re.escape(chr(v[1]))}")
                    elif o is C.CATEGORY and v is C.CATEGORY_DIGIT:
                        parts.add(r"\d")
                    else:
                        return False  # a negated class or another category: no safe set
            elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
                parts.add(r"\d")
            elif op is C.SUBPATTERN:
                if not walk(av[-1]):
                    return False
            elif op is C.BRANCH:
                if not all(walk(alt) for alt in av[1]):
                    return False
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                if not walk(av[2]):
                    return False
            elif op is not C.AT:
                return False  # ANY, NOT_LITERAL, lookarounds...: no safe set
        return True

    try:
        ok = walk(P.parse(pattern.pattern, pattern.flags))
    except Exception:  # a future phonenumbers with another pattern: read whole texts
        return None
    return re.compile("[" + "".join(sorted(parts)) + "]*", pattern.flags) if ok else None


_MATCHER_RUN = _matcher_char_class()


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """(start, end) slices of `text` in which PhoneNumberMatcher may find a plausible phone."""
    if _MATCHER_RUN is None:
        return [(0, len(text))]
    windows: list[tuple[int, int]] = []
    n, covered, rev = len(text), -1, None
    for m in _DIGITS.finditer(text):
        if m.start() < covered:
            continue
        if rev is None:
            rev = text[::-1]
        left = m.start() - (_MATCHER_RUN.match(rev, n - m.start()).end() - (n - m.start()))
        right = _MATCHER_RUN.match(text, m.end()).end()
        covered = right
        run = text[left:right]
        if run.count("(") > run.count(")") and run.rindex("(") > m.end() - left:
            # "+63 (917) 123 4567 (24h)": a bracket opened after the number and not closed here is not part of
            # it; read with it, the number is invalid and only its national tail was found
            right = left + run.rindex("(")
            run = text[left:right]
        digits = sum(len(d) for d in _DIGITS.findall(run))
        if digits >= _MIN_DIGITS or (digits >= _MIN_DIGITS_PLUS and "+" in run):
            windows.append((max(0, left - 1), min(n, right + 1)))
    return windows


def _phones(f: _Field) -> None:
    if not any(f.free(m.start(), m.end()) for m in _DIGIT_RUN.finditer(f.text)):
        return
    windows = _phone_windows(f.text)
    # every region's reading of every span; a span keeps the home region's reading (the ad's language), else the
    # first region whose grouping fits, else the first region at all (regions are in order of likelihood)
    readings: dict[tuple[int, int], list[tuple[bool, int, str]]] = {}
    for rank, region in enumerate(f.regions):
        for w_start, w_end in windows:
            for pm in PhoneNumberMatcher(f.text[w_start:w_end], region, leniency=Leniency.VALID):
                _phone_reading(f, readings, rank, w_start, pm)
    for (start, end), options in sorted(readings.items()):
        if f.free(start, end):
            f.add("phone", min(options)[-1], start, end)


def _phone_reading(f: _Field, readings: dict, rank: int, offset: int, pm: phonenumbers.PhoneNumberMatch) -> None:
    span = (offset + pm.start, offset + pm.end)
    if not f.free(*span) or not _plausible_phone_span(f.text, *span):
        return
    e164 = phonenumbers.format_number(pm.number, PhoneNumberFormat.E164)
    home = f.home is not None and f.regions[rank] == f.home
    readings.setdefault(span, []).append((not home, not _grouping_matches(pm.raw_string, pm.number), rank, e164))


_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh")


def _word_phones(f: _Field) -> None:
    if sum(f.low.count(w) for w in _DIGIT_WORDS) < 6:  # cheap: a spelled number needs 6+ digit words
        return
    for m in _WORD_RUN.finditer(f.text):
        start, end = m.start(), m.end()
        raw = m.group(0).rstrip(" ,-\n\t")
        end = start + len(raw)
        if not f.free(start, end):
            continue
        tokens = re.findall(r"[a-z]+", raw.lower())
        digits, repeat = "", 1
        plus = tokens[:1] == ["plus"]
        for tok in tokens[1:] if plus else tokens:
            if tok == "double":
                repeat = 2
            elif tok == "triple":
                repeat = 3
            else:
                digits += _WORD_DIGITS[tok] * repeat
                repeat = 1
        if len(digits) < 8:
            continue
        phone = _parse_phone(("+" if plus else "") + digits, f.regions)
        if phone:
            f.add("phone", phone, start, end)


# Regions of the hub countries: a contact number written with one of their country codes (+855, 00856,
# wa.me/95...) is evidence of where the recruiter is. (weight, languages in which it is a domestic number).
# The Philippines, Malaysia and the UAE are left out: recruits come from there or go there for ordinary jobs
# (see rules/places.py HUB_COUNTRIES).
HUB_PHONE_REGIONS = {
    "KH": (0.5, ("km",)),
    "MM": (0.5, ("my",)),
    "LA": (0.5, ("lo",)),
    "TH": (0.3, ("th",)),
}


def hub_country_number(contact: Contact, language: str | None = None) -> tuple[str, float] | None:
    """(region, weight) when `contact` is a number written with a hub country's dialling code, else None. A
    number in national format (its region guessed from the ad) or in the ad's own language's country is not."""
    if not contact.value.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(contact.value)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    hub = HUB_PHONE_REGIONS.get(region or "")
    if hub is None or language in hub[1]:
        return None
    digits = re.sub(r"\D", "", contact.raw or "")
    written = digits[2:] if digits.startswith("00") else digits
    if not written.startswith(str(number.country_code)) or digits.startswith("0") and not digits.startswith("00"):
        return None  # national format: the region is our guess, not the recruiter's
    return region, hub[0]
