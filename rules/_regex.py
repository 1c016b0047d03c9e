"""Faster scanning for big alternations: `guarded(pattern)` compiles `pattern` behind a one-character
look-ahead listing every character a match can start with.

Python's `re` tries every alternative of `a|b|c|...` at every position of the text. With
`(?=[abc...])(?:a|b|c|...)` most positions fail on one character-class test. The look-ahead is zero
width and only skips positions where no alternative could start, so search / match / finditer return
exactly the same matches (same spans, groups and lastgroup). Patterns whose first character cannot be
worked out (".", negated classes, scoped flags, a possible empty match) are compiled unchanged.
"""
from __future__ import annotations

import re
from typing import Iterator

import re._constants as C
import re._parser as P

_CATEGORY_ESCAPES = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
}


def _class_item(op, av) -> str | None:
    if op is C.LITERAL:
        return re.escape(chr(av))
    if op is C.RANGE:
        return f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}"
    if op is C.CATEGORY:
        return _CATEGORY_ESCAPES.get(av)
    return None


def _first_of_sequence(items) -> tuple[set[str], bool] | None:
    """(class items any match of the sequence can start with, whether it can match empty), None = unknown."""
    out: set[str] = set()
    for op, av in items:
        found = _first_of_element(op, av)
        if found is None:
            return None
        chars, nullable = found
        out |= chars
        if not nullable:
            return out, False
    return out, True


def _first_of_element(op, av) -> tuple[set[str], bool] | None:
    if op is C.LITERAL:
        return {re.escape(chr(av))}, False
    if op is C.IN:
        items = set()
        for o, v in av:
            item = _class_item(o, v)
            if item is None:  # NEGATE and anything unusual
                return None
            items.add(item)
        return items, False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return set(), True  # zero width: the next element supplies the first character
    if op is C.SUBPATTERN:
        if av[1] or av[2]:  # scoped flags, e.g. (?i:...)
            return None
        return _first_of_sequence(av[-1])
    if op is C.BRANCH:
        out, nullable = set(), False
        for alt in av[1]:
            found = _first_of_sequence(alt)
            if found is None:
                return None
            out |= found[0]
            nullable = nullable or found[1]
        return out, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
        lo, _hi, sub = av
        found = _first_of_sequence(sub)
        if found is None:
            return None
        return found[0], found[1] or lo == 0
    return None


def first_char_class(pattern: str, flags: int = 0) -> str | None:
    """A character class every match of `pattern` starts with, or None when unknown."""
    try:
        found = _first_of_sequence(P.parse(pattern, flags))
    except (re.error, RecursionError):
        return None
    if found is None or found[1] or not found[0]:
        return None
    return "[" + "".join(sorted(found[0])) + "]"


def guarded(pattern: str, flags: int = 0) -> re.Pattern:
    """`re.compile(pattern, flags)`, with a first-character look-ahead when one can be worked out. Its code is
    kept between processes (rules/regex_store.py: the modules' big alternations cost ~0.1 s to compile)."""
    from .regex_store import module_regex, pattern_key

    def make() -> tuple[str, int]:
        first = first_char_class(pattern, flags)
        return (pattern if first is None else f"(?={first})(?:{pattern})"), flags

    return module_regex("guarded:" + pattern_key(pattern, flags), make)


def finditer_at(regex: re.Pattern, text: str, starts) -> Iterator[re.Match]:
    """What `regex.finditer(text)` yields when every match starts at one of `starts` (ascending) and none is empty:
    `match` tried only there, each after the end of the previous match (finditer resumes there)."""
    last_end = 0
    for pos in starts:
        if pos < last_end:
            continue
        m = regex.match(text, pos)
        if m:
            last_end = m.end()
            yield m
