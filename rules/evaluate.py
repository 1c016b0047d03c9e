"""Measure the engine on labelled ads: the dev set (JSON Lines) and EMSCAD (real job ads, CSV).

Library behind `lurewatch eval`. No Scrapy here.

    from rules.evaluate import load_dataset, evaluate
    report = evaluate(load_dataset(["rules/devset"], split="test"))
    report.overall.recall, report.to_dict()
"""
from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .engine import Engine
from .jsonl import read_jsonl
from .model import Ad, Assessment

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVSET_DIR = Path(__file__).resolve().parent / "devset"
EMSCAD_DEFAULT = REPO_ROOT.parent / "shared" / "data" / "emscad-partial" / "emscad_partial.csv"
EMSCAD_BASE_RATE = 0.048  # share of fraudulent ads in the full EMSCAD corpus (866 of 17,880)

SPLITS = ("train", "test", "all")
# label-0 kinds written to look like lures; neg_generic is the easy background
HARD_NEGATIVE_PREFIX = "neg_"
EASY_NEGATIVE_KINDS = frozenset({"neg_generic"})

# the quality targets on the TEST split
TARGETS = {"recall": 0.90, "subtle_recall": 0.75, "hard_negative_flag_rate": 0.05}
EMSCAD_LEGIT_FLAG_TARGET = 0.01

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


class DatasetError(ValueError):
    """Bad input: the message names the file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled ad."""

    ad: Ad
    label: int
    source: str  # file:line
    lang: str = ""
    kind: str = ""
    fraud: int = 0
    subtle: int = 0
    split: str = ""


def _flag01(value: Any, name: str, where: str, required: bool) -> int:
    if value is None:
        if required:
            raise DatasetError(f"{where}: missing {name!r} (expected 0 or 1)")
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    raise DatasetError(f"{where}: {name!r} must be 0 or 1, got {value!r}")


def _jsonl_files(paths: Sequence[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise DatasetError(f"{p}: no *.jsonl files in this directory")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise DatasetError(f"{p}: no such file or directory")
    return files


def load_dataset(paths: Sequence[str | Path] | str | Path = (DEVSET_DIR,), split: str = "all") -> list[Example]:
    """Read labelled ads from JSON Lines files (or directories of them), keeping rows of `split`.

    Each line: the ad fields of `lurewatch assess` plus `label` (0/1, required) and optional `lang`, `kind`,
    `fraud`, `subtle`, `split`. Raises DatasetError naming file:line for bad JSON, a missing/odd label,
    an unknown split or a duplicate id.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    examples: list[Example] = []
    seen_ids: dict[str, str] = {}
    for path in _jsonl_files(paths):
        for where, row in read_jsonl(path, DatasetError):
            label = _flag01(row.get("label"), "label", where, required=True)
            row_split = row.get("split") or ""
            if row_split not in ("", "train", "test"):
                raise DatasetError(f"{where}: 'split' must be 'train' or 'test', got {row_split!r}")
            if row.get("id") is not None:
                rid = str(row["id"])
                if rid in seen_ids:
                    raise DatasetError(f"{where}: duplicate id {rid!r} (first at {seen_ids[rid]})")
                seen_ids[rid] = where
            if split != "all" and row_split != split:
                continue
            examples.append(
                Example(
                    ad=Ad.from_dict(row),
                    label=label,
                    source=where,
                    lang=str(row.get("lang") or ""),
                    kind=str(row.get("kind") or ""),
                    fraud=_flag01(row.get("fraud"), "fraud", where, required=False),
                    subtle=_flag01(row.get("subtle"), "subtle", where, required=False),
                    split=row_split,
                )
            )
    return examples


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class Counts:
    """Confusion counts of one group; metrics are None when undefined (no denominator)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: int, flagged: bool) -> None:
        if label and flagged:
            self.tp += 1
        elif label:
            self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.fp + self.tn

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def fpr(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "positives": self.positives, "negatives": self.negatives,
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
            "precision": self.precision, "recall": self.recall, "f1": self.f1, "fpr": self.fpr,
        }


@dataclass
class Rate:
    """hits out of n (recall of a subset, or a flag rate)."""

    hits: int = 0
    n: int = 0

    def add(self, hit: bool) -> None:
        self.n += 1
        self.hits += int(hit)

    @property
    def rate(self) -> float | None:
        return _ratio(self.hits, self.n)

    def to_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "n": self.n, "rate": self.rate}


@dataclass
class Report:
    """Metrics of one evaluation run over labelled ads."""

    overall: Counts = field(default_factory=Counts)
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_kind: dict[str, Counts] = field(default_factory=dict)
    subtle_recall: Rate = field(default_factory=Rate)  # subtle lures flagged
    hard_negative_flags: Rate = field(default_factory=Rate)  # hard negatives flagged as lures
    fraud_caught: Rate = field(default_factory=Rate)  # fraud rows with fraud_flagged
    fraud_false_alarms: Rate = field(default_factory=Rate)  # legit (label 0, fraud 0) rows with fraud_flagged
    not_covered: Counts = field(default_factory=Counts)  # ads in a language no pack covers (Assessment.language_covered)
    missed: list[str] = field(default_factory=list)  # ids/sources of lures not flagged
    false_positives: list[str] = field(default_factory=list)  # ids/sources of negatives flagged
    threshold: int | None = None
    ruleset_version: str = ""

    def add(self, ex: Example, a: Assessment, flagged: bool) -> None:
        self.overall.add(ex.label, flagged)
        self.by_lang.setdefault(ex.lang or "?", Counts()).add(ex.label, flagged)
        self.by_kind.setdefault(ex.kind or "?", Counts()).add(ex.label, flagged)
        if a.language_covered is False:
            self.not_covered.add(ex.label, flagged)
        name = ex.ad.id or ex.source
        if ex.label:
            if ex.subtle:
                self.subtle_recall.add(flagged)
            if not flagged:
                self.missed.append(name)
        else:
            if is_hard_negative(ex):
                self.hard_negative_flags.add(flagged)
            if flagged:
                self.false_positives.append(name)
            if ex.fraud:
                self.fraud_caught.add(a.fraud_flagged)
            else:
                self.fraud_false_alarms.add(a.fraud_flagged)

    def targets(self) -> dict[str, dict[str, Any]]:
        values = {
            "recall": self.overall.recall,
            "subtle_recall": self.subtle_recall.rate,
            "hard_negative_flag_rate": self.hard_negative_flags.rate,
        }
        out = {}
        for name, target in TARGETS.items():
            value = values[name]
            if value is None:
                met = None
            elif name.endswith("flag_rate"):
                met = value <= target
            else:
                met = value >= target
            out[name] = {"value": value, "target": target, "met": met}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "ruleset_version": self.ruleset_version,
            "overall": self.overall.to_dict(),
            "by_lang": {k: v.to_dict() for k, v in sorted(self.by_lang.items())},
            "by_kind": {k: v.to_dict() for k, v in sorted(self.by_kind.items())},
            "subtle_recall": self.subtle_recall.to_dict(),
            "hard_negative_flag_rate": self.hard_negative_flags.to_dict(),
            "fraud": {"caught": self.fraud_caught.to_dict(), "false_alarms": self.fraud_false_alarms.to_dict()},
            "language_not_covered": self.not_covered.to_dict(),
            "targets": self.targets(),
            "missed": self.missed,
            "false_positives": self.false_positives,
        }


def is_hard_negative(ex: Example) -> bool:
    return not ex.label and ex.kind.startswith(HARD_NEGATIVE_PREFIX) and ex.kind not in EASY_NEGATIVE_KINDS


def _no_progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
    return items


def _flagged(a: Assessment, threshold: int | None) -> bool:
    return a.flagged if threshold is None else a.score >= threshold


def evaluate(
    examples: Sequence[Example],
    engine: Engine | None = None,
    threshold: int | None = None,
    progress: Progress = _no_progress,
) -> Report:
    """Assess every example with `engine` (default `Engine.load()`) and count.

    `threshold` overrides the engine's own flag decision with `score >= threshold`.
    """
    engine = Engine.load() if engine is None else engine
    report = Report(threshold=threshold, ruleset_version=getattr(engine, "version", ""))
    for ex in progress(examples, len(examples), "assessing"):
        a = engine.assess(ex.ad)
        report.add(ex, a, _flagged(a, threshold))
    return report


# ---------------------------------------------------------------- EMSCAD

EMSCAD_TEXT_COLUMNS = ("company_profile", "description", "requirements", "benefits")
EMSCAD_REQUIRED = ("title", "fraudulent")


def emscad_ad(row: dict[str, str]) -> Ad:
    """One EMSCAD CSV row as an Ad: profile, description, requirements and benefits become the description."""
    body = "\n\n".join(row[c].strip() for c in EMSCAD_TEXT_COLUMNS if (row.get(c) or "").strip())
    return Ad(
        id=row.get("job_id") or None,
        title=row.get("title") or "",
        location=row.get("location") or "",
        salary=row.get("salary_range") or "",
        description=body,
    )


def load_emscad(path: str | Path = EMSCAD_DEFAULT) -> list[tuple[Ad, int]]:
    """(ad, fraudulent) pairs from an EMSCAD CSV. Raises FileNotFoundError or DatasetError (file:line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in EMSCAD_REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}:1: not an EMSCAD CSV, missing column(s) {', '.join(missing)}")
        for row in reader:
            value = (row.get("fraudulent") or "").strip()
            if value not in ("0", "1"):
                raise DatasetError(f"{path}:{reader.line_num}: 'fraudulent' must be 0 or 1, got {value!r}")
            out.append((emscad_ad(row), int(value)))
    return out


def precision_at_base_rate(tpr: float | None, fpr: float | None, base_rate: float = EMSCAD_BASE_RATE) -> float | None:
    """Precision a detector with this TPR/FPR would have where `base_rate` of the ads are positive."""
    if tpr is None or fpr is None:
        return None
    hits = tpr * base_rate
    false = fpr * (1 - base_rate)
    return hits / (hits + false) if hits + false else None


@dataclass
class EmscadReport:
    path: str
    lure_on_legit: Rate = field(default_factory=Rate)
    lure_on_fraud: Rate = field(default_factory=Rate)
    fraud_on_legit: Rate = field(default_factory=Rate)
    fraud_on_fraud: Rate = field(default_factory=Rate)
    flagged_legit: list[dict[str, Any]] = field(default_factory=list)  # legit ads flagged as lures, for review
    threshold: int | None = None

    @property
    def fraud_precision_at_base_rate(self) -> float | None:
        return precision_at_base_rate(self.fraud_on_fraud.rate, self.fraud_on_legit.rate)

    @property
    def legit_target_met(self) -> bool | None:
        rate = self.lure_on_legit.rate
        return None if rate is None else rate <= EMSCAD_LEGIT_FLAG_TARGET

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "threshold": self.threshold,
            "legit": self.lure_on_legit.n,
            "fraud": self.lure_on_fraud.n,
            "lure_flag_rate_legit": self.lure_on_legit.to_dict(),
            "lure_flag_rate_fraud": self.lure_on_fraud.to_dict(),
            "fraud_flag_rate_legit": self.fraud_on_legit.to_dict(),
            "fraud_flag_rate_fraud": self.fraud_on_fraud.to_dict(),
            "fraud_precision_at_base_rate": {"base_rate": EMSCAD_BASE_RATE, "value": self.fraud_precision_at_base_rate},
            "legit_target": {"target": EMSCAD_LEGIT_FLAG_TARGET, "met": self.legit_target_met},
            "flagged_legit": self.flagged_legit,
        }


def evaluate_emscad(
    path: str | Path = EMSCAD_DEFAULT,
    engine: Engine | None = None,
    threshold: int | None = None,
    progress: Progress = _no_progress,
) -> EmscadReport:
    rows = load_emscad(path)
    engine = Engine.load() if engine is None else engine
    report = EmscadReport(path=str(path), threshold=threshold)
    for ad, fraudulent in progress(rows, len(rows), "EMSCAD"):
        a = engine.assess(ad)
        flagged = _flagged(a, threshold)
        if fraudulent:
            report.lure_on_fraud.add(flagged)
            report.fraud_on_fraud.add(a.fraud_flagged)
        else:
            report.lure_on_legit.add(flagged)
            report.fraud_on_legit.add(a.fraud_flagged)
            if flagged:
                report.flagged_legit.append({"job_id": ad.id, "title": ad.title, "score": a.score, "summary": a.summary()})
    return report
