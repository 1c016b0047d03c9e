"""Rule patterns that can backtrack catastrophically (ReDoS), found by looking at the parsed regex.

Python's `re` backtracks: `(a+)+$`, `(\\w+\\s?)+$` or `(a|a)*$` take exponential time on a text that
almost matches, and an ad is attacker-written text. A repeat whose body can match one string in several
ways is flagged:

- a nested quantifier: inside a repeated group, a repeat whose characters can also start what follows it
  in the group (through optional parts, or the group's next round): `(a+)+`, `(\\w+\\s?)+`, `(?:\\d+,?)*`;
  `(?:\\w+ ){0,2}` is fine (the space ends each word);
- ambiguous alternatives in a repeated group: the same alternative twice (`(a|a)*`), two that match
  nothing, or two single characters that overlap (`(.|\\s)*`).

Character sets are compared on a sample of characters (ASCII and a few of each script the rules use), so
the check is a lint, not a proof. No Scrapy here.
"""
from __future__ import annotations

import re
import re._constants as C
import re._parser as P

REPEATS = tuple(op for op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)) if op)
ANY = None  # a character set we cannot (or need not) work out: overlaps everything
_SAMPLE = ("".join(map(chr, range(32, 127))) + "\t\n\r\x0b\x0c\u00a0\u3000éñüßøçàỳđ"
           "กขคงนมยไ។កខគងនមយ中国人工作的ထကခဂงاب한국어日本ーぁアДдЖжΩω0١२๓")
_CATEGORY = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
             C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}


_CLASS_CACHE: dict[tuple, frozenset[str] | None] = {}


def _chars_of_class(op, av) -> frozenset[str] | None:
    """Sample characters one class element matches (memoised)."""
    key = (op, av if not isinstance(av, list) else tuple(av))
    try:
        return _CLASS_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable element: work it out each time
        return _class_chars(op, av)
    out = _CLASS_CACHE[key] = _class_chars(op, av)
    return out


def _class_chars(op, av) -> frozenset[str] | None:
    if op is C.LITERAL:
        return frozenset(chr(av).casefold() + chr(av).upper() + chr(av))
    if op is C.NOT_LITERAL or op is C.ANY:
        return ANY
    if op is C.RANGE:
        lo, hi = av
        return frozenset(c for c in _SAMPLE + chr(lo) + chr(hi) if lo <= ord(c) <= hi)
    if op is C.CATEGORY and av in _CATEGORY:
        rx = re.compile(_CATEGORY[av])
        return frozenset(c for c in _SAMPLE if rx.match(c))
    if op is C.IN:
        if av and av[0][0] is C.NEGATE:
            return ANY
        out: set[str] = set()
        for o, v in av:
            part = _chars_of_class(o, v)
            if part is ANY:
                return ANY
            out |= part
        return frozenset(out)
    return ANY


def _union(a, b):
    return ANY if a is ANY or b is ANY else a | b


def _overlap(a, b) -> bool:
    """Whether two character sets share a character (ANY shares one with any non-empty set)."""
    if a is ANY:
        return b is ANY or bool(b)
    if b is ANY:
        return bool(a)
    return bool(a & b)


def _first(seq) -> tuple[frozenset[str] | None, bool]:
    """(characters a match of `seq` can start with, whether `seq` can match the empty string)."""
    out: frozenset[str] | None = frozenset()
    for op, av in seq:
        chars, nullable = _first_item(op, av)
        out = _union(out, chars)
        if not nullable:
            return out, False
    return out, True


def _first_item(op, av):
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return frozenset(), True
    if op is C.SUBPATTERN:
        return _first(av[-1])
    if op is C.BRANCH:
        out, nullable = frozenset(), False
        for alt in av[1]:
            chars, empty = _first(alt)
            out, nullable = _union(out, chars), nullable or empty
        return out, nullable
    if op in REPEATS:
        chars, nullable = _first(av[2])
        return chars, nullable or av[0] == 0
    if op is C.GROUPREF or op is C.GROUPREF_EXISTS:
        return ANY, True
    return _chars_of_class(op, av), False


def _all_chars(seq):
    """Every character a match of `seq` can contain."""
    out: frozenset[str] | None = frozenset()
    for op, av in seq:
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        if op is C.SUBPATTERN:
            out = _union(out, _all_chars(av[-1]))
        elif op is C.BRANCH:
            for alt in av[1]:
                out = _union(out, _all_chars(alt))
        elif op in REPEATS:
            out = _union(out, _all_chars(av[2]))
        else:
            out = _union(out, _chars_of_class(op, av))
        if out is ANY:
            return ANY
    return out


def _ambiguous(seq, follow) -> str | None:
    """Inside a repeated group: a repeat in `seq` whose characters can also start what follows it."""
    items = list(seq)
    for i, (op, av) in enumerate(items):
        after, nullable = _first(items[i + 1:])
        item_follow = _union(after, follow) if nullable else after
        if op is C.SUBPATTERN:
            found = _ambiguous(av[-1], item_follow)
        elif op is C.BRANCH:
            found = next((f for alt in av[1] if (f := _ambiguous(alt, item_follow))), None)
        elif op in REPEATS and av[1] > 1:
            chars = _all_chars(av[2])
            found = "nested quantifier" if _overlap(chars, item_follow) else _ambiguous(av[2], _first(av[2])[0])
        else:
            found = None
        if found:
            return found
    return None


def _overlapping_alternatives(seq) -> bool:
    for op, av in seq:
        if op is C.SUBPATTERN:
            if _overlapping_alternatives(av[-1]):
                return True
        elif op is C.BRANCH:
            alts = [(str(list(alt)), *_first(alt), _width(alt)) for alt in av[1]]
            if sum(nullable for _, _, nullable, _ in alts) > 1:
                return True  # two ways to match nothing: (a|a) parses as a(?:|)
            for i, (text_a, a, _, wa) in enumerate(alts):
                for text_b, b, _, wb in alts[i + 1:]:
                    if text_a == text_b or (wa == wb == (1, 1) and _overlap(a, b)):
                        return True
    return False


def _width(seq) -> tuple[int, int]:
    try:
        return P.SubPattern(P.State(), list(seq)).getwidth()
    except Exception:  # an unusual tree: treat as variable width
        return (0, C.MAXREPEAT)


def _walk(seq) -> str | None:
    for op, av in seq:
        if op in REPEATS:
            body = av[2]
            if av[1] > 1:
                if _ambiguous(body, _first(body)[0]):
                    return "nested quantifier"
                if _overlapping_alternatives(body):
                    return "overlapping alternatives"
            found = _walk(body)
        elif op is C.SUBPATTERN:
            found = _walk(av[-1])
        elif op is C.BRANCH:
            found = next((f for alt in av[1] if (f := _walk(alt))), None)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            found = _walk(av[1])
        else:
            found = None
        if found:
            return found
    return None


def backtracking_risk(parsed: P.SubPattern) -> str | None:
    """Why a parsed pattern can backtrack catastrophically, or None."""
    try:
        kind = _walk(parsed)
    except RecursionError:
        return "pattern nested too deeply to check"
    if kind is None:
        return None
    return (f"{kind}: can backtrack catastrophically on a long near-match (rewrite so each character can be "
            "matched only one way, e.g. (a+)+ -> a+, (\\w+\\s?)+ -> \\w+(?:\\s\\w+)*)")
