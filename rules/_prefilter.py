"""Fast rule matching: cheap trigger tests decide which rules are worth running.

Python's `re` tries every alternative at every position, so a few hundred alternations over a 3 KB ad cost
tens of milliseconds. Instead each top-level branch of each pattern is analysed (re._parser) for the literal
text any match must start with. Its first word becomes a *trigger*:
  - a whole Latin word ("customer"): looked up in the ad's set of words (C-speed set intersection);
  - a word prefix ("pick" from `pick\\w*`) or non-Latin text ("包吃包住", "แอดมิน"): substring test;
  - no literal start (`\\d+ usdt`): the branch always runs.
Only rules with a trigger present run their full regexes.
"""
from __future__ import annotations

import re
from itertools import accumulate, compress
from typing import Any, Iterable, Iterator

import re._compiler as _compiler

import _sre
import ahocorasick

from .branch_analysis import (_END, MAX_PREFIX, MAX_WORD_PREFIX, _prefixes, branch_triggers,  # noqa: F401
                              compile_parsed, filter_pattern, filter_tree, parse_cached, required_literals,
                              split_branches, starts_a_line, starts_at_a_number)

# a token is a whole run of [a-z0-9]; as a group, split() returns separators and tokens in turn
_TOKEN_SPLIT = re.compile(r"([a-z0-9]+)")
FILTER_AFTER = 4  # a token gets its filter regex at its 4th occurrence


class TriggerMatcher:
    """Tries each branch only where its trigger occurs (anchored `match`). `rules`: per rule, its patterns."""

    def __init__(self, rules: list[list[str]], flags: int = 0, *, tables: dict | None = None,
                 store: Any = None):
        """`tables`: `analyse(rules, flags)` done earlier (e.g. cached as JSON), to skip it; `store`: a
        rules.regex_store.RegexStore with the branches' and filters' compiled code (see `stored_patterns`)."""
        # table values are (rule index, branch source); a branch is compiled the first time its trigger
        # occurs in a text (most branches of a large ruleset never run on a given corpus)
        self.flags = flags
        self._store = store
        self._regexes: dict[str, re.Pattern] = {}
        # where r"\b\d" matches, found faster: a pattern that starts with a character class lets `re` scan for
        # it in a tight loop (a leading \b or lookbehind makes it try the whole pattern at every position)
        self._number_start = re.compile(r"\d(?<!\w\d)", flags)
        t = tables if tables is not None else self.analyse(rules, flags)
        self.word_branches: dict[str, list[tuple[int, str]]] = {k: [tuple(x) for x in v] for k, v in t["word"].items()}
        self.prefix_branches: dict[str, list[tuple[int, str]]] = {k: [tuple(x) for x in v]
                                                                  for k, v in t["prefix"].items()}
        self.sub_branches: dict[str, list[tuple[int, str]]] = {k: [tuple(x) for x in v] for k, v in t["sub"].items()}
        self.always: list[tuple[int, re.Pattern]] = [(owner, self._regex(branch)) for owner, branch in t["always"]]
        self.always_needs: list[tuple[str, ...] | None] = [tuple(n) if n else None for n in t["needs"]]
        self.always_line_start: list[bool] = list(t["line_start"])  # matches only where a line starts
        self.always_digit_start: list[bool] = list(t["digit_start"])  # matches only where r"\b\d" does
        self._init_indexes()

    @staticmethod
    def analyse(rules: list[list[str]], flags: int = 0) -> dict:
        """Each branch's triggers, or what a trigger-less branch needs (plain data: cacheable as JSON)."""
        t: dict = {"word": {}, "prefix": {}, "sub": {}, "always": [], "needs": [], "line_start": [],
                   "digit_start": []}
        for owner, patterns in enumerate(rules):
            for pattern in patterns:
                for branch in split_branches(pattern):
                    trig = branch_triggers(branch)
                    if trig is None:
                        t["always"].append((owner, branch))
                        t["needs"].append(required_literals(branch, flags))
                        t["line_start"].append(starts_a_line(branch, flags))
                        t["digit_start"].append(starts_at_a_number(branch, flags))
                        continue
                    for name, keys in zip(("word", "prefix", "sub"), trig):
                        for key in keys:
                            t[name].setdefault(key, []).append((owner, branch))
        return t

    def _init_indexes(self) -> None:
        self.prefix_lens = sorted({len(k) for k in self.prefix_branches})
        self._token_cache: dict[str, list] = {}
        self._live: set[str] = set()  # tokens known to start a branch (the others in _token_cache start none)
        self._token_seen: dict[str, int] = {}  # occurrences of each token that has no filter yet
        self._sub_compiled: dict[str, list[tuple[int, re.Pattern]]] = {}
        # one Aho-Corasick pass over the text finds both the literals the always-branches need and where each
        # substring trigger occurs; one-character needed literals ("n", "d" of "3d2n") occur dozens of times in any
        # text: `in` tests them instead
        literals = sorted({s for needs in self.always_needs if needs for s in needs})
        ids = {lit: i for i, lit in enumerate(literals)}
        self.always_need_ids = [frozenset(ids[s] for s in needs) if needs else None for needs in self.always_needs]
        self._needs_chars = [(lit, i) for lit, i in ids.items() if len(lit) == 1]
        self._subs = list(self.sub_branches.items())  # (substring, branches), in the order they are tried
        words: dict[str, list[int]] = {lit: [i, -1] for lit, i in ids.items() if len(lit) > 1}
        for k, (sub, _) in enumerate(self._subs):
            words.setdefault(sub, [-1, -1])[1] = k
        # and a second automaton of the ASCII words alone for ASCII text (most ads in Latin script): the others
        # cannot occur in it, and a small automaton is walked twice as fast
        self._automaton = _automaton(words)
        self._ascii_automaton = _automaton({w: v for w, v in words.items() if w.isascii()})
        # per literal, the always-branches that need it; the branches that need none run on every text
        self._always_unconditional = [k for k, needs in enumerate(self.always_need_ids) if needs is None]
        self._always_by_literal: dict[int, list[int]] = {}
        for k, needs in enumerate(self.always_need_ids):
            for i in needs or ():
                self._always_by_literal.setdefault(i, []).append(k)

    def _regex(self, branch: str) -> re.Pattern:
        regex = self._regexes.get(branch)
        if regex is None:
            if self._store is not None:
                regex = self._store.compile(branch, self.flags)
            if regex is None:
                regex = compile_parsed(branch, self.flags)
            self._regexes[branch] = regex
        return regex

    def _compiled(self, items: Iterable[tuple[int, str]]) -> list[tuple[int, re.Pattern]]:
        return [(owner, self._regex(branch)) for owner, branch in items]

    def _any_of(self, regexes: list[re.Pattern]) -> re.Pattern | None:
        """One regex that matches where any of `regexes` does (None for fewer than two): tried first, it spares
        the separate tries at the many places where none matches."""
        if len(regexes) < 2:
            return None
        patterns = [r.pattern for r in regexes]
        joined = filter_pattern(patterns)
        if self._store is not None:
            regex = self._store.compile(joined, self.flags)
            if regex is not None:
                return regex
        tree = filter_tree(patterns, self.flags)
        if tree is None:
            return re.compile(joined, self.flags)  # group numbers would matter: the plain way
        state = tree.state
        code = _compiler._code(tree, self.flags)
        return _sre.compile(joined, self.flags | state.flags, code, state.groups - 1, {}, (None,) * state.groups)

    def _filter_stored(self, branches: list[tuple[int, re.Pattern]]) -> bool:
        if self._store is None:
            return False
        from .regex_store import pattern_key

        return pattern_key(filter_pattern([r.pattern for _, r in branches]), self.flags) in self._store

    def stored_patterns(self) -> Iterator[tuple[str, Any]]:
        """(pattern, parse tree or None) of what a RegexStore for this matcher holds: every branch, and every
        filter a token can have (its own branches, then those of its prefixes that are trigger prefixes: one per
        trigger word, and per trigger prefix for a token equal to it or only starting with it). A filter that
        must be compiled the plain way has no tree."""
        branches = {b for table in (self.word_branches, self.prefix_branches, self.sub_branches)
                    for items in table.values() for _, b in items}
        for branch in sorted(branches | {r.pattern for _, r in self.always}):
            yield branch, None
        groups = []
        for tok in sorted({*self.word_branches, *self.prefix_branches}):
            chain = [b for k in self.prefix_lens if len(tok) >= k for _, b in self.prefix_branches.get(tok[:k], ())]
            groups.append([b for _, b in self.word_branches.get(tok, ())] + chain)
            if tok in self.prefix_branches:
                groups.append(chain)
        seen = set()
        for patterns in groups:
            joined = filter_pattern(patterns)
            if len(patterns) >= 2 and joined not in seen:
                seen.add(joined)
                yield joined, filter_tree(patterns, self.flags)

    def _token_branches(self, tok: str) -> tuple[re.Pattern | None, list]:
        """(filter, branches) that may start at a token: by the whole word or by its first characters
        (memoised; a token with branches joins `_live`). The filter (one regex that matches where any branch
        may) is built once the token has occurred FILTER_AFTER times (compiling it costs more than it saves on
        a rare token), or at once when the regex store has its code."""
        found = self._compiled(self.word_branches.get(tok, ()))
        for k in self.prefix_lens:
            if len(tok) >= k:
                found += self._compiled(self.prefix_branches.get(tok[:k], ()))
        entry = self._token_cache[tok] = (None, found)
        if found:
            self._live.add(tok)
        return entry

    def _with_filter(self, tok: str, entry: tuple) -> tuple:
        seen = self._token_seen.get(tok, 0) + 1
        self._token_seen[tok] = seen
        if seen < FILTER_AFTER and not (seen == 1 and self._filter_stored(entry[1])):
            return entry  # a stored filter costs next to nothing to build: then it is built at once
        entry = self._token_cache[tok] = (self._any_of([r for _, r in entry[1]]), entry[1])
        del self._token_seen[tok]
        return entry

    def _token_matches(self, text: str) -> Iterator[tuple[int, re.Match]]:
        """(rule index, match) of the branches that start at a token (a whole run of [a-z0-9]), in text order.
        `re.split` cuts the text into separators and tokens; the tokens' positions and the test of which have
        branches (a set of such tokens) run at C speed, so Python loops only over those."""
        parts = _TOKEN_SPLIT.split(text)  # separator, token, separator, ..., separator
        tokens = parts[1::2]
        cache = self._token_cache
        new = set(tokens).difference(cache)
        if new:
            if len(cache) + len(new) > 200_000:  # bounded memory: start again
                cache.clear()
                self._live.clear()
                self._token_seen.clear()
                new = set(tokens)
            for tok in new:
                self._token_branches(tok)
        ends = list(accumulate(map(len, parts)))  # token i starts where separator i (parts[2 * i]) ends
        for i in compress(range(len(tokens)), map(self._live.__contains__, tokens)):
            any_of, branches = entry = cache[tokens[i]]
            pos = ends[2 * i]
            if any_of is not None:
                if any_of.match(text, pos) is None:
                    continue  # no branch of this token matches here
            elif len(branches) > 1:
                self._with_filter(tokens[i], entry)  # counts the token's occurrences, builds its filter in time
            for owner, regex in branches:
                m = regex.match(text, pos)
                if m and m.end() > pos:
                    yield owner, m

    def finditer(self, text: str) -> Iterator[tuple[int, re.Match]]:
        """(rule index, match) candidates; a rule may yield several (callers keep the first)."""
        yield from self._token_matches(text)
        needed: set[int] = set()  # needed literals present
        found: dict[int, list[int]] = {}  # substring trigger -> where it occurs
        automaton = self._ascii_automaton if text.isascii() else self._automaton
        for end, (size, need, sub) in automaton.iter(text) if automaton is not None else ():
            if need >= 0:
                needed.add(need)
            if sub >= 0:
                found.setdefault(sub, []).append(end - size + 1)
        for k in sorted(found):
            s, items = self._subs[k]
            branches = self._sub_compiled.get(s)
            if branches is None:
                branches = self._sub_compiled[s] = self._compiled(items)
            for i in sorted(found[k]):
                for owner, regex in branches:
                    m = regex.match(text, i)
                    if m and m.end() > i:
                        yield owner, m
        todo = set(self._always_unconditional)  # a branch whose needed literals are all absent cannot match
        by_literal = self._always_by_literal
        for i in needed:
            todo.update(by_literal[i])
        for char, i in self._needs_chars:
            if char in text:
                todo.update(by_literal[i])
        starts: dict[str, list[int]] = {}
        for k in sorted(todo):
            yield from self._always_matches(k, text, starts)

    def _always_matches(self, k: int, text: str, starts: dict[str, list[int]]) -> Iterator[tuple[int, re.Match]]:
        """The matches of always-branch `k` (`starts`: line and number starts of `text`, filled on first need)."""
        owner, regex = self.always[k]
        found = None
        if self.always_line_start[k]:
            if "line" not in starts:
                starts["line"] = [0] + [m.end() for m in _NEWLINE.finditer(text)]
            found = _matches_at(regex, text, starts["line"])
        elif self.always_digit_start[k]:
            if "number" not in starts:
                # all of them: pruning them first with the union of the number branches cost more than it saved
                starts["number"] = [m.start() for m in self._number_start.finditer(text)]
            found = _matches_at(regex, text, starts["number"])
        if found is None:
            found = regex.finditer(text)
        for m in found:
            if m.end() > m.start():
                yield owner, m

_NEWLINE = re.compile("\n")


def _automaton(words: dict[str, list[int]]) -> Any:
    """An Aho-Corasick automaton of `words` (value: (length, needed-literal id, substring-trigger index)), or
    None for no words."""
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for word, (need, sub) in words.items():
        automaton.add_word(word, (len(word), need, sub))
    automaton.make_automaton()
    return automaton


def _matches_at(regex: re.Pattern, text: str, starts: list[int]) -> list[re.Match] | None:
    """What regex.finditer(text) yields, for a regex that can only match at `starts` (in order);
    None when an empty match makes finditer's stepping matter (the caller then runs finditer)."""
    out, last_end = [], 0
    for pos in starts:
        if pos < last_end:
            continue  # finditer resumes after the previous match
        m = regex.match(text, pos)
        if m is None:
            continue
        if m.end() == m.start():
            return None
        out.append(m)
        last_end = m.end()
    return out
