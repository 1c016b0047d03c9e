"""Page snapshots in the store: bodies content-addressed in `snapshot_bodies` (sha1 -> compressed body, size),
one `snapshots` row per kept fetch of an ad pointing at its body, so the ads of one page share one copy.

Retention: the first fetch, each change and so the last: a fetch adds a snapshots row (crawler/adwriter.py) when
the ad is new or its text changed; an unchanged refetch adds neither a row nor a body.
Bodies are zstd with a dictionary per source (crawler/snapcodec.py); those written before schema 6 are gzip
(`body_gz`) and are read the same way.

Called by crawler.store.Store only (inside its write transactions); nothing here opens the database.
"""
from __future__ import annotations

import gzip
import hashlib
from typing import Any

import sqlite_utils

from .snapcodec import codec_for

SNAPSHOT_KEYS = ("id", "ad_id", "crawl_id", "fetched_at", "url", "status", "content_type", "sha1")
BODY_COLUMNS = {"sha1": str, "body_gz": bytes, "size": int,  # size: bytes before compression; body_gz: before schema 6
                "body_zstd": bytes, "dict_id": int, "source": str}  # zstd frame, its snapshot_dicts id, whose board


def insert_snapshot(db: sqlite_utils.Database, ad_id: int, snap: dict[str, Any], crawl_id: int | None,
                    fetched_at: str, *, source: str | None = None) -> None:
    """A snapshots row for the fetch {url, status, content_type, body}; the body is compressed (with the
    dictionary of `source`, the ad's board) and stored only if no body has the same sha1."""
    body: bytes = snap.get("body") or b""
    sha1 = snap.get("sha1") or hashlib.sha1(body).hexdigest()  # the spider's hash of the same body, if given
    if not db.execute("SELECT 1 FROM snapshot_bodies WHERE sha1 = ?", [sha1]).fetchone():
        data, dict_id = codec_for(db).compress(body, source, fetched_at)
        db.execute("INSERT INTO snapshot_bodies (sha1, size, body_zstd, dict_id, source) VALUES (?, ?, ?, ?, ?)",
                   [sha1, len(body), data, dict_id, source])
    db.execute("INSERT INTO snapshots (ad_id, crawl_id, fetched_at, url, status, content_type, sha1)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)",
               [ad_id, crawl_id, fetched_at, snap.get("url"), snap.get("status"), snap.get("content_type"), sha1])


def read_snapshots(db: sqlite_utils.Database, ad_id: int) -> list[dict[str, Any]]:
    """The ad's snapshots, oldest first, each with its decompressed `body` (None if the body row is missing)."""
    rows = db.execute(f"SELECT {', '.join('s.' + k for k in SNAPSHOT_KEYS)}, b.body_gz, b.body_zstd, b.dict_id"
                      " FROM snapshots s LEFT JOIN snapshot_bodies b ON b.sha1 = s.sha1 WHERE s.ad_id = ? ORDER BY s.id",
                      [ad_id]).fetchall()
    codec = codec_for(db)
    return [{**dict(zip(SNAPSHOT_KEYS, r)), "body": codec.decode(*r[-3:])[0]} for r in rows]


def snapshot_body(db: sqlite_utils.Database, sha1: str, max_bytes: int | None = None) -> tuple[bytes | None, bool]:
    """(body, cut) of the stored body `sha1`, at most `max_bytes` long; (None, False) if missing.
    ValueError when it cannot be decompressed."""
    row = db.execute("SELECT body_gz, body_zstd, dict_id FROM snapshot_bodies WHERE sha1 = ?", [sha1]).fetchone()
    return (None, False) if row is None else codec_for(db).decode(*row, max_bytes=max_bytes)


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
