"""The ruleset as concepts x language packs (data in rules/ruleset/).

- `concepts.yaml`: what the engine scores, the same in every language: id, category, weight, description, and
  optional `scope` (`language`: every pack should say it; `universal`: names, handles and symbols that need no
  words; `optional`: market-specific signs a pack may give words for), `fields`, `not_languages`, `unless_in`.
- `packs/<code>.yaml`: one language: its words (regex patterns) for each concept, with `match` / `no_match`
  examples, `not_applicable` concepts with a reason, and `extends`: packs whose words read this language too
  (zh-hant text is folded to simplified characters, so zh-hans words match it). `und.yaml` holds what every
  language shares.
A concept's rule matches with the patterns of every pack (one automaton over all of them, see _prefilter.py),
so an ad mixing languages, or in a language without a pack, is still read by the shared patterns.

Example:

    rules = load_ruleset()            # list[Rule], one per concept
    coverage(RULESET_DIR)["th"]       # PackCoverage: concepts covered / missing for Thai
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .language import pack_codes
from .model import AD_FIELDS
from .pattern_checks import backtracking_problem as _backtracking_problem, check_pattern as _check_pattern
from .pattern_checks import pack_boundary_problems
from .textnorm import normalise
from .yamldoc import LineLoader, data_keys

RULESET_DIR = Path(__file__).parent / "ruleset"
CONCEPTS_FILE = "concepts.yaml"
PACKS_DIR = "packs"
UNIVERSAL = "und"

# Lure categories combine into the lure score; `mitigating` lowers it; `fraud` feeds the fraud score.
LURE_CATEGORIES = (
    "destination", "transit", "vague_destination", "bait_role", "pay", "perks", "low_bar", "age_limit", "urgency",
    "contact", "visa", "passport", "fees", "employer_vague", "similarity",
)
MITIGATING = "mitigating"
FRAUD = "fraud"
FRAUD_HINT = "fraud_hint"  # weak signs of ordinary job fraud: the fraud model weighs them, the lure model never sees them
FRAUD_CATEGORIES = (FRAUD, FRAUD_HINT)
# warning-post vocabulary: never scored; the engine sums the weights of the matched `warning` concepts (a lure's
# denial of fraud is negative) and reads a warning post when the sum is high enough (rules/engine.py AWARENESS_MIN)
WARNING = "warning"
CATEGORIES = (*LURE_CATEGORIES, MITIGATING, *FRAUD_CATEGORIES, WARNING)
SCOPES = ("language", "universal", "optional")
CONCEPT_KEYS = {"id", "description", "category", "weight", "scope", "fields", "not_languages", "unless_in"}
PACK_KEYS = {"language", "name", "script", "concepts", "not_applicable", "extends"}
ENTRY_KEYS = {"patterns", "match", "no_match"}
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


class RulesetError(ValueError):
    """A malformed ruleset file: the message names the file, line and concept id."""


class LazyPattern:
    """A folded rule pattern, compiled on first use: the engine matches through the TriggerMatcher's own
    branches, so most rule patterns are only compiled by `rules test` / lint / examples."""

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._compiled: re.Pattern | None = None

    def __getattr__(self, name: str) -> Any:  # search, finditer, fullmatch, flags, ...
        if name.startswith("__") or name == "_compiled":
            raise AttributeError(name)
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return getattr(self._compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


@dataclass
class PackEntry:
    """One language's words for one concept."""

    language: str
    patterns: list[LazyPattern]
    raw_patterns: list[str]
    match: list[str]
    no_match: list[str]
    source: str  # file:line

    def search(self, text: str) -> str | None:
        return _search(self.patterns, text)


@dataclass
class Rule:
    """A concept with the patterns of every pack (what the engine matches)."""

    id: str
    description: str
    category: str
    weight: float
    patterns: list[LazyPattern]  # folded; compiled on first use
    languages: list[str] = field(default_factory=list)  # packs with words for it
    examples_match: list[str] = field(default_factory=list)
    examples_no_match: list[str] = field(default_factory=list)
    source: str = ""  # file:line of the concept
    fields: tuple[str, ...] = ()  # empty = every field
    raw_patterns: list[str] = field(default_factory=list)
    not_languages: tuple[str, ...] = ()  # skipped when the ad is in one of these (a home-country place is domestic)
    unless_in: tuple[str, ...] = ()  # skipped when it also matches in one of these fields (e.g. the job's location)
    scope: str = "language"
    entries: list[PackEntry] = field(default_factory=list)

    def find(self, text: str) -> Iterable[re.Match]:
        """Matches in already-normalised text."""
        for pattern in self.patterns:
            yield from pattern.finditer(text)

    def search(self, text: str) -> str | None:
        """The original text of the first match in raw `text`, or None (used by examples and `rules test`)."""
        return _search(self.patterns, text)


def _search(patterns: list[LazyPattern], text: str) -> str | None:
    norm = normalise(text)
    for pattern in patterns:
        m = pattern.search(norm.text)
        if m:
            return norm.original_text(m.start(), m.end())
    return None


# -- YAML with lines -------------------------------------------------------------------------------------------
def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        parts = []
        for text, at in (("problem", "problem_mark"), ("context", "context_mark")):
            text, at = getattr(exc, text, None), getattr(exc, at, None)
            if text:
                parts.append(f"{text} at line {at.line + 1}, column {at.column + 1}" if at else text)
        what = "; ".join(parts)  # one line: yaml's own message spans several
        raise RulesetError(f"{path}{line}: invalid YAML: {what or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesetError(f"{path}: cannot read: {exc}") from exc


def _string_list(value: Any, where: str, what: str, *, non_empty: bool = False) -> list[str]:
    if value is None and not non_empty:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or (non_empty and not value):
        raise RulesetError(f"{where}: {what} must be a {'non-empty ' if non_empty else ''}list of strings")
    return list(value)


# -- concepts --------------------------------------------------------------------------------------------------
def load_concepts(directory: Path = RULESET_DIR) -> list[Rule]:
    """The concepts (rules without patterns yet); RulesetError names file, line and id on any problem."""
    path = Path(directory) / CONCEPTS_FILE
    if not path.exists():
        raise RulesetError(f"{path}: missing (the concepts of the ruleset)")
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("concepts"), list):
        raise RulesetError(f"{path}:1: expected a mapping with a 'concepts' list")
    out: list[Rule] = []
    seen: dict[str, str] = {}
    for raw in doc["concepts"]:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise RulesetError(f"{where}: each concept must be a mapping")
        cid = raw.get("id")
        for key in ("id", "description", "category", "weight"):
            if key not in raw:
                raise RulesetError(f"{where}: concept {cid!r} is missing {key!r}")
        unknown = data_keys(raw) - CONCEPT_KEYS
        if unknown:
            raise RulesetError(f"{where}: concept {cid!r} has unknown keys {sorted(unknown)}")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", cid):
            raise RulesetError(f"{where}: concept id {cid!r} must look like 'category.name' (lower case, dots)")
        if cid in seen:
            raise RulesetError(f"{where}: concept {cid!r} duplicates the id defined at {seen[cid]}")
        seen[cid] = where
        category = raw["category"]
        if category not in CATEGORIES:
            raise RulesetError(f"{where}: concept {cid!r} has unknown category {category!r} "
                               f"(one of {', '.join(CATEGORIES)})")
        weight = raw["weight"]
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not -1.0 <= weight <= 1.0:
            raise RulesetError(f"{where}: concept {cid!r} weight must be a number in [-1, 1], got {weight!r}")
        if (category == MITIGATING and weight >= 0) or (weight < 0 and category not in (MITIGATING, WARNING)):
            raise RulesetError(f"{where}: concept {cid!r}: '{MITIGATING}' concepts have negative weights, and only "
                               f"they and '{WARNING}' concepts (a lure's denial) may")
        if not isinstance(raw["description"], str) or not raw["description"].strip():
            raise RulesetError(f"{where}: concept {cid!r} needs a description (shown to analysts as the explanation)")
        scope = raw.get("scope", "language")
        if scope not in SCOPES:
            raise RulesetError(f"{where}: concept {cid!r} scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        lists = {key: tuple(_string_list(raw.get(key), where, f"concept {cid!r} {key!r}"))
                 for key in ("fields", "not_languages", "unless_in")}
        unknown_codes = [code for code in lists["not_languages"] if code not in pack_codes()]
        if unknown_codes:
            raise RulesetError(f"{where}: concept {cid!r} not_languages {unknown_codes} are not language codes of "
                               "rules/language.yaml")
        for key in ("fields", "unless_in"):
            bad_fields = set(lists[key]) - set(AD_FIELDS)
            if bad_fields:
                raise RulesetError(f"{where}: concept {cid!r} {key}: unknown fields {sorted(bad_fields)} "
                                   f"(one of {', '.join(AD_FIELDS)})")
        out.append(Rule(id=cid, description=raw["description"].strip(), category=category, weight=float(weight),
                        patterns=[], source=where, fields=lists["fields"], not_languages=lists["not_languages"],
                        unless_in=lists["unless_in"], scope=scope))
    return out


# -- packs -----------------------------------------------------------------------------------------------------
@dataclass
class Pack:
    language: str
    name: str
    path: Path
    entries: dict[str, PackEntry]
    not_applicable: dict[str, str]
    extends: list[str] = field(default_factory=list)  # packs whose words also read this language


def pack_paths(directory: Path = RULESET_DIR) -> list[Path]:
    return sorted((Path(directory) / PACKS_DIR).glob("*.yaml"))


def load_pack(path: Path, concept_ids: set[str]) -> Pack:
    """One language pack; RulesetError names file, line and concept on any problem."""
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("concepts"), dict):
        raise RulesetError(f"{path}:1: expected a mapping with 'language', 'name' and a 'concepts' mapping")
    lines = doc.get("__lines__", {})
    unknown = data_keys(doc) - PACK_KEYS
    if unknown:
        raise RulesetError(f"{path}:1: unknown keys {sorted(unknown)} (one of {', '.join(sorted(PACK_KEYS))})")
    language = doc.get("language")
    if not isinstance(language, str) or not _LANGUAGE_CODE.fullmatch(language) or language != path.stem:
        raise RulesetError(f"{path}:{lines.get('language', 1)}: 'language' must be a lower-case code equal to the "
                           f"file name ({path.stem!r}), got {language!r}")
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise RulesetError(f"{path}:1: the pack needs a 'name' (e.g. Korean)")
    entries: dict[str, PackEntry] = {}
    concepts = doc["concepts"]
    clines = concepts.get("__lines__", {})
    for cid in data_keys(concepts):
        raw = concepts[cid]
        where = f"{path}:{clines.get(cid, 1)}"
        if cid not in concept_ids:
            raise RulesetError(f"{where}: unknown concept {cid!r} (concepts are defined in {CONCEPTS_FILE})")
        if not isinstance(raw, dict):
            raise RulesetError(f"{where}: concept {cid!r} must be a mapping with 'patterns' and examples")
        unknown = data_keys(raw) - ENTRY_KEYS
        if unknown:
            raise RulesetError(f"{where}: concept {cid!r} has unknown keys {sorted(unknown)} "
                               f"(one of {', '.join(sorted(ENTRY_KEYS))})")
        pats = _string_list(raw.get("patterns"), where, f"concept {cid!r} 'patterns'", non_empty=True)
        compiled = []
        for pat in pats:
            problem, folded = _check_pattern(pat)
            problem = problem or _backtracking_problem(pat)
            if problem:
                raise RulesetError(f"{where}: concept {cid!r} pattern {pat!r}: {problem}")
            compiled.append(LazyPattern(folded))
        entries[cid] = PackEntry(language, compiled, pats, _string_list(raw.get("match"), where, f"{cid!r} match"),
                                 _string_list(raw.get("no_match"), where, f"{cid!r} no_match"), where)
    not_applicable = doc.get("not_applicable") or {}
    if not isinstance(not_applicable, dict):
        raise RulesetError(f"{path}:{lines.get('not_applicable', 1)}: 'not_applicable' must map concept ids to reasons")
    na_lines = not_applicable.get("__lines__", {})
    reasons = {}
    for cid in data_keys(not_applicable):
        where = f"{path}:{na_lines.get(cid, 1)}"
        if cid not in concept_ids:
            raise RulesetError(f"{where}: unknown concept {cid!r} in not_applicable")
        if not isinstance(not_applicable[cid], str) or not not_applicable[cid].strip():
            raise RulesetError(f"{where}: not_applicable {cid!r} needs a reason")
        reasons[cid] = not_applicable[cid].strip()
    extends = _string_list(doc.get("extends"), f"{path}:{lines.get('extends', 1)}", "'extends'")
    return Pack(language, doc["name"].strip(), path, entries, reasons, extends)


def load_packs(directory: Path = RULESET_DIR, concept_ids: set[str] | None = None) -> list[Pack]:
    if concept_ids is None:
        concept_ids = {r.id for r in load_concepts(directory)}
    paths = pack_paths(directory)
    if not paths:
        raise RulesetError(f"{Path(directory) / PACKS_DIR}: no language packs (*.yaml)")
    # the shared pack first, then languages in name order: patterns keep a stable order
    paths.sort(key=lambda p: (p.stem != UNIVERSAL, p.stem))
    return [load_pack(p, concept_ids) for p in paths]


def assemble(concepts: list[Rule], packs: list[Pack]) -> list[Rule]:
    """Each concept's rule with the patterns and examples of every pack."""
    for rule in concepts:
        for pack in packs:
            entry = pack.entries.get(rule.id)
            if entry is None:
                continue
            rule.entries.append(entry)
            rule.languages.append(pack.language)
            rule.patterns.extend(entry.patterns)
            rule.raw_patterns.extend(entry.raw_patterns)
            rule.examples_match.extend(entry.match)
            rule.examples_no_match.extend(entry.no_match)
    return concepts


def add_place_names(rules: list[Rule], places_dir: Path | None = None) -> None:
    """Append the place names of every script (rules/places/: generated from CLDR plus hand-written hubs) to the
    destination concepts they belong to; each pattern passes the same checks as a pack pattern."""
    from .places import (EXACT_CONCEPTS as EXACT_PLACE_CONCEPTS, HUBS_FILE, PLACES_DIR, PlacesError, hub_examples,
                         name_regexes, place_patterns)

    directory = Path(places_dir or PLACES_DIR)
    try:
        by_concept = place_patterns(directory)
        examples = hub_examples(directory / HUBS_FILE.name)
    except PlacesError as exc:
        raise RulesetError(str(exc)) from None
    known = {rule.id: rule for rule in rules}
    for concept, patterns in by_concept.items():
        rule = known.get(concept)
        if rule is None:
            raise RulesetError(f"{patterns[0][1]}: concept {concept!r} is not defined in {CONCEPTS_FILE}")
        for pat, where in patterns:
            problem, folded = _check_pattern(pat)
            problem = problem or _backtracking_problem(pat)
            if problem:
                raise RulesetError(f"{where}: place pattern for {concept!r} {pat[:80]!r}...: {problem}")
            rule.patterns.append(LazyPattern(folded))
            rule.raw_patterns.append(pat)
    # a hub entry's examples are checked like a pack's: `match` by the entry's own names, `no_match` by the rule
    for concept, names, match, no_match, where in examples:
        rule = known[concept]
        regexes = name_regexes(names, inflect=concept not in EXACT_PLACE_CONCEPTS)
        rule.entries.append(PackEntry(UNIVERSAL, [LazyPattern(_check_pattern(r)[1]) for r in regexes], regexes,
                                      match, no_match, where))
        rule.examples_match.extend(match)
        rule.examples_no_match.extend(no_match)


def _with_places(directory: Path, places: bool | Path | None) -> bool | Path:
    """Whether (or from which directory) to add place names: by default for the shipped ruleset only."""
    if places is None:
        return Path(directory).resolve() == RULESET_DIR.resolve()
    return places


def load_ruleset(directory: Path = RULESET_DIR, places: bool | Path | None = None) -> list[Rule]:
    """One Rule per concept that some pack gives words for; `places` (default: for the shipped ruleset) adds the
    place names of rules/places/ (or of the directory it names) to the destination concepts."""
    concepts = load_concepts(directory)
    packs = load_packs(directory, {r.id for r in concepts})
    rules = assemble(concepts, packs)
    places = _with_places(directory, places)
    if places:
        add_place_names(rules, places if isinstance(places, Path) else None)
    for rule in rules:
        if rule.patterns and not rule.examples_match:
            raise RulesetError(f"{rule.source}: concept {rule.id!r} needs at least one 'match' example in some pack")
    return [r for r in rules if r.patterns]


def lint_ruleset(directory: Path = RULESET_DIR) -> list[str]:
    """Every problem in every file (not just the first): 'file:line: concept id: message'. Each pack's `match`
    examples must match that pack's own words; `no_match` examples must match no pack's words."""
    try:
        concepts = load_concepts(directory)
    except RulesetError as exc:
        return [str(exc)]
    ids = {r.id for r in concepts}
    problems: list[str] = []
    packs = []
    for path in pack_paths(directory):
        try:
            packs.append(load_pack(path, ids))
        except RulesetError as exc:
            problems.append(str(exc))
        problems.extend(pack_boundary_problems(path))  # words that would fire inside longer words
    if not pack_paths(directory):
        problems.append(f"{Path(directory) / PACKS_DIR}: no language packs (*.yaml)")
    rules = assemble(concepts, packs)
    if _with_places(directory, None):
        try:
            add_place_names(rules)  # no pack's no_match example may name a place either
        except RulesetError as exc:
            problems.append(str(exc))
    for rule in rules:
        if rule.patterns and not rule.examples_match:
            problems.append(f"{rule.source}: concept {rule.id!r} needs at least one 'match' example in some pack")
        for entry in rule.entries:
            for text in entry.match:
                if entry.search(text) is None:
                    problems.append(f"{entry.source}: concept {rule.id!r} does not match its example {text!r}")
            for text in entry.no_match:
                hit = rule.search(text)
                if hit is not None:
                    problems.append(f"{entry.source}: concept {rule.id!r} matches {hit!r} in its no_match example {text!r}")
    return problems
