"""Compression of snapshot page bodies: zstandard, with one dictionary trained per source (board).

Pages of one board share their template (head, menus, scripts, footer), which a dictionary holds once: a 30-60 KB
page then costs the few KB that are its own. A source's first TRAIN_AFTER bodies are stored with plain zstd; once
that many exist a dictionary is trained from them (`snapshot_dicts`), those bodies are compressed again with it,
and every later body of the source uses it. Bodies written before schema 6 stay gzip (`body_gz`) and are still read.

Used inside the store's write transactions (crawler/snapshots.py); nothing here opens the database.
"""
from __future__ import annotations

import gzip
import zlib
from typing import Any

import zstandard

# Measured on 30-60 KB job pages of one board (output/benchparts/store.py): a 64 KB dictionary trained on 128
# pages brings a page from 6.6 KB (gzip -9, 0.6 ms) to 0.87 KB at zstd -6 (0.09 ms; -9: 0.81 KB, 0.13 ms; -3:
# 1.16 KB, 0.03 ms); trained on fewer bytes than ~50 times its size, a dictionary gains little (3.2 KB).
LEVEL = 6
TRAIN_AFTER = 128  # plain-zstd bodies of a source before its dictionary is trained
TRAIN_SAMPLES = 400  # bodies read to train it (the newest)
DICT_SIZE = 64 * 1024  # at most; at most 1/50 of the sample bytes

DICT_COLUMNS = {"id": int, "source": str, "trained_at": str, "samples": int, "size": int, "dict": bytes}


class SnapshotCodec:
    """Compresses bodies for one database connection; caches its dictionaries and counts untrained bodies."""

    def __init__(self, db):
        self.db = db
        self._compressors: dict[str | None, tuple[int | None, zstandard.ZstdCompressor]] = {}
        self._decompressors: dict[int | None, zstandard.ZstdDecompressor] = {}
        self._untrained: dict[str, int] = {}  # source -> plain bodies stored (counted once, then kept up)

    # -- writing ----------------------------------------------------------------------------------
    def compress(self, body: bytes, source: str | None, now: str) -> tuple[bytes, int | None]:
        """(zstd frame, dictionary id or None) for a new body of `source`."""
        dict_id, cctx = self._compressor(source)
        if dict_id is None and source:
            count = self._untrained_count(source) + 1
            self._untrained[source] = count
            if count >= TRAIN_AFTER:  # trained on the bodies stored so far; this one is its first use
                self._train(source, now)
                dict_id, cctx = self._compressor(source)
        return cctx.compress(body), dict_id

    def _compressor(self, source: str | None) -> tuple[int | None, zstandard.ZstdCompressor]:
        found = self._compressors.get(source)
        if found is None:
            row = self.db.execute("SELECT id, dict FROM snapshot_dicts WHERE source = ? ORDER BY id DESC LIMIT 1",
                                  [source]).fetchone() if source else None
            if row:
                found = row[0], compressor(row[1])
            else:
                found = None, zstandard.ZstdCompressor(level=LEVEL)
            self._compressors[source] = found
        return found

    def _untrained_count(self, source: str) -> int:
        if source not in self._untrained:
            self._untrained[source] = self.db.execute(
                "SELECT count(*) FROM snapshot_bodies WHERE source = ? AND body_zstd IS NOT NULL AND dict_id IS NULL",
                [source]).fetchone()[0]
        return self._untrained[source]

    def _train(self, source: str, now: str) -> None:
        """Train the source's dictionary from its plain bodies, store it, and compress those bodies with it."""
        if self.db.execute("SELECT 1 FROM snapshot_dicts WHERE source = ?", [source]).fetchone():
            self._compressors.pop(source, None)  # another process trained it meanwhile: use that one
            self._untrained.pop(source, None)
            return
        rows = self.db.execute("SELECT sha1, body_zstd FROM snapshot_bodies WHERE source = ? AND body_zstd IS NOT NULL"
                               " AND dict_id IS NULL ORDER BY rowid DESC LIMIT ?", [source, TRAIN_SAMPLES]).fetchall()
        plain = self.decompressor(None)
        samples = [plain.decompress(data) for _, data in rows]
        size = max(4096, min(DICT_SIZE, sum(map(len, samples)) // 50))
        try:
            trained = zstandard.train_dictionary(size, samples, level=LEVEL)
        except zstandard.ZstdError:  # too little or too uniform material: try again after more bodies
            self._untrained[source] = 0
            return
        raw = trained.as_bytes()
        dict_id = self.db.execute("INSERT INTO snapshot_dicts (source, trained_at, samples, size, dict) VALUES (?,?,?,?,?)",
                                  [source, now, len(samples), len(raw), raw]).lastrowid
        cctx = compressor(raw)
        self._compressors[source] = dict_id, cctx
        self.db.conn.executemany("UPDATE snapshot_bodies SET body_zstd = ?, dict_id = ? WHERE sha1 = ?",
                                 [(cctx.compress(body), dict_id, sha1) for (sha1, _), body in zip(rows, samples)])
        self._untrained.pop(source, None)

    # -- reading ----------------------------------------------------------------------------------
    def decompressor(self, dict_id: int | None) -> zstandard.ZstdDecompressor:
        found = self._decompressors.get(dict_id)
        if found is None:
            if dict_id is None:
                found = zstandard.ZstdDecompressor()
            else:
                row = self.db.execute("SELECT dict FROM snapshot_dicts WHERE id = ?", [dict_id]).fetchone()
                if row is None:
                    raise ValueError(f"snapshot dictionary {dict_id} is missing")
                found = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(row[0]))
            self._decompressors[dict_id] = found
        return found

    def decode(self, body_gz: bytes | None, body_zstd: bytes | None, dict_id: int | None,
               max_bytes: int | None = None) -> tuple[bytes | None, bool]:
        """(body, cut): the stored body decompressed (at most `max_bytes` when given, cut=True if longer);
        (None, False) when the row has no body. Raises ValueError for an unreadable body."""
        try:
            if body_zstd is not None:
                dctx = self.decompressor(dict_id)
                if max_bytes is None:
                    return dctx.decompress(body_zstd), False
                with dctx.stream_reader(body_zstd) as reader:
                    body = reader.read(max_bytes + 1)
                return body[:max_bytes], len(body) > max_bytes
            if body_gz is not None:
                if max_bytes is None:
                    return gzip.decompress(body_gz), False
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
                body = inflater.decompress(body_gz, max_bytes)
                return body, bool(inflater.unconsumed_tail)
        except (zstandard.ZstdError, zlib.error, OSError, EOFError) as exc:
            raise ValueError(f"the stored body cannot be read: {exc}") from exc
        return None, False


def compressor(dictionary: bytes) -> zstandard.ZstdCompressor:
    """A compressor with `dictionary` digested once (not again for every body)."""
    digested = zstandard.ZstdCompressionDict(dictionary)
    digested.precompute_compress(level=LEVEL)
    return zstandard.ZstdCompressor(dict_data=digested)


def codec_for(db: Any) -> SnapshotCodec:
    """The codec cached on a sqlite_utils.Database (one per connection)."""
    codec = getattr(db, "_lurewatch_codec", None)
    if codec is None:
        codec = db._lurewatch_codec = SnapshotCodec(db)
    return codec
