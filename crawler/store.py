"""SQLite store (sqlite-utils): explicit schema, created on first use, WAL mode.

Tables
  ads        one row per ad, however many URLs it was reached through
  ad_urls    every URL (canonical, redirect source, duplicate listing) -> ad
  evidence   why an ad scored: rule id, category, weight, matched text
  contacts   phones (E.164), messenger handles, emails, domains per ad
  ad_history new / changed / removed events with the content hash
  snapshots  a kept fetch of an ad's page (url, status, when; first, each change), kept after take-down; its body in
  snapshot_bodies  page bodies, zstd with a dictionary per source (snapshot_dicts), once per content (sha1): the
             ads of one page share it (crawler/snapshots.py, crawler/snapcodec.py)
  crawls     one row per run: counts and errors by kind
  reviews    analyst verdicts, append-only; ads.review_status is the latest one (crawler/verdicts.py)
  confirmed_lures      an ad's text when an analyst confirmed it a lure: joins the known-lure corpus
  confirmed_negatives  an ad's text when an analyst rejected it (not_lure): kept as a negative example
  job_runs   one row per scheduled run of a plan job (crawler/schedule.py)
  job_locks  the job a scheduler process is running now (crawler/joblocks.py)
  alerts, alert_partners, deliveries   partner alerts: versions, cursors, what was sent (crawler/alertstate.py)
  campaign_risk  the engine's own score of each ad its campaign raised (crawler/campaigns/risk.py)
  ad_categories  one row per category of an ad, kept in sync by triggers on ads (crawler/reviewindex.py)

Many processes may use one database at once (crawls, rescans, exports, the review app). Every
write is one `BEGIN IMMEDIATE` transaction (a writer takes the write lock before reading, so WAL
readers never have to upgrade), and a transaction that meets "database is locked"/"busy" is rolled
back and run again with backoff until `retry_for` seconds have passed; then StoreError names the path.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlite_utils

from .adwriter import FTS_COLUMNS, AdWriter, fts_trigger_current, narrow_fts_trigger
from .campaigns.schema import CAMPAIGN_PRIMARY_KEYS, CAMPAIGN_TABLES, current as campaigns_current
from .campaigns.schema import migrate as migrate_campaigns
from . import reviewindex, storelayout
from .bulkindex import BULK_MIN, BulkIndex
from .alertstate import ALERT_PRIMARY_KEYS, ALERT_TABLES, AlertState, migrate as migrate_alerts
from .snapcodec import DICT_COLUMNS
from .pagehash import PAGE_ADS_COLUMNS, PAGE_ADS_KEY, record_page_ad
from .snapshots import BODY_COLUMNS, insert_snapshot, move_snapshot_bodies, read_snapshots
from .sqlitetx import BUSY_TIMEOUT, RETRY_FOR, StoreError, Transactions
from .verdicts import (LABELLED_COLUMNS, VERDICT_TABLES, VERDICTS, ReviewInputError, check_review,  # noqa: F401
                       insert_review, known_lure_entry, labelled, migrate as migrate_verdicts)

SCHEMA_VERSION = 8  # 2: page bodies moved from snapshots.body_gz to snapshot_bodies; 3: confirmed lures/negatives;
# 4: partner alerts (alerts, alert_partners, deliveries; meta instance_id); 5: campaigns (crawler/campaigns/schema.py)
# 6: snapshot bodies zstd with per-source dictionaries (snapshot_dicts), ads_au FTS trigger on text columns only
# 7: ad_categories kept by triggers, indexes of every review view (crawler/reviewindex.py)
# 8: redundant idx_contacts_kind_value dropped, 8 KiB pages for new databases (crawler/storelayout.py);
#    facet_pairs (counts of two facet values together) kept by triggers on ads (crawler/reviewindex.py)

AD_TEXT_FIELDS = ("title", "company", "location", "salary_text", "description", "contact")

SCHEMA = {
    "ads": {
        "id": int,
        "url": str,  # canonical URL
        "source": str,  # site host or profile name
        "spider": str,
        "external_id": str,  # site's own id (JobPosting identifier) when known
        "title": str,
        "company": str,
        "location": str,
        "country": str,
        "salary_text": str,
        "salary_usd_month": float,
        "description": str,
        "contact": str,
        "language": str,
        "posted_at": str,
        "content_hash": str,
        "first_seen": str,
        "last_seen": str,
        "removed_at": str,
        "last_crawl_id": int,  # the last crawl that saw the ad (stored, or 304 Not Modified)
        "etag": str,
        "last_modified": str,
        "risk_score": int,
        "risk_level": str,
        "flagged": int,
        "fraud_score": int,
        "fraud_flagged": int,
        "categories": str,  # JSON list
        "summary": str,
        "nearest_lure": str,  # JSON
        "ruleset_version": str,
        "assessed_at": str,
        "review_status": str,  # unreviewed | lure | not_lure | fraud | unsure
        "campaign_id": int,  # campaigns.id, set by campaign linking (crawler/campaigns); TEXT in stores made before 5
    },
    "ad_urls": {"url": str, "ad_id": int, "kind": str, "first_seen": str},
    "evidence": {
        "id": int,
        "ad_id": int,
        "rule_id": str,
        "category": str,
        "weight": float,
        "matched_text": str,
        "field": str,
        "start": int,
        "end": int,
        "explanation": str,
    },
    "contacts": {"id": int, "ad_id": int, "kind": str, "value": str, "raw": str, "field": str},
    "ad_history": {"id": int, "ad_id": int, "crawl_id": int, "at": str, "event": str, "content_hash": str, "changed_fields": str},
    "snapshots": {"id": int, "ad_id": int, "crawl_id": int, "fetched_at": str, "url": str, "status": int, "content_type": str, "sha1": str},
    "snapshot_bodies": BODY_COLUMNS,
    "snapshot_dicts": DICT_COLUMNS,
    "crawls": {
        "id": int,
        "spider": str,
        "args": str,
        "started_at": str,
        "finished_at": str,
        "status": str,  # running | finished | partial | failed | interrupted (crawler/crawlrecord.py)
        "pages": int,
        "items": int,
        "new_ads": int,
        "changed_ads": int,
        "unchanged_ads": int,
        "assessed_ads": int,  # ads the engine scored in this run (unchanged ones keep their assessment)
        "removed_ads": int,
        "not_modified_ads": int,  # seen unchanged without extraction: answered 304, or same page body hash
        "flagged_ads": int,  # ads of this run the engine flagged (new, changed or unchanged)
        "errors": str,  # JSON {kind: count}
        "message": str,
        "job": str,  # the plan job that ran this crawl (`lurewatch crawl --job`), else NULL
        "host": str, "pid": int, "pid_started": str,  # the crawl's process (interrupted when it is gone)
    },
    "reviews": {"id": int, "ad_id": int, "at": str, "reviewer": str, "verdict": str, "note": str},
    # text: title + "\n" + description when the verdict was given (what the similarity stage compares)
    "confirmed_lures": LABELLED_COLUMNS,
    "confirmed_negatives": LABELLED_COLUMNS,
    "job_runs": {"id": int, "job": str, "schedule": str, "scheduled_for": str, "started_at": str, "finished_at": str,
                 "status": str, "exit_code": int, "crawl_id": int, "holder": str, "message": str},
    "job_locks": {"job": str, "run_id": int, "holder": str, "host": str, "pid": int, "pid_started": str,
                  "child_pid": int, "child_started": str, "acquired_at": str, "heartbeat_at": str, "expires_at": str},
    **ALERT_TABLES,
    **CAMPAIGN_TABLES,
    # the engine's score of each ad that campaign risk raised (crawler/campaigns/risk.py)
    "page_ads": PAGE_ADS_COLUMNS,  # the ads of each page's last fetch, by body sha1 (crawler/pagehash.py)
    "campaign_risk": {"ad_id": int, "engine_score": int, "engine_level": str, "engine_flagged": int, "score": int,
                      "campaign_id": int, "updated_at": str},
}
PRIMARY_KEYS = {"ad_urls": "url", "page_ads": PAGE_ADS_KEY, "job_locks": "job", "snapshot_bodies": "sha1", **ALERT_PRIMARY_KEYS,
                **CAMPAIGN_PRIMARY_KEYS, "campaign_risk": "ad_id"}  # else: id
# The review app's triage pages (output/review/triage.py): queue by level newest first, an analyst's reviews,
# flagged ads per day by source and country (covering), reviews per day.
REVIEW_INDEXES = (("ads", ["review_status", "risk_level", "first_seen"]),
                  ("ads", ["flagged", "first_seen", "source", "country"]),
                  ("reviews", ["reviewer", "at"]), ("reviews", ["at", "verdict"]))


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def content_hash(ad: dict[str, Any]) -> str:
    payload = "\x1f".join(str(ad.get(k) or "").strip() for k in AD_TEXT_FIELDS)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


class Store(Transactions):
    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT, retry_for: float = RETRY_FOR):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.retry_for = retry_for
        self._depth = 0  # > 0 inside write()
        try:
            if self.path.parent and not self.path.parent.exists():
                raise StoreError(f"database directory does not exist: {self.path.parent}")
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self.retrying(lambda: storelayout.new_database_pages(conn))
            self.retrying(self.db.enable_wal)
            if not self.retrying(self._schema_current):
                self.write(self._create)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc

    # -- schema -------------------------------------------------------------
    def _schema_current(self) -> bool:
        """True when every table and column exists already (opening then writes nothing)."""
        tables = set(self.db.table_names())
        if not {"meta", *SCHEMA} <= tables or not self.db["ads"].detect_fts():
            return False
        if "body_gz" in self.db["snapshots"].columns_dict or not fts_trigger_current(self.db):  # schema 1, < 6
            return False
        indexes = {(t, tuple(i.columns)) for t in {t for t, _ in REVIEW_INDEXES} for i in self.db[t].indexes}
        if not all((t, tuple(c)) in indexes for t, c in REVIEW_INDEXES) or not reviewindex.current(self.db):
            return False
        if not campaigns_current(self.db) or not storelayout.current(self.db):
            return False
        return all(set(columns) <= set(self.db[name].columns_dict) for name, columns in SCHEMA.items())

    def _create(self) -> None:
        db = self.db
        created = set()
        for name, columns in SCHEMA.items():
            table = db[name]
            if not table.exists():
                pk = PRIMARY_KEYS.get(name, "id")
                table.create(columns, pk=pk, not_null={"url"} if name == "ads" else None)
                created.add(name)
            else:
                missing = {c: t for c, t in columns.items() if c not in table.columns_dict}
                for col, typ in missing.items():
                    table.add_column(col, typ)
        if "body_gz" in db["snapshots"].columns_dict:
            move_snapshot_bodies(db)
        db["ads"].create_index(["url"], unique=True, if_not_exists=True)
        db["ads"].create_index(["source", "external_id"], if_not_exists=True)
        db["ads"].create_index(["source", "content_hash"], if_not_exists=True)
        for t in ("evidence", "contacts", "ad_history", "snapshots", "reviews"):
            db[t].create_index(["ad_id"], if_not_exists=True)
        db["snapshots"].create_index(["sha1"], if_not_exists=True)
        db["snapshot_bodies"].create_index(["source", "dict_id"], if_not_exists=True)  # bodies waiting for a dictionary
        db["job_runs"].create_index(["job", "scheduled_for"], if_not_exists=True)
        for table, columns in REVIEW_INDEXES:
            db[table].create_index(columns, if_not_exists=True)
        reviewindex.migrate(db)
        storelayout.migrate(db)
        migrate_verdicts(db, created)
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        migrate_alerts(db)
        migrate_campaigns(db)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        if not db["ads"].detect_fts():
            db["ads"].enable_fts(list(FTS_COLUMNS), create_triggers=True)
        narrow_fts_trigger(db)

    # -- ads ----------------------------------------------------------------
    def find_ad_id(self, urls: Iterable[str], source: str | None = None, external_id: str | None = None,
                   chash: str | None = None) -> int | None:
        """Identity of an ad: any known URL, else (source, external id), else (source, content hash)."""
        urls = [u for u in urls if u]
        if urls:
            marks = ",".join("?" * len(urls))
            row = self.db.execute(f"SELECT ad_id FROM ad_urls WHERE url IN ({marks}) LIMIT 1", urls).fetchone()
            if row:
                return row[0]
        if source and external_id:
            row = self.db.execute("SELECT id FROM ads WHERE source=? AND external_id=? LIMIT 1", [source, external_id]).fetchone()
            if row:
                return row[0]
        if source and chash:
            # same text, but two different site ids are two ads (e.g. one template posted twice)
            row = self.db.execute(
                "SELECT id FROM ads WHERE source=? AND content_hash=?"
                " AND (? IS NULL OR external_id IS NULL OR external_id = '' OR external_id = ?) ORDER BY id LIMIT 1",
                [source, chash, external_id or None, external_id or None]).fetchone()
            if row:
                return row[0]
        return None

    def unchanged_ad(self, ad: dict[str, Any], aliases: Iterable[str] = ()) -> dict[str, Any] | None:
        """The stored, assessed row that ``save_ad(ad)`` would find unchanged (same text), else None."""
        if not ad.get("url"):
            return None
        chash = content_hash(ad)

        def lookup():
            ad_id = self.find_ad_id([ad["url"], *aliases], ad.get("source"), ad.get("external_id"), chash)
            return None if ad_id is None else self.db["ads"].get(ad_id)

        row = self.retrying(lookup)
        return row if row and row["content_hash"] == chash and row.get("assessed_at") else None

    def save_ad(self, ad: dict[str, Any], assessment: dict[str, Any] | None = None, *, aliases: Iterable[str] = (),
                crawl_id: int | None = None, snapshot: dict[str, Any] | None = None) -> tuple[int, str]:
        """Insert or update one ad. Returns (ad_id, 'new' | 'changed' | 'unchanged').

        `ad` holds the ads columns (url required); `aliases` are other URLs of the same ad;
        `assessment` is Assessment.to_dict(); `snapshot` is {url, status, content_type, body}.
        """
        return self.add_many([{"ad": ad, "assessment": assessment, "aliases": aliases, "snapshot": snapshot}],
                             crawl_id=crawl_id)[0]

    def add_many(self, entries: Iterable[dict[str, Any]], crawl_id: int | None = None) -> list[tuple[int, str]]:
        """Save a batch of ads in ONE write transaction (crawler/adwriter.py); (ad_id, status) for each, in order.

        Each entry is {"ad": ads columns (url required), "assessment": Assessment.to_dict() or None,
        "aliases": other URLs, "snapshot": {url, status, content_type, body} or None, optionally "page": the
        page it came from, crawler/pagehash.py}, as for save_ad. Ads, URLs,
        history, evidence, contacts and snapshots are all written; a later entry sees the earlier ones (the same
        ad twice in a batch is new, then unchanged). ValueError (nothing written) if an ad has no url.
        Example: store.add_many([{"ad": {"url": u, "source": "board", "title": "Chat support"}}], crawl_id=7)
        """
        entries = list(entries)
        for entry in entries:
            if not (entry.get("ad") or {}).get("url"):
                raise ValueError("ad has no url")

        def work() -> list[tuple[int, str]]:
            writer, stamp = self._writer(), now()
            bulk = BulkIndex(writer.conn) if len(entries) >= BULK_MIN else None
            writer.bulk = bulk if bulk and bulk.suspend() else None
            try:
                saved = [writer.save(e["ad"], e.get("assessment"), [e["ad"]["url"], *(e.get("aliases") or ())],
                                     crawl_id, e.get("snapshot"), stamp) for e in entries]
                if writer.bulk:
                    writer.bulk.finish()
            except BaseException:
                if writer.bulk and writer.conn.in_transaction:
                    writer.bulk.restore()  # the transaction rolls back; a caller that goes on has its triggers
                raise
            finally:
                writer.bulk = None
            for e, (ad_id, _status) in zip(entries, saved):
                if e.get("page"):
                    record_page_ad(self.db.conn, e["page"], ad_id)
            return saved

        return self.write(work) if entries else []

    def _writer(self) -> AdWriter:
        writer = getattr(self, "_ad_writer", None)
        if writer is None:
            writer = self._ad_writer = AdWriter(self)
        return writer

    def _after_rollback(self) -> None:
        """Forget what the rolled-back transaction cached (a snapshot dictionary it trained, counts)."""
        self.db._lurewatch_codec = None

    @staticmethod
    def _assessment_columns(a: dict[str, Any], stamp: str | None = None) -> dict[str, Any]:
        return {
            "risk_score": a["score"],
            "risk_level": a["level"],
            "flagged": int(bool(a["flagged"])),
            "fraud_score": a.get("fraud_score", 0),
            "fraud_flagged": int(bool(a.get("fraud_flagged"))),
            "language": a.get("language"),
            "salary_usd_month": a.get("salary_usd_month"),
            "categories": json.dumps(a.get("categories") or []),
            "summary": a.get("summary", ""),
            "nearest_lure": json.dumps(a["nearest_lure"]) if a.get("nearest_lure") else None,
            "ruleset_version": a.get("ruleset_version", ""),
            "assessed_at": stamp or now(),
        }

    def _replace_evidence(self, ad_id: int, a: dict[str, Any]) -> None:
        self._writer().replace_evidence(ad_id, a)

    def update_assessment(self, ad_id: int, assessment: dict[str, Any]) -> None:
        def work():
            self.db["ads"].update(ad_id, self._assessment_columns(assessment))
            self._replace_evidence(ad_id, assessment)

        self.write(work)

    def iter_ads(self, where: str | None = None, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
        yield from self.db["ads"].rows_where(where, list(params), order_by="id")

    def count(self, table: str = "ads") -> int:
        return self.retrying(lambda: self.db[table].count)

    # -- incremental crawling: conditional requests, seen / removed ----------------
    def known_ad(self, url: str) -> dict[str, Any] | None:
        """{id, etag, last_modified, removed_at} of the ad stored under `url` (any of its URLs), or None."""
        row = self.retrying(lambda: self.db.execute(
            "SELECT a.id, a.etag, a.last_modified, a.removed_at FROM ad_urls u JOIN ads a ON a.id = u.ad_id WHERE u.url = ?",
            [url]).fetchone())
        return dict(zip(("id", "etag", "last_modified", "removed_at"), row)) if row else None

    def _history(self, ad_id: int, crawl_id: int | None, event: str, chash: str | None, detail: str = "") -> None:
        self.db.conn.execute("INSERT INTO ad_history (ad_id, crawl_id, at, event, content_hash, changed_fields)"
                             " VALUES (?, ?, ?, ?, ?, ?)", [ad_id, crawl_id, now(), event, chash, detail])

    def _removed_and_hash(self, ad_id: int) -> tuple[str | None, str | None]:
        """(removed_at, content_hash) of a stored ad; NotFoundError when there is none (plain SQL: a 304 recrawl
        marks every ad, and sqlite-utils' get/update read the table's schema on each call)."""
        row = self.db.conn.execute("SELECT removed_at, content_hash FROM ads WHERE id = ?", [ad_id]).fetchone()
        if row is None:
            raise sqlite_utils.db.NotFoundError(f"ad {ad_id} is not stored")
        return row

    def mark_seen(self, ad_id: int, crawl_id: int | None) -> None:
        """The ad is still online and unchanged (e.g. 304 Not Modified): bump last_seen, nothing else."""
        def work():
            removed_at, chash = self._removed_and_hash(ad_id)
            if removed_at:
                self._history(ad_id, crawl_id, "reappeared", chash)
            self.db.conn.execute("UPDATE ads SET last_seen = ?, last_crawl_id = ?, removed_at = NULL WHERE id = ?",
                                 [now(), crawl_id, ad_id])

        self.write(work)

    def mark_removed(self, ad_id: int, crawl_id: int | None, reason: str = "") -> bool:
        """Set removed_at and add a 'removed' history event; the row and its snapshots stay.
        False when the ad was already marked removed."""
        def work() -> bool:
            removed_at, chash = self._removed_and_hash(ad_id)
            if removed_at:
                return False
            self.db.conn.execute("UPDATE ads SET removed_at = ? WHERE id = ?", [now(), ad_id])
            self._history(ad_id, crawl_id, "removed", chash, reason)
            return True

        return self.write(work)

    def remove_unseen(self, source: str, since: str, crawl_id: int | None, reason: str) -> int:
        """Mark removed every live ad of `source` not seen since `since`; returns how many.

        Seen by *any* crawl counts: a crawl running alongside that stored or confirmed the ad
        (last_seen moved past `since`) keeps it live. Timestamps have whole seconds: an ad last seen in the
        very second this crawl started counts as unseen when the crawl that saw it had already finished then.
        Checked and written in one transaction.
        """
        def work() -> int:
            stamp = now()
            removed = 0
            for ad_id, chash in self.db.execute(
                    "SELECT id, content_hash FROM ads WHERE source = ? AND removed_at IS NULL"
                    " AND (last_seen IS NULL OR last_seen < ? OR (last_seen = ? AND last_crawl_id IS NOT ?"
                    " AND last_crawl_id IN (SELECT id FROM crawls WHERE finished_at <= ?))) ORDER BY id",
                    [source, since, since, crawl_id, since]).fetchall():
                self.db.execute("UPDATE ads SET removed_at = ? WHERE id = ?", [stamp, ad_id])
                self._history(ad_id, crawl_id, "removed", chash, reason)
                removed += 1
            return removed

        return self.write(work)

    def history(self, ad_id: int) -> list[dict[str, Any]]:
        return list(self.db["ad_history"].rows_where("ad_id = ?", [ad_id], order_by="id"))

    # -- snapshots, crawls, reviews ------------------------------------------------
    def add_snapshot(self, ad_id: int, snap: dict[str, Any], crawl_id: int | None = None) -> None:
        """A snapshots row for the ad; the body is stored once per content (the ads of one page share it)."""
        self.write(lambda: insert_snapshot(self.db, ad_id, snap, crawl_id, now()))

    def snapshots(self, ad_id: int) -> list[dict[str, Any]]:
        """The ad's snapshots, oldest first, each with its page `body` (bytes, decompressed)."""
        return self.retrying(lambda: read_snapshots(self.db, ad_id))

    def start_crawl(self, spider: str, args: dict[str, Any] | None = None, **columns: Any) -> int:
        row = {"spider": spider, "args": json.dumps(args or {}), "started_at": now(), "status": "running", **columns}
        return self.write(lambda: self.db["crawls"].insert(row).last_pk)

    def crawl(self, crawl_id: int) -> dict[str, Any]:
        return self.retrying(lambda: self.db["crawls"].get(crawl_id))

    def finish_crawl(self, crawl_id: int, **counts: Any) -> None:
        row = {"finished_at": now(), **counts}
        if isinstance(row.get("errors"), dict):
            row["errors"] = json.dumps(row["errors"], sort_keys=True)
        self.write(lambda: self.db["crawls"].update(crawl_id, row))

    # -- reviews (crawler/verdicts.py) --------------------------------------------
    def add_review(self, ad_id: int, verdict: str, reviewer: str, note: str = "") -> int:
        """Append an analyst's verdict (UTC time), make it the ad's review_status; returns the review id.
        `lure` adds the ad's text to confirmed_lures (see known_lure_entries), `not_lure` to
        confirmed_negatives. ReviewInputError (nothing written) for an unknown verdict or ad id, or no reviewer."""
        name = check_review(ad_id, verdict, reviewer)
        return self.write(lambda: insert_review(self.db, self.path, ad_id, verdict, name, note, now()))

    def reviews(self, ad_id: int) -> list[dict[str, Any]]:
        """The ad's reviews, oldest first."""
        return self.retrying(lambda: list(self.db["reviews"].rows_where("ad_id = ?", [ad_id], order_by="id")))

    def confirmed_lures(self) -> list[dict[str, Any]]:
        """confirmed_lures rows of ads whose latest verdict is still `lure`."""
        return self.retrying(lambda: labelled(self.db, "lure"))

    def negatives(self) -> list[dict[str, Any]]:
        """confirmed_negatives rows of ads whose latest verdict is still `not_lure`."""
        return self.retrying(lambda: labelled(self.db, "not_lure"))

    def known_lure_entries(self) -> list[dict[str, Any]]:
        """The confirmed lures as known-lure corpus entries, each naming its ad (ad_id, url, review_id)."""
        return [known_lure_entry(row) for row in self.confirmed_lures()]

    @property
    def alerts(self) -> AlertState:
        """Partner alerts: versions, cursors, deliveries (crawler/alertstate.py)."""
        return AlertState(self)

    def close(self) -> None:
        self.db.conn.close()
