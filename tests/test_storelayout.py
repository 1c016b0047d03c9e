"""Schema 8 (crawler/storelayout.py): new databases use 8 KiB pages, the redundant contacts (kind, value) index is
dropped from older databases on open, and the contact lookups still use an index."""
from __future__ import annotations

import sqlite3

from crawler.store import SCHEMA_VERSION, Store
from crawler.storelayout import PAGE_SIZE


def test_a_new_database_uses_large_pages(tmp_path):
    Store(tmp_path / "new.db").close()
    conn = sqlite3.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 8192
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_schema_7_database_loses_the_redundant_index_and_keeps_its_pages_and_ads(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE placeholder (x)")  # the page size is fixed from here on
    conn.commit()
    conn.close()
    store = Store(db)
    ad_id, _ = store.save_ad({"url": "http://a/1", "source": "a", "title": "Chat support"},
                             {"score": 60, "level": "medium", "flagged": True, "categories": [], "evidence": [],
                              "contacts": [{"kind": "telegram", "value": "@hr", "raw": "@hr"}]})
    store.db.execute("CREATE INDEX idx_contacts_kind_value ON contacts (kind, value)")  # as schema 7 made it
    store.db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    Store(db).close()
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "idx_contacts_kind_value" not in names
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    assert conn.execute("SELECT ad_id FROM contacts WHERE kind = 'telegram' AND value = '@hr'").fetchall() == [(ad_id,)]
    plan = " ".join(r[-1] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT ad_id FROM contacts WHERE kind = 'telegram' AND value = '@hr'"))
    assert "USING COVERING INDEX idx_contacts_kind_value_ad_id" in plan
    conn.close()
