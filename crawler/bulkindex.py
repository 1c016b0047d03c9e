"""A batch of ads keeps full-text search and the review indexes (crawler/reviewindex.py) with a few bulk statements
instead of per-row triggers.

`Store.add_many` of BULK_MIN ads or more drops the triggers of SUSPENDED inside its own write transaction, writes
the ads, hands every change to a BulkIndex (the same changes the triggers would have made: FTS deletes and inserts
in order, ad_categories rows, facet_counts and contact_counts deltas), applies them with executemany, and creates
the triggers again, all before the transaction commits. Other connections only ever see the triggers in place, and
every other write path (save_ad, update_assessment, verdicts, bulk SQL) keeps using them. facet_pairs' insert
trigger is suspended too when the store has it (the batch's pairs counted in Python, added at the end).
`update_scores` does the same for the scores campaign risk raises (crawler/campaigns/risk.py).
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .adwriter import FTS_COLUMNS
from .reviewindex import FACET_COLUMNS, PAIR_DIMENSIONS

BULK_MIN = 8  # ads per add_many from which the bulk path pays for dropping and creating the triggers
# The triggers a batch of saves would fire (ads are never deleted by it: ads_ad and its kin stay).
SUSPENDED = ("ads_ai", "ads_au", "ads_categories_ai", "ads_categories_au", "ads_facets_ai", "ads_facets_au",
             "ad_categories_facets_ai", "ad_categories_facets_ad", "evidence_facets_ai", "evidence_facets_ad",
             "contacts_facets_ai", "contacts_facets_ad", "contacts_counts_ai", "contacts_counts_ad",
             "ad_history_facets_ai")
# facet_pairs' insert trigger (schema 8; suspended too when the store has it): ~0.3 ms per ad inserted, as it
# upserts every pair of the ad's facet values one by one; the batch adds its pairs' counts once at the end
PAIRS_TRIGGER = "ads_pairs_ai"


def stored_text(value: Any) -> Any:
    """`value` as a TEXT column stores it (what a trigger would count)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    return str(value) if isinstance(value, (int, float)) else value


def category_list(value: Any) -> list[str]:
    """The text items of a `categories` JSON array, each once (what the ad_categories trigger inserts)."""
    try:
        items = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return []
    return list(dict.fromkeys(i for i in items if isinstance(i, str))) if isinstance(items, list) else []


class BulkIndex:
    """The index changes of one batch; `suspend()` first, then the AdWriter reports, then `finish()`."""

    def __init__(self, conn):
        self.conn = conn
        self.triggers: list[tuple[str, str]] = []
        self.fts: list[tuple] = []  # ('delete' or None, rowid, title, description, company), in order
        self.facets: Counter = Counter()  # (tbl, col, value) -> delta
        self.contacts: Counter = Counter()  # (kind, value) -> delta of distinct ads
        self.pairs: Counter | None = None  # (fcol, fval, col, value) -> ads inserted, when PAIRS_TRIGGER is suspended

    def suspend(self) -> bool:
        """Drop the SUSPENDED triggers (in the open transaction); False, dropping none, unless all exist."""
        marks = ",".join("?" * len(SUSPENDED))
        rows = self.conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
                                 SUSPENDED).fetchall()
        if len(rows) != len(SUSPENDED):
            return False
        pairs = self.conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                  [PAIRS_TRIGGER]).fetchall()
        if pairs:
            self.pairs = Counter()
        for name, _ in rows + pairs:
            self.conn.execute(f'DROP TRIGGER "{name}"')
        self.triggers = rows + pairs
        return True

    def finish(self) -> None:
        """Apply the batch's changes, then create the triggers again exactly as they were."""
        if self.fts:
            self.conn.executemany('INSERT INTO ads_fts (ads_fts, rowid, title, description, company)'
                                  ' VALUES (?, ?, ?, ?, ?)', self.fts)
        self._apply("INSERT INTO facet_counts (tbl, col, value, n) VALUES (?, ?, ?, ?) ON CONFLICT (tbl, col, value)"
                    " DO UPDATE SET n = n + excluded.n",
                    "UPDATE facet_counts SET n = n + ? WHERE tbl = ? AND col = ? AND value = ?", self.facets)
        self._apply("INSERT INTO contact_counts (kind, value, ads) VALUES (?, ?, ?) ON CONFLICT (kind, value)"
                    " DO UPDATE SET ads = ads + excluded.ads",
                    "UPDATE contact_counts SET ads = ads + ? WHERE kind = ? AND value = ?", self.contacts)
        self.write_pairs()
        self.restore()

    def write_pairs(self) -> None:
        """Apply the facet_pairs changes so far (before an ads UPDATE: its trigger decrements the pairs)."""
        if self.pairs:
            self._apply("INSERT INTO facet_pairs (fcol, fval, col, value, n) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (fcol, fval, col, value) DO UPDATE SET n = n + excluded.n",
                        "UPDATE facet_pairs SET n = n + ? WHERE fcol = ? AND fval = ? AND col = ? AND value = ?",
                        self.pairs)
            self.pairs.clear()

    def restore(self) -> None:
        for _, sql in self.triggers:
            self.conn.execute(sql)
        self.triggers = []

    def _apply(self, upsert: str, update: str, deltas: Counter) -> None:
        self.conn.executemany(upsert, [(*key, n) for key, n in deltas.items() if n > 0])
        self.conn.executemany(update, [(n, *key) for key, n in deltas.items() if n < 0])

    # -- what the AdWriter reports ---------------------------------------------------------------
    def _count(self, table: str, row: dict[str, Any], step: int, columns=None) -> None:
        for column in columns or FACET_COLUMNS[table]:
            value = stored_text(row.get(column))
            if value is not None:
                self.facets[table, column, value] += step

    def ad_inserted(self, ad_id: int, row: dict[str, Any]) -> None:
        self.fts.append((None, ad_id, *(stored_text(row.get(c)) for c in FTS_COLUMNS)))
        self._count("ads", row, 1)
        categories = category_list(row.get("categories"))
        self._categories(ad_id, categories)
        if self.pairs is not None:
            self._pairs(row, categories, 1)

    def _pairs(self, row: dict[str, Any], categories: list[str], step: int) -> None:
        """What ads_pairs_ai adds (crawler/reviewindex.py): every two of the ad's facet values, of two different
        dimensions or two different categories."""
        values = [(c, v) for c in PAIR_DIMENSIONS[:-1] if (v := stored_text(row.get(c))) is not None]
        values += [("category", c) for c in categories]
        for d1, v1 in values:
            for d2, v2 in values:
                if d1 != d2 or (d1 == "category" and v1 != v2):
                    self.pairs[d1, v1, d2, v2] += step

    def ad_updated(self, ad_id: int, old: dict[str, Any], row: dict[str, Any]) -> None:
        """UPDATE ads SET `row` of the ad whose stored columns were `old` (FTS_COLUMNS, facets and categories)."""
        if any(c in row for c in FTS_COLUMNS):
            self.fts.append(("delete", ad_id, *(old[c] for c in FTS_COLUMNS)))
            self.fts.append((None, ad_id, *(stored_text(row[c]) if c in row else old[c] for c in FTS_COLUMNS)))
        for column in FACET_COLUMNS["ads"]:
            if column in row and stored_text(row[column]) != old[column]:
                self._count("ads", old, -1, (column,))
                self._count("ads", row, 1, (column,))
        if "categories" in row and stored_text(row["categories"]) != old["categories"]:
            stored = [r[0] for r in self.conn.execute("SELECT category FROM ad_categories WHERE ad_id = ?", [ad_id])]
            self.conn.execute("DELETE FROM ad_categories WHERE ad_id = ?", [ad_id])
            for category in stored:
                self.facets["ad_categories", "category", category] -= 1
            self._categories(ad_id, category_list(row["categories"]))

    def _categories(self, ad_id: int, categories: list[str]) -> None:
        if categories:
            self.conn.executemany("INSERT INTO ad_categories (ad_id, category) VALUES (?, ?)",
                                  [(ad_id, c) for c in categories])
            for category in categories:
                self.facets["ad_categories", "category", category] += 1

    def rows_deleted(self, ad_id: int) -> None:
        """The ad's evidence and contacts are about to be deleted."""
        for row in self.conn.execute("SELECT category, rule_id, field FROM evidence WHERE ad_id = ?", [ad_id]):
            self._count("evidence", dict(zip(("category", "rule_id", "field"), row)), -1)
        pairs = set()
        for kind, value in self.conn.execute("SELECT kind, value FROM contacts WHERE ad_id = ?", [ad_id]):
            self._count("contacts", {"kind": kind}, -1)
            if kind is not None and value is not None:
                pairs.add((kind, value))
        for pair in pairs:
            self.contacts[pair] -= 1

    def evidence_inserted(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._count("evidence", row, 1)

    def contacts_inserted(self, rows: list[dict[str, Any]]) -> None:
        pairs = set()
        for row in rows:
            self._count("contacts", row, 1)
            kind, value = stored_text(row.get("kind")), stored_text(row.get("value"))
            if kind is not None and value is not None:
                pairs.add((kind, value))
        for pair in pairs:
            self.contacts[pair] += 1

    def history_inserted(self, event: str) -> None:
        self._count("ad_history", {"event": event}, 1)


# What `UPDATE ads SET risk_score, risk_level, flagged` fires (crawler/reviewindex.py): ~0.2 ms an ad
SCORE_TRIGGERS = ("ads_facets_au", "ads_pairs_update")
_SCORE_SQL = "UPDATE ads SET risk_score = ?, risk_level = ?, flagged = ? WHERE id = ?"


def update_scores(conn, scores: list[tuple]) -> None:
    """`UPDATE ads SET risk_score, risk_level, flagged` for each (score, level, flagged, ad_id), in the open
    transaction. BULK_MIN or more at once: SCORE_TRIGGERS are suspended and their facet_counts and facet_pairs
    changes made with a few statements (campaign risk raises thousands of ads after a crawl); what is stored is
    what the triggers store. Example: update_scores(store.db.conn, [(80, "high", 1, 7)])"""
    triggers = _score_triggers(conn) if len(scores) >= BULK_MIN else None
    if not triggers:
        conn.executemany(_SCORE_SQL, scores)
        return
    columns = (*FACET_COLUMNS["ads"], "categories")
    old: dict[int, dict[str, Any]] = {}
    ids = sorted({row[3] for row in scores})
    for lo in range(0, len(ids), 500):
        part = ids[lo: lo + 500]
        for row in conn.execute(f"SELECT id, {', '.join(columns)} FROM ads WHERE id IN ({','.join('?' * len(part))})",
                                part):
            old[row[0]] = dict(zip(columns, row[1:]))
    bulk = BulkIndex(conn)
    bulk.pairs = Counter()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        conn.executemany(_SCORE_SQL, scores)
        for _score, level, _flagged, ad_id in scores:
            row = old.get(ad_id)
            new = stored_text(level)
            if row is None or row["risk_level"] == new:  # no such ad, or the triggers' WHEN is false
                continue
            categories = category_list(row["categories"])
            bulk._count("ads", row, -1, ("risk_level",))
            bulk._pairs(row, categories, -1)
            row = old[ad_id] = {**row, "risk_level": new}
            bulk._count("ads", row, 1, ("risk_level",))
            bulk._pairs(row, categories, 1)
        bulk._apply("INSERT INTO facet_counts (tbl, col, value, n) VALUES (?, ?, ?, ?) ON CONFLICT (tbl, col, value)"
                    " DO UPDATE SET n = n + excluded.n",
                    "UPDATE facet_counts SET n = n + ? WHERE tbl = ? AND col = ? AND value = ?", bulk.facets)
        bulk.write_pairs()
    finally:
        for _, sql in triggers:
            conn.execute(sql)


def _score_triggers(conn) -> list[tuple[str, str]] | None:
    """(name, sql) of SCORE_TRIGGERS when both exist and no other ads trigger fires on an update of those columns."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ads'").fetchall()
    ours = [(name, sql) for name, sql in rows if name in SCORE_TRIGGERS]
    for name, sql in rows:
        head = sql.split(" ON ", 1)[0].upper()
        if name not in SCORE_TRIGGERS and "UPDATE" in head and (
                " OF " not in head or any(c in head for c in ("RISK_LEVEL", "RISK_SCORE", "FLAGGED"))):
            return None
    return ours if len(ours) == len(SCORE_TRIGGERS) else None
