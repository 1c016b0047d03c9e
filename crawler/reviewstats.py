"""How well the engine's rules agree with analysts: precision per rule and per category on reviewed ads,
week by week, and the rules whose hits analysts most often reject (`lurewatch eval --reviews`).

Each reviewed ad counts once (per rule, and per category), with its LATEST verdict, in the ISO week of that
verdict, and with the evidence it has now (its current assessment). A rule hit is *confirmed* when the verdict
is what the rule points to: lure signs -> `lure`; fraud signs (`fraud`, `fraud_hint`) -> `fraud` or `lure`;
mitigating signs -> `not_lure` or `fraud`. Precision = confirmed / decided hits (`unsure` verdicts are counted apart, never decided).
*Rejected* = hits on ads an analyst marked `not_lure` (mitigating rules excepted: that is what they say).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rules.ruleset import FRAUD_CATEGORIES, MITIGATING

from .store import VERDICTS, Store

ALL_WEEKS = "all"


def confirming_verdicts(category: str) -> frozenset[str]:
    if category in FRAUD_CATEGORIES:
        return frozenset(("fraud", "lure"))
    if category == MITIGATING:
        return frozenset(("not_lure", "fraud"))
    return frozenset(("lure",))


def iso_week(stamp: str) -> str:
    """"2026-W49" for an ISO timestamp."""
    year, week, _ = datetime.fromisoformat(stamp).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Tally:
    """Hits of one rule (or category) on reviewed ads."""

    hits: int = 0
    confirmed: int = 0
    rejected: int = 0  # verdict not_lure (for a lure or fraud sign)
    unsure: int = 0

    @property
    def decided(self) -> int:
        return self.hits - self.unsure

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.decided if self.decided else None

    def add(self, verdict: str, category: str) -> None:
        self.hits += 1
        if verdict == "unsure":
            self.unsure += 1
        elif verdict in confirming_verdicts(category):
            self.confirmed += 1
        if verdict == "not_lure" and category != MITIGATING:
            self.rejected += 1

    def to_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "decided": self.decided, "confirmed": self.confirmed, "rejected": self.rejected,
                "unsure": self.unsure,
                "precision": None if self.precision is None else round(self.precision, 4)}


@dataclass
class ReviewReport:
    ads: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)  # latest verdict -> ads
    weeks: list[str] = field(default_factory=list)
    # week (or ALL_WEEKS) -> rule id / category -> tally
    by_rule: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    by_category: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    rule_category: dict[str, str] = field(default_factory=dict)

    def most_rejected(self, limit: int = 10) -> list[tuple[str, Tally]]:
        """Rules with at least one rejected hit: most rejections first, then the highest rejection rate."""
        rules = [(r, t) for r, t in self.by_rule[ALL_WEEKS].items() if t.rejected]
        rules.sort(key=lambda rt: (-rt[1].rejected, -(rt[1].rejection_rate or 0.0), rt[0]))
        return rules[:limit]

    def to_dict(self) -> dict[str, Any]:
        def table(groups):
            return {week: {name: t.to_dict() for name, t in sorted(groups[week].items())}
                    for week in [ALL_WEEKS, *self.weeks] if week in groups}

        return {"reviewed_ads": self.ads, "verdicts": self.verdicts, "weeks": self.weeks,
                "rules": table(self.by_rule), "categories": table(self.by_category),
                "rule_categories": dict(sorted(self.rule_category.items())),
                "most_rejected": [{"rule_id": r, "category": self.rule_category[r], **t.to_dict(),
                                   "rejection_rate": round(t.rejection_rate or 0.0, 4)}
                                  for r, t in self.most_rejected()]}


def review_report(store: Store) -> ReviewReport:
    """The report for the reviewed ads of an open store."""
    latest = store.db.execute(
        "SELECT r.ad_id, r.verdict, r.at FROM reviews r JOIN ads a ON a.id = r.ad_id"
        " WHERE r.id IN (SELECT max(id) FROM reviews GROUP BY ad_id) AND r.verdict IN (?, ?, ?, ?)"
        " ORDER BY r.ad_id", list(VERDICTS)).fetchall()
    hits: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for ad_id, rule_id, category in store.db.execute(
            "SELECT DISTINCT ad_id, rule_id, category FROM evidence"
            " WHERE ad_id IN (SELECT ad_id FROM reviews) ORDER BY ad_id, rule_id"):
        hits[ad_id].append((rule_id, category or ""))
    report = ReviewReport()
    verdicts = {v: 0 for v in VERDICTS}
    for ad_id, verdict, at in latest:
        report.ads += 1
        verdicts[verdict] += 1
        week = iso_week(at)
        for rule_id, category in hits.get(ad_id, []):
            report.rule_category[rule_id] = category
            for w in (ALL_WEEKS, week):
                report.by_rule[w][rule_id].add(verdict, category)
        for category in sorted({c for _, c in hits.get(ad_id, [])}):  # an ad counts once per category
            for w in (ALL_WEEKS, week):
                report.by_category[w][category].add(verdict, category)
        if week not in report.weeks:
            report.weeks.append(week)
    report.weeks.sort()
    report.verdicts = verdicts
    return report
