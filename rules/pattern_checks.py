"""Can a rule pattern be used: valid, combinable into one case-insensitive alternation over folded text (no named
groups, back-references or global flags; never matches the empty string), and free of catastrophic backtracking.

Example: check_pattern(r"free (visa|flight)") -> (None, "free (visa|flight)"); backtracking_problem(r"(a+)+$") -> "..."
"""
from __future__ import annotations

import functools
import unicodedata
import re
import re._constants as C
import re._parser as _parser

from ._prefilter import parse_cached, split_branches
from ._redos import backtracking_risk
from .textnorm import fold_pattern

_branches = functools.lru_cache(maxsize=8192)(split_branches)  # each pattern is split by two checks


def check_pattern(pat: str) -> tuple[str | None, str]:
    """(why `pat` cannot be combined into a category alternation or None, the folded pattern). Parses
    (no compile) unless a check needs the compiled regex; the folded branches' parses are memoised for
    the TriggerMatcher."""
    if "(?" not in pat.replace("(?:", "") and not re.search(r"\\[1-9]", pat) and fold_pattern(pat) == pat:
        # no groups with names, flags, look-arounds or back-references: the pattern is valid when each
        # top-level branch is, and those parses are shared with the TriggerMatcher (one parse, not two)
        try:
            widths = [parse_cached(b).getwidth()[0] for b in _branches(pat)]
        except re.error:
            widths = None  # the full parse below names the problem
        if widths is not None:
            if min(widths) == 0 and re.compile(pat).fullmatch(""):
                return "pattern matches the empty string", pat
            return None, pat
    try:
        parsed = _parser.parse(pat)
        if "(?<" in pat:
            re.compile(pat)  # look-behind width is checked by the compiler
    except re.error as exc:
        return str(exc), ""
    if parsed.state.groupdict:
        return "named groups are not allowed (rules are combined into one alternation)", ""
    if re.search(r"\\[1-9]|\(\?P=", pat):
        return "back-references are not allowed", ""
    if re.match(r"\(\?[aiLmsux]+\)", pat):
        return "inline global flags are not allowed (patterns are matched case-insensitively on folded text)", ""
    folded = fold_pattern(pat)
    if "(?<" in pat and folded != pat:
        re.compile(folded)
    # a top-level branch that cannot match fewer than one character cannot match ""
    if min(parse_cached(b).getwidth()[0] for b in split_branches(folded)) == 0 and re.compile(folded).fullmatch(""):
        return "pattern matches the empty string", folded
    return None, folded


def backtracking_problem(pat: str) -> str | None:
    """Why `pat` can backtrack catastrophically (rules/_redos.py), checked on the memoised branch parses."""
    try:
        parses = [parse_cached(b) for b in _branches(pat)]
    except re.error:
        parses = [_parser.parse(pat)]
    return next((why for why in map(backtracking_risk, parses) if why), None)


# -- word boundaries by script ---------------------------------------------------------------------------------
# Scripts written with spaces between words: a pattern's first and last letter in one of them need a word edge
# (`\b`, `(?<!\w)`, `(?!\w)`), or an explicit `\w*` / `\w{0,3}` that says the word may go on (inflection), else
# the word fires inside longer words ("फोन" in "माइक्रोफोन", "ажил" in "ажилтан"). `\b` is right in these scripts:
# textnorm folds combining marks (matras, viramas) to stand-in letters, in text and patterns alike. Thai, Lao,
# Khmer, Burmese, Chinese and Japanese have no spaces between words and are not checked. Nor is Hangul: Korean
# writes compound nouns joined at the front (해외취업, 주캄보디아 대사관) and particles joined at the end
# (고객센터에서), so a word edge on either side loses real matches (a leading \b cost evidence on 6 dev rows).
SPACED_SCRIPTS = ("DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
                  "MALAYALAM", "SINHALA", "ARABIC", "CYRILLIC", "ETHIOPIC", "GREEK", "HEBREW", "ARMENIAN", "GEORGIAN")
_OPEN_END_SCRIPTS: tuple[str, ...] = ()  # scripts whose words need only a leading edge (none at present)
_AT_GUARDS = {C.AT_BOUNDARY, C.AT_BEGINNING, C.AT_BEGINNING_STRING, C.AT_BEGINNING_LINE, C.AT_END,
              C.AT_END_STRING, C.AT_END_LINE}
_WORD = [(C.IN, [(C.CATEGORY, C.CATEGORY_WORD)])]


@functools.cache
def spaced_script(ch: str) -> str | None:
    """The script of a letter or combining mark when it is written with spaces between words (SPACED_SCRIPTS)."""
    if not unicodedata.category(ch)[0] in "LM":
        return None
    script = unicodedata.name(ch, "").split(" ", 1)[0]
    return script if script in SPACED_SCRIPTS else None


def _is_word_repeat(op, av) -> bool:
    return op in (C.MAX_REPEAT, C.MIN_REPEAT) and list(av[2]) in (_WORD, [(C.CATEGORY, C.CATEGORY_WORD)])


def _is_guard_assert(op, av, side: str) -> bool:
    """A look-around that sees a word edge on this side: (?<!\\w) / (?<=\\s) before, (?!\\w) / (?=\\n|$) after."""
    direction, sub = av
    if (direction == -1) != (side == "start"):
        return False
    if op is C.ASSERT_NOT:  # (?<!\w), (?!\w): the character next to the pattern is no letter
        items = list(sub)
        if not items:
            return False
        op0, av0 = items[-1 if side == "start" else 0]
        return op0 is C.IN and (C.CATEGORY, C.CATEGORY_WORD) in av0
    return _edge_seen(list(sub), side)


def _edge_seen(items: list, side: str) -> bool:
    """Whether what a positive look-around requires next to the pattern is no letter: a line edge, a space or
    punctuation ((?<=\\n), (?<=^|\\s), (?=\\n|$), (?=\\W))."""
    if not items:
        return False
    op, av = items[-1 if side == "start" else 0]
    if op is C.AT:
        return True
    if op is C.LITERAL:
        return not re.match(r"\w", chr(av))
    if op is C.IN:
        return not any(o is C.NEGATE for o, _ in av) and all(
            (o is C.CATEGORY and v in (C.CATEGORY_SPACE, C.CATEGORY_NOT_WORD))
            or (o is C.LITERAL and not re.match(r"\w", chr(v))) for o, v in av)
    if op is C.SUBPATTERN:
        return _edge_seen(list(av[-1]), side)
    if op is C.BRANCH:
        return all(_edge_seen(list(alt), side) for alt in av[1])
    return False


def _unguarded_edge(items: list, side: str) -> str | None:
    """The first letter (in a spaced script) a match can begin (side='start') or end (side='end') with that has no
    word edge before (after) it, or None. `items` is in reading order from that edge."""
    if not items:
        return None
    (op, av), rest = items[0], items[1:]
    order = (lambda seq: list(seq)) if side == "start" else (lambda seq: list(seq)[::-1])
    if op is C.AT:
        return None if av in _AT_GUARDS else _unguarded_edge(rest, side)
    if op in (C.ASSERT, C.ASSERT_NOT):
        return None if _is_guard_assert(op, av, side) else _unguarded_edge(rest, side)
    if op is C.LITERAL:
        ch = chr(av)
        return ch if spaced_script(ch) else None
    if op is C.IN:
        if any(o is C.NEGATE for o, _ in av):
            return None
        for o, v in av:
            if o is C.LITERAL and spaced_script(chr(v)):
                return chr(v)
            if o is C.RANGE and spaced_script(chr(v[0])):
                return chr(v[0])
        return None
    if op is C.SUBPATTERN:
        return _unguarded_edge(order(av[-1]) + rest, side)
    if op is C.BRANCH:
        for alt in av[1]:
            found = _unguarded_edge(order(alt) + rest, side)
            if found:
                return found
        return None
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
        if _is_word_repeat(op, av):
            return None  # \w*, \w{0,3}: the pattern says the word may go on
        lo, _hi, sub = av
        found = _unguarded_edge(order(sub) + rest, side)
        if found or lo > 0:
            return found
        return _unguarded_edge(rest, side)
    return None  # ANY, categories, group references: no letter of a spaced script


def boundary_problem(pat: str) -> str | None:
    """Why a pattern can fire inside a longer word of a script written with spaces (SPACED_SCRIPTS), or None.
    Example: boundary_problem("फोन") -> "its start 'फ' (Devanagari) ..."; boundary_problem(r"\\bफोन\\b") -> None."""
    try:
        parsed = list(_parser.parse(pat))
    except re.error:
        return None  # check_pattern names the problem
    problems = []
    for side, items, fix in (("start", parsed, r"begin it with \b"), ("end", parsed[::-1], r"end it with \b, or \w* where the word may inflect")):
        ch = _unguarded_edge(items, side)
        if ch and not (side == "end" and spaced_script(ch) in _OPEN_END_SCRIPTS):
            problems.append(f"its {side} {ch!r} ({spaced_script(ch).title()}) has no word boundary ({fix})")
    return "; ".join(problems) or None


def pack_boundary_problems(path) -> list[str]:
    """'file:line: concept 'id': pattern ...: problem' for every pattern of a language pack that boundary_problem
    flags (`rules lint`); the line is the pattern's own."""
    import yaml
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []  # load_pack names the problem
    concepts = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "concepts"), None)
    problems = []
    for key, entry in getattr(concepts, "value", []) if isinstance(concepts, yaml.MappingNode) else []:
        if not isinstance(entry, yaml.MappingNode):
            continue
        for field, patterns in entry.value:
            if field.value != "patterns" or not isinstance(patterns, yaml.SequenceNode):
                continue
            for item in patterns.value:
                why = isinstance(item, yaml.ScalarNode) and boundary_problem(item.value)
                if why:
                    problems.append(f"{path}:{item.start_mark.line + 1}: concept {key.value!r} pattern "
                                    f"{item.value!r}: {why}")
    return problems
