"""Writing ads in bulk: the body of Store.save_ad / Store.add_many, run inside the store's write transaction.

Each ad costs a few indexed lookups (identity) and prepared INSERTs with cached SQL (ads, ad_urls, ad_history,
evidence and contacts with executemany, the snapshot through crawler/snapshots.py); a batch of ads is one
transaction, so one commit. Full-text search stays in sync through the ads_fts triggers; the update trigger
fires only when title, description or company change (a last_seen bump or a new assessment leaves the index alone).
A large batch keeps FTS and the review indexes with bulk statements instead (`bulk`, crawler/bulkindex.py).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from .reviewindex import FACET_COLUMNS
from .snapshots import insert_snapshot

FTS_COLUMNS = ("title", "description", "company")
EVIDENCE_COLUMNS = ("ad_id", "rule_id", "category", "weight", "matched_text", "field", "start", "end", "explanation")
CONTACT_COLUMNS = ("ad_id", "kind", "value", "raw", "field")
OLD_COLUMNS = ("content_hash", "removed_at")  # read from the stored row of a known ad, with the text fields
BULK_OLD_COLUMNS = (*FACET_COLUMNS["ads"], "categories")  # and these when a BulkIndex keeps the indexes


def fts_update_trigger_sql() -> str:
    cols = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
    old = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)
    new = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
    return (f'CREATE TRIGGER "ads_au" AFTER UPDATE OF {cols} ON "ads" BEGIN\n'
            f'  INSERT INTO "ads_fts" ("ads_fts", rowid, {cols}) VALUES(\'delete\', old.rowid, {old});\n'
            f'  INSERT INTO "ads_fts" (rowid, {cols}) VALUES (new.rowid, {new});\nEND')


def fts_trigger_current(db) -> bool:
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ads_au'").fetchone()
    return row is not None and "UPDATE OF" in row[0]


def narrow_fts_trigger(db) -> None:
    """Schema 6: the ads_au trigger (sqlite-utils fires it on every update) fires only on the indexed columns."""
    if db["ads"].detect_fts() and not fts_trigger_current(db):
        db.execute('DROP TRIGGER IF EXISTS "ads_au"')
        db.execute(fts_update_trigger_sql())


class AdWriter:
    """Saves ads on one Store connection; caches the SQL it builds (one per set of columns)."""

    def __init__(self, store):
        self.store = store
        self.db = store.db
        self.conn = store.db.conn
        self._insert_sql: dict[tuple[str, ...], str] = {}
        self._text_fields: tuple[str, ...] = ()
        self.bulk = None  # a BulkIndex while a large batch is written: it does the triggers' work

    def save(self, ad: dict[str, Any], assessment: dict[str, Any] | None, urls: Iterable[str], crawl_id: int | None,
             snapshot: dict[str, Any] | None, stamp: str) -> tuple[int, str]:
        from .store import AD_TEXT_FIELDS, SCHEMA, content_hash  # store.py imports this module

        chash = content_hash(ad)
        urls = list(dict.fromkeys(u for u in urls if u))
        ad_id = self.store.find_ad_id(urls, ad.get("source"), ad.get("external_id"), chash)
        row = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in ad.items()
               if k in SCHEMA["ads"] and k != "id"}
        row.update(content_hash=chash, last_seen=stamp, removed_at=None, last_crawl_id=crawl_id)
        old: dict[str, Any] = {}
        if ad_id is None:
            row.update(first_seen=stamp, review_status="unreviewed")
            if assessment:
                row.update(self.store._assessment_columns(assessment, stamp))
            ad_id = self.conn.execute(self._insert("ads", tuple(row)), list(row.values())).lastrowid
            status = "new"
            if self.bulk:
                self.bulk.ad_inserted(ad_id, row)
        else:
            names = OLD_COLUMNS + AD_TEXT_FIELDS + (BULK_OLD_COLUMNS if self.bulk else ())
            old = dict(zip(names, self.conn.execute(f"SELECT {', '.join(names)} FROM ads WHERE id = ?", [ad_id]).fetchone()))
            if old.get("removed_at"):
                self._history(ad_id, crawl_id, stamp, "reappeared", chash, "")
            if old["content_hash"] == chash:
                status = "unchanged"
                row = {"last_seen": stamp, "removed_at": None, "last_crawl_id": crawl_id}
                row.update({k: ad[k] for k in ("etag", "last_modified") if ad.get(k)})
            else:
                status = "changed"
                row.pop("url", None)  # the first canonical URL stays the ad's key
                if assessment:
                    row.update(self.store._assessment_columns(assessment, stamp))
            if self.bulk:
                self.bulk.write_pairs()  # the update trigger decrements the pairs of an ad inserted in this batch
            self.conn.execute(f"UPDATE ads SET {', '.join(f'[{k}] = ?' for k in row)} WHERE id = ?", [*row.values(), ad_id])
            if self.bulk:
                self.bulk.ad_updated(ad_id, old, row)
        self.conn.executemany("INSERT OR IGNORE INTO ad_urls (url, ad_id, kind, first_seen) VALUES (?,?,?,?)",
                              [(u, ad_id, "canonical" if u == ad["url"] else "alias", stamp) for u in urls])
        if status != "unchanged":
            if assessment:
                self.replace_evidence(ad_id, assessment, fresh=status == "new")
            changed = "" if status == "new" else json.dumps([k for k in AD_TEXT_FIELDS if (old.get(k) or "") != (ad.get(k) or "")])
            self._history(ad_id, crawl_id, stamp, status, chash, changed)
        if snapshot and status != "unchanged":  # retention: first, each change (crawler/snapshots.py)
            insert_snapshot(self.db, ad_id, snapshot, crawl_id, stamp, source=ad.get("source"))
        return ad_id, status

    def replace_evidence(self, ad_id: int, a: dict[str, Any], fresh: bool = False) -> None:
        """The ad's evidence and contacts are those of assessment `a` (fresh: the ad is new, nothing to delete)."""
        if not fresh:
            if self.bulk:
                self.bulk.rows_deleted(ad_id)
            self.conn.execute("DELETE FROM evidence WHERE ad_id = ?", [ad_id])
            self.conn.execute("DELETE FROM contacts WHERE ad_id = ?", [ad_id])
        if a.get("evidence"):
            self.conn.executemany(self._insert("evidence", EVIDENCE_COLUMNS),
                                  [(ad_id, *(e.get(k) for k in EVIDENCE_COLUMNS[1:])) for e in a["evidence"]])
            if self.bulk:
                self.bulk.evidence_inserted(a["evidence"])
        if a.get("contacts"):
            self.conn.executemany(self._insert("contacts", CONTACT_COLUMNS),
                                  [(ad_id, *(c.get(k) for k in CONTACT_COLUMNS[1:])) for c in a["contacts"]])
            if self.bulk:
                self.bulk.contacts_inserted(a["contacts"])

    def _history(self, ad_id, crawl_id, stamp, event, chash, detail) -> None:
        self.conn.execute("INSERT INTO ad_history (ad_id, crawl_id, at, event, content_hash, changed_fields)"
                          " VALUES (?, ?, ?, ?, ?, ?)", [ad_id, crawl_id, stamp, event, chash, detail])
        if self.bulk:
            self.bulk.history_inserted(event)

    def _insert(self, table: str, columns: tuple[str, ...]) -> str:
        key = (table, *columns)
        sql = self._insert_sql.get(key)
        if sql is None:
            sql = self._insert_sql[key] = (f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)})"
                                           f" VALUES ({', '.join('?' * len(columns))})")
        return sql
