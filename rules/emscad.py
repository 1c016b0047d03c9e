"""EMSCAD (real job-board ads, legitimate and fraudulent) as ads, grouped by template and split into train/test.

Near-duplicate ads (one employer's or one scammer's template posted many times) would leak between a tuning
split and a test split, so ads are first joined into template groups and each group lands whole on one side:

- ads with the same company profile (the employer's "about us" text) form one group, and so do ads that give
  the same link, e-mail address or phone number (EMSCAD replaces each by a hash token), or the same run of
  PASSAGE_WORDS words anywhere in the text (a pasted company blurb or pitch);
- ads whose description + requirements are near-duplicates (MinHash of word 3-shingles, estimated Jaccard
  >= GROUP_JACCARD, datasketch's LSH for the candidates) join the same group, transitively.

Groups are visited in the order of the SHA-1 of their key (the smallest content hash of their ads) and go to
the test side while that side holds at most TEST_SHARE of the ads of the group's majority label: deterministic,
independent of row order, no random state, and both labels about TEST_SHARE test. Tune on the train groups,
report on the test groups.

    from rules.emscad import evaluate_emscad
    report = evaluate_emscad()          # EMSCAD_DEFAULT, or LUREWATCH_EMSCAD
    report.test.fraud_on_fraud.rate     # fraud recall on the test groups

No Scrapy here.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .engine import Engine
from .evaluate import Progress, Rate, _flagged, _no_progress
from .model import Ad, Assessment

REPO_ROOT = Path(__file__).resolve().parent.parent
# LUREWATCH_EMSCAD names another copy (a worktree whose parent has no shared/ folder)
EMSCAD_DEFAULT = Path(os.environ.get("LUREWATCH_EMSCAD")
                      or REPO_ROOT.parent / "shared" / "data" / "emscad-partial" / "emscad_partial.csv")
EMSCAD_BASE_RATE = 0.048  # share of fraudulent ads in the full EMSCAD corpus (866 of 17,880)
EMSCAD_TEXT_COLUMNS = ("company_profile", "description", "requirements", "benefits")
EMSCAD_REQUIRED = ("title", "fraudulent")
EMSCAD_SPLITS = ("train", "test", "all")

PASSAGE_WORDS = 12  # ads sharing a run of this many words (after normalisation) share a group
GROUP_JACCARD = 0.5  # description near-duplicates at or above this estimated Jaccard share a group
TEST_SHARE = 0.3  # share of the ads of each label that go to the test side (whole groups, so about)
_SHINGLE_WORDS = 3

_NUM_PERM = 128
_MIN_PROFILE_CHARS = 40  # shorter company profiles ("We are hiring!") do not identify an employer
_CONTACT_TOKEN = re.compile(r"#(?:URL|EMAIL|PHONE)_[0-9a-f]{16,}#")
_WORD = re.compile(r"\w+", re.UNICODE)

SPLIT_DESCRIPTION = (
    f"template groups (same company profile, same hashed link/e-mail/phone, a shared {PASSAGE_WORDS}-word "
    f"passage, or description+requirements MinHash Jaccard >= {GROUP_JACCARD}, "
    f"joined transitively); groups in SHA-1 order of their key fill the test side up to {TEST_SHARE:.0%} "
    f"of each label"
)


class EmscadError(ValueError):
    """A malformed EMSCAD CSV: the message names the file and line."""


@dataclass(frozen=True)
class EmscadAd:
    """One EMSCAD row: the ad as a crawler would see it (no EMSCAD-only metadata), its label and its split."""

    ad: Ad
    fraudulent: int
    line: int  # CSV line where the row starts
    group: str = ""  # template group key
    split: str = ""  # train | test


def emscad_ad(row: dict[str, str]) -> Ad:
    """One EMSCAD CSV row as an Ad: profile, description, requirements and benefits become the description.
    EMSCAD has no company name or contact columns, and its industry/function/department columns have no
    counterpart on a crawled ad, so they are not used."""
    body = "\n\n".join(row[c].strip() for c in EMSCAD_TEXT_COLUMNS if (row.get(c) or "").strip())
    return Ad(
        id=row.get("job_id") or None,
        title=row.get("title") or "",
        location=row.get("location") or "",
        salary=row.get("salary_range") or "",
        description=body,
    )


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _read_rows(path: Path) -> list[tuple[int, dict[str, str], int]]:
    if not path.is_file():
        raise FileNotFoundError(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in EMSCAD_REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise EmscadError(f"{path}:1: not an EMSCAD CSV, missing column(s) {', '.join(missing)}")
        line = reader.line_num + 1
        for row in reader:
            value = (row.get("fraudulent") or "").strip()
            if value not in ("0", "1"):
                raise EmscadError(f"{path}:{line}: 'fraudulent' must be 0 or 1, got {value!r}")
            out.append((line, row, int(value)))
            line = reader.line_num + 1
    return out


def template_groups(rows: list[dict[str, str]]) -> list[str]:
    """The template-group key of each row (see the module docstring). Deterministic and independent of row order."""
    from datasketch import MinHash, MinHashLSH

    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_profile: dict[str, int] = {}
    for i, row in enumerate(rows):
        profile = _normalised(row.get("company_profile") or "")
        if len(profile) >= _MIN_PROFILE_CHARS:
            union(i, by_profile.setdefault(profile, i))

    by_contact: dict[str, int] = {}  # EMSCAD replaces links, e-mails and phones by a hash of each
    for i, row in enumerate(rows):
        for token in set(_CONTACT_TOKEN.findall(" ".join(row.get(c) or "" for c in EMSCAD_TEXT_COLUMNS))):
            union(i, by_contact.setdefault(token, i))

    by_passage: dict[bytes, int] = {}  # a pasted "about us" or pitch: the same run of PASSAGE_WORDS words
    for i, row in enumerate(rows):
        words = _normalised(" ".join(row.get(c) or "" for c in EMSCAD_TEXT_COLUMNS)).split()
        for k in range(len(words) - PASSAGE_WORDS + 1):
            digest = hashlib.blake2b(" ".join(words[k:k + PASSAGE_WORDS]).encode("utf-8"), digest_size=8).digest()
            union(i, by_passage.setdefault(digest, i))

    lsh = MinHashLSH(threshold=GROUP_JACCARD, num_perm=_NUM_PERM)
    hashes: list[MinHash | None] = []
    for i, row in enumerate(rows):
        words = _normalised(f"{row.get('description') or ''} {row.get('requirements') or ''}").split()
        shingles = {" ".join(words[k:k + _SHINGLE_WORDS]) for k in range(max(1, len(words) - _SHINGLE_WORDS + 1))}
        shingles.discard("")
        if not shingles:
            hashes.append(None)
            continue
        mh = MinHash(num_perm=_NUM_PERM, seed=1)
        mh.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        hashes.append(mh)
        for j in lsh.query(mh):
            if mh.jaccard(hashes[j]) >= GROUP_JACCARD:
                union(i, j)
        lsh.insert(i, mh)

    content = [hashlib.sha1(_normalised(f"{r.get('title')} {r.get('company_profile')} {r.get('description')}")
                            .encode("utf-8")).hexdigest() for r in rows]
    key: dict[int, str] = {}
    for i in range(len(rows)):
        root = find(i)
        key[root] = min(key.get(root, content[i]), content[i])
    return [key[find(i)] for i in range(len(rows))]


def _hash_order(group: str) -> str:
    return hashlib.sha1(group.encode("utf-8")).hexdigest()


def assign_splits(groups: list[str], labels: list[int]) -> dict[str, str]:
    """'train' or 'test' per group key. Groups are visited in the order of the SHA-1 of their key; a group goes
    to the test side while that keeps the test side's ads of the group's majority label within TEST_SHARE of
    all ads of that label (so both labels are about TEST_SHARE test). Deterministic, independent of row order."""
    size: dict[str, int] = {}
    fraud: dict[str, int] = {}
    for g, label in zip(groups, labels):
        size[g] = size.get(g, 0) + 1
        fraud[g] = fraud.get(g, 0) + label
    total = {1: sum(labels), 0: len(labels) - sum(labels)}
    taken = {0: 0, 1: 0}
    out = {}
    for g in sorted(size, key=_hash_order):
        label = int(2 * fraud[g] >= size[g])
        if taken[label] + size[g] <= TEST_SHARE * total[label]:
            taken[label] += size[g]
            out[g] = "test"
        else:
            out[g] = "train"
    return out


def load_emscad(path: str | Path = EMSCAD_DEFAULT, split: str = "all") -> list[EmscadAd]:
    """The ads of an EMSCAD CSV with their template group and split, keeping rows of `split` (train, test or
    all). Raises FileNotFoundError, or EmscadError naming file:line."""
    if split not in EMSCAD_SPLITS:
        raise EmscadError(f"unknown split {split!r}; choose one of {', '.join(EMSCAD_SPLITS)}")
    raw = _read_rows(Path(path))
    groups = template_groups([row for _, row, _ in raw])
    sides = assign_splits(groups, [label for _, _, label in raw])
    out = []
    for (line, row, label), group in zip(raw, groups):
        side = sides[group]
        if split in ("all", side):
            out.append(EmscadAd(emscad_ad(row), label, line, group, side))
    return out


# ---------------------------------------------------------------- evaluation

EMSCAD_LEGIT_FLAG_TARGET = 0.01  # the lure flag on legitimate ads
EMSCAD_FRAUD_LEGIT_TARGET = 0.02  # the fraud signal may flag at most this share of legitimate ads (issue 12)


def precision_at_base_rate(tpr: float | None, fpr: float | None, base_rate: float = EMSCAD_BASE_RATE) -> float | None:
    """Precision a detector with this TPR/FPR would have where `base_rate` of the ads are positive."""
    if tpr is None or fpr is None:
        return None
    hits = tpr * base_rate
    false = fpr * (1 - base_rate)
    return hits / (hits + false) if hits + false else None


@dataclass
class EmscadCounts:
    """Lure and fraud flags on the legitimate and fraudulent ads of one side of the template split."""

    lure_on_legit: Rate = field(default_factory=Rate)
    lure_on_fraud: Rate = field(default_factory=Rate)
    fraud_on_legit: Rate = field(default_factory=Rate)
    fraud_on_fraud: Rate = field(default_factory=Rate)
    groups: dict[int, set[str]] = field(default_factory=lambda: {0: set(), 1: set()})  # by label

    def add(self, row: EmscadAd, lure_flagged: bool, fraud_flagged: bool) -> None:
        self.groups[row.fraudulent].add(row.group)
        if row.fraudulent:
            self.lure_on_fraud.add(lure_flagged)
            self.fraud_on_fraud.add(fraud_flagged)
        else:
            self.lure_on_legit.add(lure_flagged)
            self.fraud_on_legit.add(fraud_flagged)

    def to_dict(self) -> dict[str, Any]:
        return {"legit": self.lure_on_legit.n, "fraud": self.lure_on_fraud.n,
                "groups": {"legit": len(self.groups[0]), "fraud": len(self.groups[1])},
                "lure_flag_rate_legit": self.lure_on_legit.to_dict(),
                "lure_flag_rate_fraud": self.lure_on_fraud.to_dict(),
                "fraud_flag_rate_legit": self.fraud_on_legit.to_dict(),
                "fraud_recall": self.fraud_on_fraud.to_dict()}


@dataclass
class EmscadReport:
    """EMSCAD results: all rows (the lure flag on legit ads), and per side of the template split (the fraud
    signal is tuned on the train groups; its numbers that count are the test groups')."""

    path: str
    threshold: int | None = None
    all: EmscadCounts = field(default_factory=EmscadCounts)
    sides: dict[str, EmscadCounts] = field(default_factory=lambda: {"train": EmscadCounts(), "test": EmscadCounts()})
    flagged_legit: list[dict[str, Any]] = field(default_factory=list)  # legit ads flagged as lures, for review
    split_method: str = SPLIT_DESCRIPTION

    # all rows (the lure model is not tuned on EMSCAD)
    @property
    def lure_on_legit(self) -> Rate:
        return self.all.lure_on_legit

    @property
    def lure_on_fraud(self) -> Rate:
        return self.all.lure_on_fraud

    @property
    def fraud_on_legit(self) -> Rate:
        return self.all.fraud_on_legit

    @property
    def fraud_on_fraud(self) -> Rate:
        return self.all.fraud_on_fraud

    @property
    def test(self) -> EmscadCounts:
        return self.sides["test"]

    @property
    def fraud_precision_at_base_rate(self) -> float | None:
        """On the test groups."""
        return precision_at_base_rate(self.test.fraud_on_fraud.rate, self.test.fraud_on_legit.rate)

    @property
    def legit_target_met(self) -> bool | None:
        rate = self.lure_on_legit.rate
        return None if rate is None else rate <= EMSCAD_LEGIT_FLAG_TARGET

    @property
    def fraud_target_met(self) -> bool | None:
        """At most EMSCAD_FRAUD_LEGIT_TARGET of the test groups' legitimate ads fraud-flagged."""
        rate = self.test.fraud_on_legit.rate
        return None if rate is None else rate <= EMSCAD_FRAUD_LEGIT_TARGET

    def add(self, row: EmscadAd, a: Assessment, flagged: bool) -> None:
        self.all.add(row, flagged, a.fraud_flagged)
        self.sides[row.split].add(row, flagged, a.fraud_flagged)
        if flagged and not row.fraudulent:
            self.flagged_legit.append({"job_id": row.ad.id, "line": row.line, "title": row.ad.title,
                                       "score": a.score, "summary": a.summary()})

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
            "split": {"method": self.split_method, **{k: v.to_dict() for k, v in self.sides.items()}},
            "fraud_test": {"recall": self.test.fraud_on_fraud.rate, "legit_flag_rate": self.test.fraud_on_legit.rate,
                           "legit_flag_target": EMSCAD_FRAUD_LEGIT_TARGET, "met": self.fraud_target_met},
            "fraud_precision_at_base_rate": {"base_rate": EMSCAD_BASE_RATE, "value": self.fraud_precision_at_base_rate,
                                             "on": "test groups"},
            "legit_target": {"target": EMSCAD_LEGIT_FLAG_TARGET, "met": self.legit_target_met},
            "flagged_legit": self.flagged_legit,
        }


def evaluate_emscad(
    path: str | Path = EMSCAD_DEFAULT,
    engine: Engine | None = None,
    threshold: int | None = None,
    progress: Progress = _no_progress,
) -> EmscadReport:
    """Assess every EMSCAD ad; counts per side of the template split (rules/emscad.py)."""
    rows = load_emscad(path)
    engine = Engine.load() if engine is None else engine
    report = EmscadReport(path=str(path), threshold=threshold)
    for row in progress(rows, len(rows), "EMSCAD"):
        a = engine.assess(row.ad)
        report.add(row, a, _flagged(a, threshold))
    return report
