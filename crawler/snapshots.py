"""Page snapshots in the store: bodies content-addressed in `snapshot_bodies` (sha1 -> gzip body, size),
one `snapshots` row per stored fetch of an ad pointing at its body, so the ads of one page share one copy.

Called by crawler.store.Store only (inside its write transactions); nothing here opens the database.
"""
from __future__ import annotations

import gzip
import hashlib
from typing import Any

import sqlite_utils

SNAPSHOT_KEYS = ("id", "ad_id", "crawl_id", "fetched_at", "url", "status", "content_type", "sha1")


def insert_snapshot(db: sqlite_utils.Database, ad_id: int, snap: dict[str, Any], crawl_id: int | None,
                    fetched_at: str) -> None:
    """A snapshots row; the body ({url, status, content_type, body}) is compressed and stored only if new."""
    body: bytes = snap.get("body") or b""
    sha1 = hashlib.sha1(body).hexdigest()
    if not db.execute("SELECT 1 FROM snapshot_bodies WHERE sha1 = ?", [sha1]).fetchone():
        db.execute("INSERT INTO snapshot_bodies (sha1, body_gz, size) VALUES (?, ?, ?)",
                   [sha1, gzip.compress(body), len(body)])
    db["snapshots"].insert({"ad_id": ad_id, "crawl_id": crawl_id, "fetched_at": fetched_at, "url": snap.get("url"),
                            "status": snap.get("status"), "content_type": snap.get("content_type"), "sha1": sha1})


def read_snapshots(db: sqlite_utils.Database, ad_id: int) -> list[dict[str, Any]]:
    """The ad's snapshots, oldest first, each with its decompressed `body` (None if the body row is missing)."""
    rows = db.execute(f"SELECT {', '.join('s.' + k for k in SNAPSHOT_KEYS)}, b.body_gz FROM snapshots s"
                      " LEFT JOIN snapshot_bodies b ON b.sha1 = s.sha1 WHERE s.ad_id = ? ORDER BY s.id", [ad_id]).fetchall()
    return [{**dict(zip(SNAPSHOT_KEYS, r)), "body": None if r[-1] is None else gzip.decompress(r[-1])} for r in rows]


def move_snapshot_bodies(db: sqlite_utils.Database, batch: int = 200) -> None:
    """Schema 1 -> 2: each distinct body of snapshots.body_gz goes once into snapshot_bodies, then the column
    is dropped (the file keeps its size until VACUUM; the freed pages are reused)."""
    last = 0
    while rows := db.execute("SELECT id, sha1, body_gz FROM snapshots WHERE id > ? ORDER BY id LIMIT ?",
                             [last, batch]).fetchall():
        for snap_id, sha1, body_gz in rows:
            body = gzip.decompress(body_gz) if body_gz is not None else b""
            digest = hashlib.sha1(body).hexdigest()
            if digest != sha1:  # old code always wrote it; if missing or wrong, the body decides
                db.execute("UPDATE snapshots SET sha1 = ? WHERE id = ?", [digest, snap_id])
            db.execute("INSERT OR IGNORE INTO snapshot_bodies (sha1, body_gz, size) VALUES (?, ?, ?)",
                       [digest, body_gz if body_gz is not None else gzip.compress(body), len(body)])
        last = rows[-1][0]
    db.execute("ALTER TABLE snapshots DROP COLUMN body_gz")
