"""Can a rule pattern be used: valid, combinable into one case-insensitive alternation over folded text (no named
groups, back-references or global flags; never matches the empty string), and free of catastrophic backtracking.

Example: check_pattern(r"free (visa|flight)") -> (None, "free (visa|flight)"); backtracking_problem(r"(a+)+$") -> "..."
"""
from __future__ import annotations

import functools
import re
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
