"""Is there a match of a big alternation near here? Answered from the places its literal starts occur.

Salary parsing asks, for every number in an ad, whether a currency, multiplier or pay word (one alternation of
a few hundred words) occurs within 45 characters: `regex.search(text, a, b)`. `re` tries every alternative at
every position of each window, which cost more than the rest of pay parsing. `HintScan` splits the
alternatives: those whose matches start with known literal text are found in one Aho-Corasick pass over the
text, and the regex itself is tried only at those places; the few without a literal start (`\\d\\s?k\\b`, a
class of currency signs) keep a regex search of the window. The answer is the same as `search(...) is not None`
(same pattern, same window, same end position).
"""
from __future__ import annotations

import bisect
import re

import ahocorasick

from ._prefilter import _END, MAX_PREFIX, _prefixes, parse_cached, split_branches
from ._regex import guarded

MAX_STARTS_PER_ALTERNATIVE = 200


def literal_starts(alternative: str, flags: int = 0) -> set[str] | None:
    """Strings one of which every match of `alternative` starts with, or None when it can start otherwise."""
    if flags & re.IGNORECASE:
        return None
    try:
        found = _prefixes(list(parse_cached(alternative, flags)), MAX_PREFIX)
    except (re.error, RecursionError):
        return None
    starts = {s.rstrip(_END) for s in found}
    if "" in starts or len(starts) > MAX_STARTS_PER_ALTERNATIVE:
        return None
    return starts


class HintScan:
    """`pattern` compiled (with `guarded`), plus what `any_in` needs to answer without scanning every window."""

    def __init__(self, pattern: str, flags: int = 0):
        self.regex = guarded(pattern, flags)
        literals: set[str] = set()
        others: list[str] = []
        for alternative in split_branches(pattern):
            starts = literal_starts(alternative, flags)
            if starts is None:
                others.append(alternative)
            else:
                literals |= starts
        self.others = guarded("|".join(others), flags) if others else None
        self.automaton = None
        if literals:
            self.automaton = ahocorasick.Automaton()
            for literal in literals:
                self.automaton.add_word(literal, len(literal))
            self.automaton.make_automaton()

    def starts(self, text: str) -> list[int]:
        """Sorted positions of `text` where a literal start of an alternative occurs."""
        if self.automaton is None:
            return []
        return sorted({end - size + 1 for end, size in self.automaton.iter(text)})

    def found(self, text: str) -> bool:
        """`self.regex.search(text) is not None`, stopping at the first place a match starts."""
        match = self.regex.match
        if self.automaton is not None:
            for end, size in self.automaton.iter(text):
                if match(text, end - size + 1):
                    return True
        return self.others is not None and self.others.search(text) is not None

    def any_in(self, text: str, starts: list[int], begin: int = 0, end: int | None = None) -> bool:
        """`self.regex.search(text, begin, end) is not None`; `starts` is `self.starts(text)`."""
        if end is None or end > len(text):
            end = len(text)
        i = bisect.bisect_left(starts, begin)
        match = self.regex.match
        while i < len(starts) and starts[i] < end:
            if match(text, starts[i], end):
                return True
            i += 1
        return self.others is not None and self.others.search(text, begin, end) is not None
