"""Export records: which ads (Selection) and what an outside reader gets of each (iter_records, iter_ad_records).

A record is a plain dict: the ads columns an outside reader needs, `categories` as a list, `nearest_lure` as a
dict, `evidence` / `contacts` as lists of dicts, `campaign_id` as a number and `campaign` (its campaigns row) or
None. Records are read from the database read-only, in chunks (memory does not grow with the selection).

Example: for record in iter_records("lurewatch.db", Selection(min_score=60)): print(record["url"])
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from crawler.sqlitetx import BUSY_TIMEOUT

EXPORT_COLUMNS = (
    "id", "url", "source", "external_id", "title", "company", "location", "country", "salary_text",
    "salary_usd_month", "language", "posted_at", "description", "contact", "risk_score", "risk_level", "flagged",
    "fraud_score", "fraud_flagged", "categories", "summary", "nearest_lure", "ruleset_version", "assessed_at",
    "review_status", "campaign_id", "first_seen", "last_seen", "removed_at",
)
EVIDENCE_COLUMNS = ("rule_id", "category", "weight", "matched_text", "field", "start", "end", "explanation")
CONTACT_COLUMNS = ("kind", "value", "raw", "field")


class ExportError(RuntimeError):
    """An export cannot run: the message names the database, format or output path."""


# An ad whose latest analyst verdict is this is never exported as an alert, whatever the selection.
REJECTED_VERDICT = "not_lure"


@dataclass(frozen=True)
class Selection:
    """Which ads to export: flagged ones by default, or every ad scoring at least `min_score`. Ads analysts
    rejected (latest verdict `not_lure`) are never selected."""

    min_score: int | None = None
    after_id: int | None = None  # incremental feeds: only ads with a larger id
    include_removed: bool = True

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["coalesce(review_status, '') != ?"], [REJECTED_VERDICT]
        if self.min_score is None:
            clauses.append("flagged = 1")
        else:
            clauses.append("risk_score >= ?")
            params.append(self.min_score)
        if self.after_id is not None:
            clauses.append("id > ?")
            params.append(self.after_id)
        if not self.include_removed:
            clauses.append("removed_at is null")
        return " and ".join(clauses), params


def _open_db(db_path: Path | str) -> sqlite3.Connection:
    path = Path(db_path)
    if not path.is_file():
        raise ExportError(f"database not found: {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
        conn.row_factory = sqlite3.Row
        conn.execute("select 1 from ads limit 1")
    except sqlite3.Error as exc:
        raise ExportError(f"{path}: not a readable Lurewatch database: {exc}") from exc
    return conn


def _json_or(value: Any, default: Any) -> Any:
    if value in (None, ""):
        return default
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def iter_records(db_path: Path | str, selection: Selection = Selection()) -> Iterator[dict[str, Any]]:
    """Export records for the selected ads, riskiest first, each with its evidence and contacts."""
    conn = _open_db(db_path)
    try:
        where, params = selection.where()
        yield from _records(conn, where, params)
    finally:
        conn.close()


def iter_ad_records(db_path: Path | str, ad_ids: Iterable[int]) -> Iterator[dict[str, Any]]:
    """Records of exactly these ads, whatever their score or verdict (partner alerts: updates and revocations
    carry the ad's columns too), riskiest first."""
    ids = list(dict.fromkeys(ad_ids))
    conn = _open_db(db_path)
    try:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            yield from _records(conn, f"id in ({','.join('?' * len(part))})", part)
    finally:
        conn.close()


RECORD_BATCH = 500  # ads read together (their evidence and contacts in one query each)


def _records(conn: sqlite3.Connection, where: str, params: list[Any]) -> Iterator[dict[str, Any]]:
    """Records in the export order, streamed: the selected ids are read in order from one cursor, then the
    ads, evidence and contacts of each chunk of RECORD_BATCH ids; memory does not grow with the selection."""
    cols = ", ".join(f'"{c}"' for c in EXPORT_COLUMNS)
    ev_cols = ", ".join(f'"{c}"' for c in EVIDENCE_COLUMNS)
    ct_cols = ", ".join(f'"{c}"' for c in CONTACT_COLUMNS)
    campaigns = _Campaigns(conn)
    ids = conn.execute(f"select id from ads where {where} order by risk_score desc, id", params)
    while chunk := [row[0] for row in ids.fetchmany(RECORD_BATCH)]:
        marks = ",".join("?" * len(chunk))
        ads = {row["id"]: dict(row) for row in conn.execute(f"select {cols} from ads where id in ({marks})", chunk)}
        evidence: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(f"select ad_id, {ev_cols} from evidence where ad_id in ({marks})"
                                " order by ad_id, weight desc, id", chunk):
            evidence.setdefault(row["ad_id"], []).append({c: row[c] for c in EVIDENCE_COLUMNS})
        contacts: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(f"select ad_id, {ct_cols} from contacts where ad_id in ({marks}) order by ad_id, id",
                                chunk):
            contacts.setdefault(row["ad_id"], []).append({c: row[c] for c in CONTACT_COLUMNS})
        for ad_id in chunk:
            record = ads.get(ad_id)
            if record is None:
                continue  # deleted since the ids were read
            record["flagged"] = bool(record["flagged"])
            record["fraud_flagged"] = bool(record["fraud_flagged"])
            record["categories"] = _json_or(record["categories"], [])
            record["nearest_lure"] = _json_or(record["nearest_lure"], None)
            record["campaign_id"] = _whole(record["campaign_id"])
            record["campaign"] = campaigns.get(record["campaign_id"])
            record["evidence"] = evidence.get(ad_id, [])
            record["contacts"] = contacts.get(ad_id, [])
            yield record


def _whole(value: Any) -> int | None:
    """ads.campaign_id as a number (the column is TEXT: SQLite hands back '12')."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


CAMPAIGN_FIELDS = ("id", "key", "ads", "first_seen", "last_seen", "status", "updated_at", "contacts")


class _Campaigns:
    """The `campaign` of a record: {ref, id, ads, first_seen, last_seen, status, updated_at, contacts} from the
    campaigns table (crawler/campaigns/), read once per campaign; `ref` (its key,
    "lurewatch:<db instance>:campaign:<id>") names it across databases, as alert ids do. None without a campaign
    or a campaigns table."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.cache: dict[int, dict[str, Any] | None] = {}
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        self.ready = "campaigns" in names
        instance = None
        if "meta" in names:
            found = conn.execute("select value from meta where key = 'instance_id'").fetchone()
            instance = found[0] if found else None
        self.prefix = f"lurewatch:{instance or 'db'}:campaign:"

    def get(self, campaign_id: int | None) -> dict[str, Any] | None:
        if campaign_id is None or not self.ready:
            return None
        if campaign_id not in self.cache:
            cols = ", ".join(f'"{c}"' for c in CAMPAIGN_FIELDS)
            row = self.conn.execute(f"select {cols} from campaigns where id = ?", [campaign_id]).fetchone()
            if row is None:
                self.cache[campaign_id] = None
            else:
                found = dict(zip(CAMPAIGN_FIELDS, tuple(row)))
                found["contacts"] = [c for c in _json_or(found["contacts"], []) if isinstance(c, dict)]
                self.cache[campaign_id] = {"ref": found.pop("key") or self.prefix + str(campaign_id), **found}
        return self.cache[campaign_id]
