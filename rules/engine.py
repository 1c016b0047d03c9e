"""The detection engine: ruleset (YAML data) + similarity to known lures -> Assessment.

v1: regex rules grouped in categories; the score combines categories, never one word.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .model import Ad, Assessment, Evidence

RULESET_DIR = Path(__file__).parent / "ruleset"

LEVELS = ((70, "high"), (45, "medium"), (20, "low"), (0, "none"))


class RulesetError(ValueError):
    """A malformed ruleset file: the message names the file, rule id and line."""


@dataclass
class Rule:
    id: str
    description: str
    category: str
    weight: float
    patterns: list[re.Pattern]
    languages: list[str] = field(default_factory=list)
    examples_match: list[str] = field(default_factory=list)
    examples_no_match: list[str] = field(default_factory=list)
    source: str = ""  # file:line

    def find(self, text: str) -> Iterable[re.Match]:
        for pattern in self.patterns:
            yield from pattern.finditer(text)


def level_for(score: int) -> str:
    return next(name for floor, name in LEVELS if score >= floor)


def load_ruleset(directory: Path = RULESET_DIR) -> list[Rule]:
    rules: list[Rule] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        rules.extend(_load_file(path))
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            raise RulesetError(f"{rule.source}: rule {rule.id!r} duplicates the id defined at {seen[rule.id]}")
        seen[rule.id] = rule.source
    return rules


class _LineLoader(yaml.SafeLoader):
    """Records the line of each mapping so errors can name it."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_file(path: Path) -> list[Rule]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        raise RulesetError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RulesetError(f"{path}:1: expected a mapping with a 'rules' list")
    out = []
    for raw in doc["rules"]:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise RulesetError(f"{where}: each rule must be a mapping")
        rid = raw.get("id")
        for key in ("id", "description", "category", "weight", "patterns"):
            if key not in raw:
                raise RulesetError(f"{where}: rule {rid!r} is missing {key!r}")
        compiled = []
        for pat in raw["patterns"]:
            try:
                compiled.append(re.compile(pat, re.IGNORECASE))
            except re.error as exc:
                raise RulesetError(f"{where}: rule {rid!r} pattern {pat!r}: {exc}") from exc
        examples = raw.get("examples") or {}
        out.append(
            Rule(
                id=str(rid),
                description=str(raw["description"]),
                category=str(raw["category"]),
                weight=float(raw["weight"]),
                patterns=compiled,
                languages=list(raw.get("languages") or []),
                examples_match=list(examples.get("match") or []),
                examples_no_match=list(examples.get("no_match") or []),
                source=where,
            )
        )
    return out


class Engine:
    """Scores ads. Build once (`Engine.load()`), then call `assess` per ad."""

    def __init__(self, rules: list[Rule], threshold: int = 50):
        self.rules = rules
        self.threshold = threshold
        digest = hashlib.sha1()
        for rule in rules:
            digest.update(f"{rule.id}:{rule.weight}:{[p.pattern for p in rule.patterns]}".encode())
        self.version = digest.hexdigest()[:12]

    @classmethod
    def load(cls, ruleset_dir: Path | str | None = None) -> "Engine":
        return cls(load_ruleset(Path(ruleset_dir) if ruleset_dir else RULESET_DIR))

    def match_rule(self, rule: Rule, text: str) -> re.Match | None:
        return next(iter(rule.find(text)), None)

    def assess(self, ad: Ad | dict[str, Any]) -> Assessment:
        if isinstance(ad, dict):
            ad = Ad.from_dict(ad)
        evidence: list[Evidence] = []
        for rule in self.rules:
            for fname, text in ad.texts().items():
                m = self.match_rule(rule, text)
                if m:
                    evidence.append(
                        Evidence(rule.id, rule.category, rule.weight, m.group(0), fname, m.start(), m.end(), rule.description)
                    )
                    break
        best: dict[str, float] = {}
        for e in evidence:
            best[e.category] = max(best.get(e.category, 0.0), e.weight)
        raw = sum(best.values())
        # combinations: one category alone stays low
        if len(best) < 2:
            raw = min(raw, 1.0)
        score = int(round(100 * (1 - math.exp(-raw / 4.0))))
        return Assessment(
            score=score,
            level=level_for(score),
            flagged=score >= self.threshold,
            evidence=evidence,
            ruleset_version=self.version,
        )
