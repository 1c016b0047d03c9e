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
from typing import Any, Iterable, Iterator

import re._constants as C
import re._compiler as _compiler
import re._parser as P

import _sre
import ahocorasick

MAX_PREFIX = 24
MAX_TRIGGERS_PER_BRANCH = 200
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
TOKEN = re.compile(r"[a-z0-9]+")


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
        self._number_start = re.compile(r"\b\d", flags)
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
        self._barren: set[str] = set()  # tokens known to start no branch
        self._token_seen: dict[str, int] = {}  # occurrences of each token that has no filter yet
        self._sub_compiled: dict[str, list[tuple[int, re.Pattern]]] = {}
        # the literals the always-branches need, found in one Aho-Corasick pass over the text
        literals = sorted({s for needs in self.always_needs if needs for s in needs})
        ids = {lit: i for i, lit in enumerate(literals)}
        self.always_need_ids = [frozenset(ids[s] for s in needs) if needs else None for needs in self.always_needs]
        self._needs_automaton = None
        if literals:
            self._needs_automaton = ahocorasick.Automaton()
            for lit, i in ids.items():
                self._needs_automaton.add_word(lit, i)
            self._needs_automaton.make_automaton()
        # per literal, the always-branches that need it; the branches that need none run on every text
        self._always_unconditional = [k for k, needs in enumerate(self.always_need_ids) if needs is None]
        self._always_by_literal: dict[int, list[int]] = {}
        for k, needs in enumerate(self.always_need_ids):
            for i in needs or ():
                self._always_by_literal.setdefault(i, []).append(k)
        self.ascii_subs = [(s, b) for s, b in self.sub_branches.items() if s.isascii()]
        self.other_subs: dict[str, list] = {}
        for s, b in self.sub_branches.items():
            if not s.isascii():
                self.other_subs.setdefault(s[0], []).append((s, b))

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
        (memoised). The filter (one regex that matches where any branch may) is built once the token has
        occurred FILTER_AFTER times (compiling it costs more than it saves on a rare token), or at once when
        the regex store has its code."""
        found = self._compiled(self.word_branches.get(tok, ()))
        for k in self.prefix_lens:
            if len(tok) >= k:
                found += self._compiled(self.prefix_branches.get(tok[:k], ()))
        if len(self._token_cache) > 200_000:
            self._token_cache.clear()
            self._barren.clear()
            self._token_seen.clear()
        entry = self._token_cache[tok] = (None, found)
        return entry

    def _with_filter(self, tok: str, entry: tuple) -> tuple:
        seen = self._token_seen.get(tok, 0) + 1
        self._token_seen[tok] = seen
        if seen < FILTER_AFTER and not (seen == 1 and self._filter_stored(entry[1])):
            return entry  # a stored filter costs next to nothing to build: then it is built at once
        entry = self._token_cache[tok] = (self._any_of([r for _, r in entry[1]]), entry[1])
        del self._token_seen[tok]
        return entry

    def _token_starts(self, text: str) -> list[tuple[int, tuple]]:
        """(position, (filter, branches)) of every token that has branches, in text order (a token is a whole
        run of [a-z0-9]: one pass over the text, no substring search)."""
        cache = self._token_cache
        barren = self._barren
        found = []
        for m in TOKEN.finditer(text):
            tok = m.group()
            if tok in barren:
                continue
            entry = cache.get(tok)
            if entry is None:
                entry = self._token_branches(tok)
            if not entry[1]:
                barren.add(tok)
                continue
            if entry[0] is None and len(entry[1]) > 1:
                entry = self._with_filter(tok, entry)
            found.append((m.start(), entry))
        return found

    def finditer(self, text: str) -> Iterator[tuple[int, re.Match]]:
        """(rule index, match) candidates; a rule may yield several (callers keep the first)."""
        for pos, (any_of, branches) in self._token_starts(text):
            if any_of is not None and any_of.match(text, pos) is None:
                continue  # no branch of this token matches here
            for owner, regex in branches:
                m = regex.match(text, pos)
                if m and m.end() > pos:
                    yield owner, m
        subs = list(self.ascii_subs)
        if not text.isascii():
            for ch in self.other_subs.keys() & set(text):
                subs += self.other_subs[ch]
        for s, items in subs:
            i = text.find(s)
            if i < 0:
                continue
            branches = self._sub_compiled.get(s)
            if branches is None:
                branches = self._sub_compiled[s] = self._compiled(items)
            while i >= 0:
                for owner, regex in branches:
                    m = regex.match(text, i)
                    if m and m.end() > i:
                        yield owner, m
                i = text.find(s, i + 1)
        line_starts = number_starts = None
        todo = set(self._always_unconditional)  # a branch whose needed literals are all absent cannot match
        if self._needs_automaton is not None:
            by_literal = self._always_by_literal
            for i in {i for _, i in self._needs_automaton.iter(text)}:
                todo.update(by_literal[i])
        for k in sorted(todo):
            owner, regex = self.always[k]
            at_line, at_number = self.always_line_start[k], self.always_digit_start[k]
            found = None
            if at_line:
                if line_starts is None:
                    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
                found = _matches_at(regex, text, line_starts)
            elif at_number:
                if number_starts is None:
                    # all of them: pruning them first with the union of the number branches cost more than it saved
                    number_starts = [m.start() for m in self._number_start.finditer(text)]
                found = _matches_at(regex, text, number_starts)
            if found is None:
                found = regex.finditer(text)
            for m in found:
                if m.end() > m.start():
                    yield owner, m


_NEWLINE = re.compile("\n")


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
