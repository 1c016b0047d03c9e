"""What a rule branch's regex says about where and on what text it can match, read from its parse tree.

`split_branches` cuts a pattern into its top-level alternatives; `branch_triggers` finds the literal words a
match must start with (rules/_prefilter.py tries a branch only where one occurs); `required_literals`,
`starts_a_line` and `starts_at_a_number` let branches without such a word skip most of a text; `filter_tree`
joins branches into one filter regex from their memoised parse trees (`parse_cached`).
"""
from __future__ import annotations

import re

import re._constants as C
import re._compiler as _compiler
import re._parser as P

import _sre

MAX_PREFIX = 24
MAX_TRIGGERS_PER_BRANCH = 200
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def split_branches(pattern: str) -> list[str]:
    """Top-level alternatives of a regex (respecting groups, classes and escapes)."""
    out, cur, depth, in_class, i = [], [], 0, False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            cur.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]" and not (cur and cur[-1] in ("[", "[^")):
                in_class = False
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                cur.append("[^")
                i += 2
                continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


_END = "\x00"  # marks "the literal text stops here (something non-literal follows)"


def _prefixes(items: list, budget: int) -> set[str]:
    """Literal strings every match of `items` starts with; a trailing _END means the literal run was cut."""
    if not items:
        return {""}
    if budget <= 0:
        return {_END}
    op, av = items[0]
    rest = list(items[1:])
    if op is C.AT:
        return _prefixes(rest, budget)
    if op is C.ASSERT_NOT or (op is C.ASSERT and av[0] < 0):
        return _prefixes(rest, budget)  # zero width; the full regex checks it
    if op is C.LITERAL:
        ch = chr(av)
        have = MAX_PREFIX - budget  # characters collected so far
        if have and (ch not in _WORD_CHARS or (not ch.isascii() and have >= 3)):
            return {ch}  # the first word is complete: enough to trigger on
        return {ch + s for s in _prefixes(rest, budget - 1)}
    if op is C.SUBPATTERN:
        return _prefixes(list(av[-1]) + rest, budget)
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            out |= _prefixes(list(alt) + rest, budget)
        return out
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, hi, sub = av
        if lo == 0 and hi == 1:
            return _prefixes(list(sub) + rest, budget) | _prefixes(rest, budget)
        if lo >= 1:
            return {s if s.endswith(_END) else s + _END for s in _prefixes(list(sub), budget)}
        return {_END}
    if op is C.IN:
        chars = []
        for o, v in av:
            if o is C.LITERAL:
                chars.append(v)
            elif o is C.RANGE and v[1] - v[0] < 10:
                chars.extend(range(v[0], v[1] + 1))
            else:
                return {_END}
        if 0 < len(chars) <= 10:
            tails = _prefixes(rest, budget - 1)
            return {chr(c) + t for c in chars for t in tails}
        return {_END}
    return {_END}


_PARSED: dict[tuple[str, int], P.SubPattern] = {}


def parse_cached(pattern: str, flags: int = 0) -> P.SubPattern:
    """re._parser.parse, memoised (the engine checks each rule's branches and the matcher analyses them:
    one parse serves both). Callers must not modify the tree."""
    key = (pattern, flags)
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) > 50_000:
            _PARSED.clear()
        parsed = _PARSED[key] = P.parse(pattern, flags)
    return parsed


def compile_parsed(pattern: str, flags: int = 0) -> re.Pattern:
    """re.compile(pattern, flags) from the memoised parse (the ruleset check already parsed every branch):
    the same code re._compiler.compile makes, without parsing again."""
    parsed = parse_cached(pattern, flags)
    code = _compiler._code(parsed, flags)
    groups = parsed.state.groupdict
    index_group = [None] * parsed.state.groups
    for name, i in groups.items():
        index_group[i] = name
    return _sre.compile(pattern, flags | parsed.state.flags, code, parsed.state.groups - 1, groups,
                        tuple(index_group))


def branch_triggers(branch: str) -> tuple[set[str], set[str], set[str]] | None:
    """Where a match of `branch` can start: (whole words, word prefixes, other literal strings).
    None = no literal start; the branch is searched in full."""
    try:
        found = _prefixes(list(parse_cached(branch)), MAX_PREFIX)
    except RecursionError:
        return None
    if len(found) > MAX_TRIGGERS_PER_BRANCH:
        return None
    words, prefixes, subs = set(), set(), set()
    for s in found:
        cut = s.endswith(_END)
        s = s.rstrip(_END)
        if not s:
            return None
        if s[0] in _WORD_CHARS:
            i = 0
            while i < len(s) and s[i] in _WORD_CHARS:
                i += 1
            word = s[:i]
            if i < len(s) or not cut:
                words.add(word)  # the literal goes past the end of the word: a whole word
            elif len(word) >= 2:
                prefixes.add(word[:MAX_WORD_PREFIX])
            else:
                return None
        elif s[0].isascii():
            if not s.strip():
                return None
            subs.add(s[:4])
        else:
            subs.add(s[:3])
    return words, prefixes, subs


MAX_WORD_PREFIX = 5


def filter_pattern(patterns: list[str]) -> str:
    """The source of the filter regex of `patterns` (what `filter_tree` compiles to)."""
    return "|".join(f"(?:{p})" for p in patterns)


def filter_tree(patterns: list[str], flags: int = 0) -> P.SubPattern | None:
    """The parse tree of `filter_pattern(patterns)`, joined from the branches' memoised trees (parsing the joined
    pattern again would cost more than compiling it); None when group numbers would matter (back-references,
    named groups, differing inline flags): the caller then compiles the joined pattern the plain way."""
    trees = [parse_cached(p, flags) for p in patterns]
    if (_GROUP_REFERENCE.search(filter_pattern(patterns))
            or any(t.state.flags != trees[0].state.flags or t.state.groupdict for t in trees)):
        return None
    state = P.State()
    state.flags = trees[0].state.flags
    state.groupwidths = [None] * max(t.state.groups for t in trees)
    return P.SubPattern(state, [(C.BRANCH, (None, trees))])



def starts_at_a_number(branch: str, flags: int = 0) -> bool:
    r"""True when every match of `branch` starts where r"\b\d" matches: the branch opens with \b and its
    first character can only be a digit (so its matches start at one of those positions)."""
    from ._regex import first_char_class

    try:
        items = list(parse_cached(branch, flags))
    except re.error:
        return False
    return (bool(items) and items[0] == (C.AT, C.AT_BOUNDARY)
            and first_char_class(branch, flags) == r"[\d]")


def starts_a_line(branch: str, flags: int = 0) -> bool:
    """True when every match of `branch` starts at the start of the text or right after a newline:
    it begins with `^` or `(?:^|(?<=\n))` (MULTILINE off)."""
    if flags & re.MULTILINE:
        return False
    try:
        items = list(parse_cached(branch, flags))
    except (re.error, RecursionError):
        return False
    while items and items[0][0] is C.SUBPATTERN and not (items[0][1][1] or items[0][1][2]):
        items = list(items[0][1][-1]) + items[1:]
    if not items:
        return False
    op, av = items[0]
    if op is C.AT:
        return av is C.AT_BEGINNING or av is C.AT_BEGINNING_STRING
    if op is not C.BRANCH:
        return False
    for alt in av[1]:
        if len(alt) != 1:
            return False
        aop, aav = alt[0]
        if aop is C.AT and aav in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
            continue
        if aop is C.ASSERT and aav[0] < 0 and list(aav[1]) == [(C.LITERAL, 10)]:
            continue
        return False
    return True


# A back-reference (\1, (?P=name)) or a conditional ((?(1)...)) may be written; escaped backslashes make this
# a cautious test (a false "yes" only means the filter is compiled the plain way)
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _first(item: tuple) -> int:
    return item[0]


def _literal_alternatives(op, av) -> list[str] | None:
    """The strings one element (group, repeat, alternation, class) always matches one of, or None."""
    if op is C.LITERAL:
        return [chr(av)]
    if op is C.IN:
        if all(o is C.LITERAL for o, _ in av):
            return [chr(v) for _, v in av]
        return None
    if op is C.SUBPATTERN:
        if av[1] or av[2]:  # scoped flags, e.g. (?i:...)
            return None
        return _sequence_alternatives(list(av[-1]))
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[0] >= 1:
        return _sequence_alternatives(list(av[2]))
    if op is C.BRANCH:
        out = []
        for alt in av[1]:
            strings = _sequence_alternatives(list(alt))
            if strings is None:
                return None
            out += strings
        return out
    return None


def _sequence_alternatives(items: list) -> list[str] | None:
    """Strings one of which every match of a sequence contains: its longest run of literals, or the
    alternatives of one of its mandatory elements (whichever has the longest shortest string); None."""
    best: list[str] | None = None

    def consider(strings: list[str] | None) -> None:
        nonlocal best
        if strings and all(strings) and (best is None or min(map(len, strings)) > min(map(len, best))):
            best = strings

    run: list[str] = []
    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))
            continue
        consider(["".join(run)] if run else None)
        run = []
        consider(_literal_alternatives(op, av))
    consider(["".join(run)] if run else None)
    return best


def required_literals(branch: str, flags: int = 0) -> tuple[str, ...] | None:
    """Strings one of which every match of `branch` contains (None: none known). Used to skip the
    branches that have no trigger: absent literal -> no match, so the regex need not scan the text."""
    if flags & re.IGNORECASE:
        return None
    try:
        items = list(parse_cached(branch, flags))
    except (re.error, RecursionError):
        return None
    best = _sequence_alternatives(items)
    return tuple(dict.fromkeys(best)) if best else None
