"""Plain data types of the detection engine. No Scrapy here: rules/ scores ads anywhere."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

AD_FIELDS = ("title", "company", "location", "salary", "description", "contact")


@dataclass
class Ad:
    """One job ad as the engine sees it. Every field may be missing."""

    id: str | None = None
    url: str | None = None
    title: str = ""
    company: str = ""
    location: str = ""
    salary: str = ""
    description: str = ""
    contact: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Ad":
        def text(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)

        raw_id = data.get("id")
        return cls(
            id=None if raw_id is None else str(raw_id),
            url=data.get("url") or None,
            # the store names the salary column salary_text
            salary=text("salary") or text("salary_text"),
            **{k: text(k) for k in AD_FIELDS if k != "salary"},
        )

    @staticmethod
    def type_problem(data: dict[str, Any]) -> str | None:
        """Why `data` cannot be read as an ad (a field of the wrong type), or None."""
        for key in (*AD_FIELDS, "salary_text", "id", "url"):
            value = data.get(key)
            if value is None or isinstance(value, str):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("url",):
                continue
            kind = "a string" if key == "url" else "a string or a number"
            return f"field {key!r} must be {kind}, got {type(value).__name__}"
        return None

    def texts(self) -> dict[str, str]:
        """The text fields to match, by name."""
        return {k: getattr(self, k) for k in AD_FIELDS if getattr(self, k)}


@dataclass(frozen=True)
class Evidence:
    """Why a score went up: one rule (or similarity) hit, with the matched span."""

    rule_id: str
    category: str
    weight: float
    matched_text: str
    field: str = ""
    start: int = -1
    end: int = -1
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Contact:
    """A contact point found in an ad (phone as E.164, handle, link, email, domain)."""

    kind: str  # phone, telegram, whatsapp, line, wechat, zalo, qq, email, url, domain
    value: str  # normalised
    raw: str = ""
    field: str = ""
    start: int = -1
    end: int = -1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Assessment:
    """The engine's verdict on one ad."""

    score: int  # 0-100, lure (trafficking recruitment) risk
    level: str  # none | low | medium | high
    flagged: bool
    evidence: list[Evidence] = field(default_factory=list)
    language: str | None = None
    fraud_score: int = 0  # ordinary job fraud (not trafficking), 0-100
    fraud_flagged: bool = False
    contacts: list[Contact] = field(default_factory=list)
    salary_usd_month: float | None = None
    nearest_lure: dict[str, Any] | None = None  # {"id":..., "similarity":...}
    ruleset_version: str = ""
    truncated_fields: list[str] = field(default_factory=list)  # fields cut to the engine's max_field_chars
    max_field_chars: int = 0
    language_covered: bool | None = None  # False: no language pack reads `language` (None: language unknown)

    @property
    def categories(self) -> list[str]:
        return sorted({e.category for e in self.evidence})

    def summary(self) -> str:
        """One sentence an analyst can check against the ad."""
        cut = (f" Only the first {self.max_field_chars:,} characters of {', '.join(self.truncated_fields)} "
               "were assessed." if self.truncated_fields else "")
        if not self.evidence:
            return "No indicators matched." + cut
        parts = [f'{e.category} ({e.rule_id}: "{e.matched_text}")' for e in self.evidence[:6]]
        more = f" and {len(self.evidence) - 6} more" if len(self.evidence) > 6 else ""
        return "Matched " + "; ".join(parts) + more + "." + cut

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level,
            "flagged": self.flagged,
            "fraud_score": self.fraud_score,
            "fraud_flagged": self.fraud_flagged,
            "language": self.language,
            "categories": self.categories,
            "salary_usd_month": self.salary_usd_month,
            "nearest_lure": self.nearest_lure,
            "ruleset_version": self.ruleset_version,
            "truncated_fields": self.truncated_fields,
            "language_covered": self.language_covered,
            "summary": self.summary(),
            "evidence": [e.to_dict() for e in self.evidence],
            "contacts": [c.to_dict() for c in self.contacts],
        }
