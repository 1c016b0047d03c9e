"""Case-sensitive twins of IGNORECASE regexes, for text already lower-cased with `str.lower()`.

Under re.IGNORECASE, `re` cannot skip an alternative whose first letter differs without entering it, nor scan
ahead for a literal prefix, and it lower-cases every character it compares. On text that `str.lower()` made
(same length as the original), the twin finds the same matches: each cased character c of the pattern becomes
the class of c.lower() and the lower-case letters IGNORECASE equates with it (re._casefix: dotless ı for i, long ſ
for s, ...), inside character classes too. Group names, escapes, look-arounds and repeats are kept.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from re._casefix import _EXTRA_CASES

from .regex_store import module_regex, pattern_key

# stored twins are keyed by the original pattern and this module's code (a change here makes new ones)
_VERSION = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=6).hexdigest()

_GROUP_OPENERS = ("(?P<", "(?:", "(?=", "(?!", "(?<=", "(?<!")
_REPEAT = re.compile(r"\{\d*(?:,\d*)?\}")


def case_variants(ch: str) -> str | None:
    """What `ch` matches under IGNORECASE in lower-cased text (None: lower-casing changes its length)."""
    low = ch.lower()
    if len(low) != 1:
        return None
    return low + "".join(map(chr, _EXTRA_CASES.get(ord(low), ())))


def lower_source(src: str) -> str | None:
    """The twin of IGNORECASE pattern `src` (see the module doc), or None for a pattern this does not handle
    (inline flags, back-references by name, ranges of cased characters in a class)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            nxt = src[i + 1: i + 2]
            if nxt.isalpha() and nxt not in "bBdDsSwWAZ":
                return None  # \N{...}, \u..., \x..: not worth handling
            out.append(src[i: i + 2])
            i += 2
            continue
        if not in_class and ch == "(" and src.startswith("(?", i):
            opener = next((o for o in _GROUP_OPENERS if src.startswith(o, i)), None)
            if opener is None:
                return None  # inline flags, (?P=name), conditionals
            if opener == "(?P<":
                opener = src[i: src.index(">", i) + 1]
            out.append(opener)
            i += len(opener)
            continue
        repeat = _REPEAT.match(src, i) if not in_class and ch == "{" else None
        if repeat:
            out.append(repeat.group())  # {2}, {0,63}: digits only ("{dot}" is literal text, read on below)
            i = repeat.end()
            continue
        if in_class and ch == "-" and out and out[-1] not in ("[", "[^") and src[i + 1: i + 2] not in ("]", ""):
            lo, hi = src[i - 1], src[i + 1]
            if case_variants(lo) != lo or case_variants(hi) != hi or any(case_variants(chr(c)) != chr(c)
                                                                  for c in range(ord(lo), ord(hi) + 1)):
                return None  # a range of cased characters
            out.append("-")
            i += 1
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append("[^" if src.startswith("[^", i) else "[")
            i += 2 if src.startswith("[^", i) else 1
            if src[i: i + 1] == "]":
                out.append("]")  # a literal "]" first in a class
                i += 1
            continue
        if ch == "]" and in_class:
            in_class = False
            out.append("]")
            i += 1
            continue
        same = case_variants(ch)
        if same is None:
            return None
        if same == ch:
            out.append(ch)
        elif in_class:
            if src[i + 1: i + 2] == "-" or out[-1] == "-":
                return None  # a cased character at the end of a range
            out.append(same)
        else:
            out.append(f"[{same}]")
        i += 1
    if in_class:
        return None
    return "".join(out)


def stored_twin(regex: re.Pattern) -> re.Pattern:
    """The compiled twin of IGNORECASE `regex`, through the modules' regex store (building the twin's source
    costs more than reading it); `regex` itself recompiled when it has no twin."""
    def make() -> tuple[str, int]:
        src = lower_source(regex.pattern)
        return (regex.pattern, regex.flags) if src is None else (src, regex.flags & ~re.IGNORECASE)
    return module_regex(f"lower:{_VERSION}:" + pattern_key(regex.pattern, regex.flags), make)
