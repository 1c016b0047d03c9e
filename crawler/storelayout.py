"""Disk per ad (schema 8): what a new database is made of, and what schema 8 drops from an older one.

- New databases use PAGE_SIZE pages: an ads row is ~1.5 KB (a 900-character description), so a 4 KiB page holds
  two rows and leaves a third of itself empty; 8 KiB pages hold five. An existing database keeps its page size
  (changing it means rewriting the whole file with VACUUM outside WAL mode).
- REDUNDANT_INDEXES are covered by a longer index with the same leading columns (reviewindex.INDEXES), which the
  query planner uses instead; schema 8 drops them.
"""
from __future__ import annotations

import sqlite3

PAGE_SIZE = 8192
# idx_contacts_kind_value: idx_contacts_kind_value_ad_id (kind, value, ad_id) serves every lookup it served
REDUNDANT_INDEXES = ("idx_contacts_kind_value",)


def new_database_pages(conn: sqlite3.Connection) -> None:
    """PAGE_SIZE pages for a database that holds nothing yet (call before WAL mode and the first table)."""
    if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")


def current(db) -> bool:
    marks = ",".join("?" * len(REDUNDANT_INDEXES))
    return db.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
                      REDUNDANT_INDEXES).fetchone()[0] == 0


def migrate(db) -> None:
    for name in REDUNDANT_INDEXES:
        db.execute(f'DROP INDEX IF EXISTS "{name}"')
