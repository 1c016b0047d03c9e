"""Pay written in words -> digits, so rules/salary.py reads it like any amount: "fifteen thousand dollars",
"dos mil dólares", "quinze mil reais", "quinze mille dollars", "lima belas juta", "labinlimang libo",
"mười lăm triệu", "หนึ่งหมื่นห้าพันบาท", "一万五", "एक लाख" (a lakh alone before a currency word too: "లక్ష రూపాయలు"),
"dubu ɗari", "ẹgbẹrun lọna ọgọrun", "ዓሰርተ ሽሕ".

`spell_numbers(text)` returns None when `text` has no amount in words (the usual case, one regex search), else
the text with each amount replaced by digits and a map back to the original offsets (`Spelled.remap`).
Only phrases with a thousand-or-more word are amounts (a lone "one" or "dua" is not pay). The number words
are data (NUMBER_WORDS below): word -> (value, kind); kinds:
  u  a value added on ("twenty", "five", "quinze", "mười");      h  x100 of what precedes ("hundred", "ratus")
  t  x10 of what precedes ("puluh", "mươi");  b  +10 ("belas");  p  a place (Thai/Chinese 十 百 千 หมื่น)
  s  a scale that closes a group ("thousand", "mil", "ribu", "juta", "triệu", 万, ล้าน)
  x  a scale written before its multiplier (Swahili "elfu mbili", Hausa "dubu biyu"): x times the units after it,
     or times a smaller x right after it ("elfu mia moja", "dubu ɗari", Yoruba "ẹgbẹrun lọna ọgọrun" = 100,000)
A scale word that implies a currency (juta, triệu, 万, ล้าน, หมื่น, lakh) is kept after the digits.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ._hintscan import HintScan
from ._lowertwin import case_variants
from ._regex import finditer_at, first_char_class
from .numwords_tables import (_BARE_BEFORE_CURRENCY, _BIG, _FOLD, _KEEP_SCALE, _LATIN, _NOSPACE, _ONE_ALONE,  # noqa: F401
                               _VI_EXACT, INDIC_CRORE, INDIC_LAKH, NUMBER_WORDS)
from .regex_store import stored_compile


# str.translate looks every character of a non-ASCII text up in the table (a failed dict lookup each: ~0.2 ms for
# an 800-character Thai or Chinese ad); only the few characters _FOLD maps are replaced instead, when present
_FOLD_CHARS = re.compile("[" + "".join(map(chr, _FOLD)) + "]")
_FOLD_STR = {chr(k): "" if v is None else v if isinstance(v, str) else chr(v) for k, v in _FOLD.items()}


def _fold(word: str) -> str:
    """`word` lower-cased, Vietnamese letters without their marks (`.lower().translate(_FOLD)`)."""
    low = word.lower()
    if low.isascii() or not _FOLD_CHARS.search(low):
        return low
    return _FOLD_CHARS.sub(lambda m: _FOLD_STR[m.group()], low)


def _latin_alt() -> str:
    words = sorted(_LATIN, key=len, reverse=True)  # matched on folded text (see spell_numbers)
    return "|".join(re.escape(w) for w in words)


def _same_letters(ch: str) -> str:
    """`ch` (lower case) and the lower-case letters re.IGNORECASE also matches it to (dotless ı for i, long ſ for s)."""
    return case_variants(ch) or ch


def _lower_case_alt(words) -> str | None:
    """An alternation of `words` (lower case) without IGNORECASE that matches in lower-cased text what their
    IGNORECASE alternation matches, or None when a word has an upper-case letter. Every alternative starts with
    a plain letter (one alternative per variant of the first letter, in place), which lets `re` skip the
    alternatives whose first letter differs without entering them, as it cannot under IGNORECASE."""
    out = []
    for word in words:
        if not word or word != word.lower():
            return None
        body = "".join(f"[{''.join(same)}]" if len(same := _same_letters(c)) > 1 else re.escape(c) for c in word[1:])
        out.extend(re.escape(first) + body for first in _same_letters(word[0]))
    return "|".join(out)


_LATIN_WORD = rf"(?:{_latin_alt()})"
_NOSPACE_WORD = "(?:" + "|".join(sorted(map(re.escape, _NOSPACE), key=len, reverse=True)) + ")"
_JOIN_WORDS = ("and", "y", "e", "et", "dan", "at", "va", "linh", "le", "и", "na", "da", "lona")
_JOIN = rf"(?:[\s-]+(?:{'|'.join(_JOIN_WORDS)})[\s-]+|[\s-]+)"
# Indic vowel signs and viramas are not \\w: without them at its edges "लाख" would match inside "लाखों" (lakhs)
_INDIC_MARKS = "".join(c for c in map(chr, range(0x0900, 0x0E00)) if unicodedata.category(c) in ("Mn", "Mc"))
_PHRASE_TEMPLATE = r"(?<![\w\-" + _INDIC_MARKS + r"])(?:{word})(?:{join}(?:{word}))*(?![\w\-" + _INDIC_MARKS + r"])|{nospace}+"


def _first_char_guarded(pattern: str, flags: int = 0) -> str:
    """`pattern` behind a look-ahead for the characters a match can start with (rules/_regex.py): the scan skips
    most positions on one class test instead of walking hundreds of word alternatives."""
    first = first_char_class(pattern, flags)
    return pattern if first is None else f"(?={first})(?:{pattern})"


_PHRASE = stored_compile(_first_char_guarded(
    _PHRASE_TEMPLATE.format(word=_LATIN_WORD, join=_JOIN, nospace=_NOSPACE_WORD), re.IGNORECASE), re.IGNORECASE)


def _phrase_lower() -> re.Pattern | None:
    """_PHRASE for lower-cased text, without IGNORECASE (several times faster: see _lower_case_alt)."""
    word = _lower_case_alt(sorted(_LATIN, key=len, reverse=True))
    join = _lower_case_alt(_JOIN_WORDS)
    if word is None or join is None or _NOSPACE_WORD != _NOSPACE_WORD.lower():
        return None
    return stored_compile(_first_char_guarded(_PHRASE_TEMPLATE.format(
        word=f"(?:{word})", join=rf"(?:[\s-]+(?:{join})[\s-]+|[\s-]+)", nospace=_NOSPACE_WORD)))


_PHRASE_LOWER = _phrase_lower()  # the same matches as _PHRASE on `_fold`ed (lower-case) text
# cheap test first: a thousand-or-more word anywhere
# "8 mil reais", "2 mil dólares": in Spanish and Portuguese "mil" after digits is a thousand (salary.py reads a
# bare "mil" as a million, as in English "$2 mil"); only before a currency word of those markets
_DIGITS_MIL = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?) mil (?=(?:reais|real|r\$|dolares|pesos|euros|soles|"
                         r"meticais|kwanzas|bolivianos|quetzales)\b)")
_CUT_AFTER = re.compile(r"\b(?:juta|sejuta|trieu)\b")
_SCALE_HINT = re.compile(r"thousand|million|\bmil\b|mille|milh|millon|ribu|juta|\blibo|milyon|ngh|ngàn|ngan|"
                         r"triệu|trieu|тысяч|миллион|миң|мың|ming|минг|hazor|ҳазор|elfu|laki|dubu|egberun|milionu|ሽሕ|ሚልዮን|"
                         r"千|万|萬|พัน|หมื่น|แสน|ล้าน", re.IGNORECASE)
# a lakh or crore not after digits ("एक लाख", "లక్ష రూపాయలు"; "2 लाख" is read by rules/salary.py as it is): a
# second hint, so that the many ads with "2 lakh" skip the phrase scan
_INDIC_SCALE = re.compile("|".join(INDIC_LAKH + INDIC_CRORE))  # plain words first: `re` scans for their letters


def _bare_scale_hint(folded: str) -> bool:
    return any(not re.search(r"[\d.,] ?$", folded[max(0, m.start() - 2):m.start()])
               for m in _INDIC_SCALE.finditer(folded))


def case_sensitive_hint(hint: re.Pattern) -> re.Pattern | None:
    """A regex without IGNORECASE that finds what `hint` (an IGNORECASE alternation of plain words, each maybe
    between \\b) finds in lower-cased text, or None for any other pattern. Each alternative starts with a plain
    letter (a leading \\b becomes a lookbehind after the word), so `re` scans only for those letters instead of
    trying every alternative at every position (ten times faster on a 900-character ad)."""
    out = []
    for alt in hint.pattern.split("|"):
        lead, trail = alt.startswith(r"\b"), alt.endswith(r"\b")
        word = alt[2 if lead else 0: len(alt) - 2 if trail else len(alt)]
        if not word or re.escape(word) != word or word != word.lower() or (lead and not word[0].isalnum()):
            return None  # not a plain word: keep the IGNORECASE scan
        body = "".join(f"[{''.join(same)}]" if len(same := _same_letters(c)) > 1 else c for c in word[1:])
        for first in _same_letters(word[0]):
            literal = first + body
            out.append(literal + (rf"(?<!\w{literal})" if lead else "") + (r"\b" if trail else ""))
    return stored_compile("|".join(out))


_SCALE_HINT_LOWER = case_sensitive_hint(_SCALE_HINT)  # the same search on `_fold`ed (lower-case) text
# the same answer again, from the places its words' literal starts occur (one Aho-Corasick pass, ~2.5x faster)
_SCALE_HINT_SCAN = HintScan(_SCALE_HINT_LOWER.pattern) if _SCALE_HINT_LOWER is not None else None


def _phrase_starts() -> tuple[Any, frozenset[str]] | None:
    """(automaton of the number words, the letters `re.IGNORECASE` also takes for theirs): where a _PHRASE_LOWER
    match can start in folded text without those letters, found in one pass (see `_phrases`)."""
    if _PHRASE_LOWER is None:
        return None
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in (*_LATIN, *_NOSPACE):
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    variants = frozenset(v for word in _LATIN for c in word for v in _same_letters(c) if v != c)
    return automaton, variants


_PHRASE_STARTS = _phrase_starts()


def _phrases(folded: str):
    """What (_PHRASE_LOWER or _PHRASE).finditer(folded) yields. Every match starts where a number word does: with
    none of the case-variant letters in the text, it is tried only there (the scan tried the whole alternation at
    every position: ~200 microseconds on a 900-character ad)."""
    regex = _PHRASE_LOWER or _PHRASE
    if _PHRASE_STARTS is None or not _PHRASE_STARTS[1].isdisjoint(folded):
        yield from regex.finditer(folded)
        return
    yield from finditer_at(regex, folded, sorted({end - size + 1 for end, size in _PHRASE_STARTS[0].iter(folded)}))


def _tokens(phrase: str) -> list[tuple[float, str, str]]:
    """(value, kind, word) per number word of a phrase that _PHRASE matched."""
    if re.match(_NOSPACE_WORD, phrase):
        return [(*_NOSPACE[t], t) for t in re.findall(_NOSPACE_WORD, phrase)]
    out = []
    words = phrase.split()
    i = 0
    while i < len(words):
        two = f"{words[i]} {words[i + 1]}".lower() if i + 1 < len(words) else ""
        if two in _LATIN:  # "apat na"
            out.append((*_LATIN[two], two))
            i += 2
            continue
        low = words[i].lower()
        key = low if low in _VI_EXACT or low in _LATIN else _fold(low)
        entry = _VI_EXACT.get(low) or _LATIN.get(key)
        if entry is not None:
            out.append((*entry, key))
        else:  # "vinte-e-cinco", "lima-belas": parts joined by hyphens
            out.extend((*_LATIN[_fold(p)], _fold(p)) for p in low.split("-") if _fold(p) in _LATIN)
        i += 1
    return out


def _value(tokens: list[tuple[float, str, str]]) -> float:
    if any(kind == "x" for _, kind, _ in tokens):
        return _value_scale_first(tokens)
    total = section = pending = 0.0
    for value, kind, _ in tokens:
        if kind == "u":
            pending += value
        elif kind == "t":
            pending = (pending or 1) * value
        elif kind == "b":
            pending += value
        elif kind == "h":
            section += (pending or 1) * value
            pending = 0
        elif kind == "p":
            section += (pending or 1) * value
            pending = 0
        else:  # scale
            total += ((section + pending) or 1) * value
            section = pending = 0
    if pending and pending < 10 and tokens[-1][1] == "u" and len(tokens) > 1:
        before = tokens[-2]
        if before[1] in ("p", "s") and before[2] in _NOSPACE:  # 一万五 = 15,000, หมื่นห้า = 15,000
            return total + section + pending * before[0] / 10
    return total + section + pending


def _value_scale_first(tokens: list[tuple[float, str, str]]) -> float:
    """"elfu moja na mia nane" = 1000 x 1 + 100 x 8; "laki moja" = 100,000; units before any scale add on."""
    total = units = 0.0
    scale = 1.0
    for i, (value, kind, _) in enumerate(tokens):
        if kind == "x" and units == 0 and 1 < value < scale:
            # a smaller scale right after a bigger one counts how many of it: "elfu mia moja" = 1,000 x 100,
            # "dubu ɗari" = 1,000 x 100, "ẹgbẹrun lọna ọgọrun" = 1,000 x 100
            return total + scale * _value_scale_first(tokens[i:])
        if kind == "x":
            total += scale * (units or (1 if scale > 1 else 0))
            scale, units = value, 0.0
        elif kind in ("u", "t", "b"):
            units += value
    return total + scale * (units or (1 if scale > 1 else 0))


@dataclass
class Spelled:
    """`text` with amounts in digits; `starts[i]` / `ends[i]`: the original offset of position i as a start /
    as an exclusive end."""

    text: str
    starts: list[int]
    ends: list[int]

    def remap(self, salaries: list[Any], original: str) -> list[Any]:
        out = []
        for s in salaries:
            a, b = self.starts[s.start], self.ends[s.end]
            out.append(dataclasses.replace(s, text=original[a:b], start=a, end=b))
        return out


def _digits(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _one_alone(word: str, folded: str, start: int, end: int) -> bool:
    """Whether a scale word alone is one of it: "sejuta"; a lakh or crore right before a currency word
    ("లక్ష రూపాయలు", "लाख रुपये") and after no digit ("2 लाख" is read by rules/salary.py as it is)."""
    if re.search(r"\d[\d.,]*\s*$", folded[max(0, start - 12):start]):
        return False
    if word in _ONE_ALONE:
        return True
    if word not in _BARE_BEFORE_CURRENCY:
        return False
    from .salary import currency_at  # salary.py imports this module: imported when first needed
    return currency_at(folded, end)


def spell_numbers(text: str) -> Spelled | None:
    """`text` with every amount written in words (a phrase with a thousand-or-more word) in digits, or None
    when there is none."""
    if not text:
        return None
    folded = _fold(text)  # one character for one: offsets stay those of `text`
    if len(folded) != len(text) or not ((_SCALE_HINT_SCAN.found(folded) if _SCALE_HINT_SCAN is not None
                                         else _SCALE_HINT.search(folded)) or _bare_scale_hint(folded)):
        return None
    pieces: list[tuple[int, int, str]] = []
    for m in _phrases(folded):
        start, end = m.span()
        cut = _CUT_AFTER.search(folded, start, end)
        if cut:  # "mười lăm triệu | một tháng": what follows a currency-implying scale is another number
            end = cut.end()
        tokens = _tokens(text[start:end])
        if not tokens or max(v for v, _, _ in tokens) < _BIG:
            continue
        if len(tokens) == 1 and not _one_alone(tokens[0][2], folded, start, end):
            continue  # one word alone ("mil", "thousand") is no amount
        if len(tokens) > 1 and all(kind == "s" for _, kind, _ in tokens):
            continue
        last = tokens[-1]
        if last[1] == "s" and last[2] in _KEEP_SCALE:  # "15 juta", "15 triệu", "1.5万": the word implies the currency
            value = _value(tokens[:-1]) if len(tokens) > 1 else 1.0
            word = {"sejuta": "juta", "ලක්ෂයක්": "ලක්ෂ"}.get(last[2], last[2])
            replacement = _digits(value) + ("" if word in _NOSPACE else " ") + word
        else:
            replacement = _digits(_value(tokens))
        pieces.append((start, end, replacement))
    for m in _DIGITS_MIL.finditer(folded):
        if not any(a < m.end() and m.start() < b for a, b, _ in pieces):
            pieces.append((m.start(), m.end() - 1, _digits(float(m.group(1).replace(",", ".")) * 1e3)))
    if not pieces:
        return None
    pieces.sort()
    out, starts, ends, pos = [], [], [0], 0
    for a, b, rep in pieces:
        for k in range(pos, a):
            out.append(text[k])
            starts.append(k)
            ends.append(k + 1)
        for _ in rep:
            starts.append(a)
            ends.append(b)
        out.append(rep)
        pos = b
    for k in range(pos, len(text)):
        out.append(text[k])
        starts.append(k)
        ends.append(k + 1)
    starts.append(len(text))
    return Spelled("".join(out), starts, ends)
