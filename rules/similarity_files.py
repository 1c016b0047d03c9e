"""Saving and loading known-lure indexes: a built index as a numpy .npz of plain arrays plus JSON (read with
allow_pickle=False), the corpus cache next to the corpus keyed by its bytes and the parameters, and the corpus
plus extra entries (confirmed lures). KnownLureIndex (rules/similarity.py) inherits these methods.

Example: KnownLureIndex.load_default(); index.save("lures.index.npz", key="k"); KnownLureIndex.load_saved(path, key="k")
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .lure_corpus import KNOWN_LURES_DIR, CorpusError, read_corpus
from .similarity_text import IndexParams

if TYPE_CHECKING:
    from .similarity import KnownLureIndex

CACHE_SUFFIX = ".index.npz"
INDEX_FORMAT = 3  # bump when the saved layout or the signature changes
_ARRAYS = ("_sigs", "_band_keys", "_band_starts", "_band_rows")


class IndexFiles:
    """The persistence half of KnownLureIndex (a mixin: it uses the index's attributes and build())."""

    def save(self, path: str | Path, key: str = "") -> None:
        """Write the built index as ``.npz`` (arrays and JSON, no pickle), atomically."""
        self.build()
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                self._write(fh, key)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _write(self, fh, key: str) -> None:
        meta = {"format": INDEX_FORMAT, "key": key, "params": dataclasses.asdict(self.params),
                "min_similarity": self.min_similarity, "ids": self.ids, "texts": self.texts, "norms": self.norms,
                "notes": self.notes, "metas": self.metas}
        arrays = {} if self._lsh is not None else {name.lstrip("_"): getattr(self, name) for name in _ARRAYS}
        meta_bytes = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        np.savez(fh, meta=meta_bytes, **arrays)

    @classmethod
    def load_saved(cls, path: str | Path, key: str | None = None) -> "KnownLureIndex":
        """An index written by ``save``. ValueError when the file is not one (of this format, or this ``key``);
        nothing in it is ever unpickled."""
        if Path(path).suffix == ".pkl":
            raise ValueError(f"{path}: pickled indexes are not read (loading a pickle runs code); "
                             "rebuild from the corpus and save as .npz")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                arrays = {name: data[name.lstrip("_")] for name in _ARRAYS if name.lstrip("_") in data.files}
        except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a known-lure index: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
            raise ValueError(f"{path}: not a known-lure index of format {INDEX_FORMAT}")
        if key is not None and meta.get("key") != key:
            raise ValueError(f"{path}: built from another corpus")
        try:
            index = cls(IndexParams(**meta["params"]), min_similarity=float(meta["min_similarity"]))
            for attr in ("ids", "texts", "norms", "notes", "metas"):
                setattr(index, attr, list(meta[attr]))
            index._id_set = set(index.ids)
            if index._lsh is None and arrays:
                for name, array in arrays.items():
                    setattr(index, name, array)
                index._indexed = len(index.ids)
            index._check()
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: damaged known-lure index: {exc}") from None
        return index.build()  # the datasketch backend re-inserts its signatures

    def _check(self) -> None:
        """Shapes and types of a loaded index agree (a damaged file is rebuilt, not used)."""
        n, p = len(self.ids), self.params
        if not all(len(getattr(self, a)) == n for a in ("texts", "norms", "notes", "metas")):
            raise ValueError("entry lists of different lengths")
        if not all(isinstance(v, str) for a in ("ids", "texts", "norms", "notes") for v in getattr(self, a)):
            raise ValueError("entries must be strings")
        if self._indexed:
            if self._sigs.shape != (n, p.num_perm) or self._sigs.dtype != np.uint32:
                raise ValueError("signature array has the wrong shape")
            if self._band_rows.size != n * p.bands or self._band_starts.size != self._band_keys.size + 1:
                raise ValueError("band arrays have the wrong shape")
            if n and (self._band_rows.min() < 0 or self._band_rows.max() >= n):
                raise ValueError("band rows out of range")

    @classmethod
    def load(cls, path: str | Path, params: IndexParams | None = None, cache: bool = True,
             min_similarity: float = 0.5) -> "KnownLureIndex":
        """Build from a JSONL file, or every ``*.jsonl`` in a directory; or open a saved ``.npz``.

        With ``cache``, the built index is kept in ``<corpus>.index.npz`` (directory:
        ``<dir>/.index.npz``) and reused while the corpus bytes and params are unchanged.
        """
        path = Path(path)
        if path.suffix in (".npz", ".pkl"):
            return cls.load_saved(path)
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        if not files:
            raise CorpusError(f"{path}: no *.jsonl corpus files")
        params = params or IndexParams()
        digest = hashlib.sha256(repr((INDEX_FORMAT, params)).encode())
        for f in files:
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
        key = digest.hexdigest()
        cache_path = (path / CACHE_SUFFIX) if path.is_dir() else path.with_name(path.name + CACHE_SUFFIX)
        if cache and cache_path.exists():
            try:
                index = cls.load_saved(cache_path, key=key)
                index.min_similarity = min_similarity
                return index
            except ValueError:  # a stale, torn or foreign cache is rebuilt, never fatal
                pass
        index = cls(params, min_similarity=min_similarity)
        for f in files:
            index.add_many(read_corpus(f, seen=index._id_set))
        index.build()
        if cache:
            try:
                index.save(cache_path, key=key)
            except OSError:
                pass  # read-only install: just no cache
        return index

    @classmethod
    def load_default(cls, **kwargs: Any) -> "KnownLureIndex":
        """The shipped corpus under rules/known_lures/."""
        return cls.load(KNOWN_LURES_DIR, **kwargs)

    @classmethod
    def load_with(cls, entries: list[dict[str, Any]], cache_path: str | Path | None = None,
                  corpus: str | Path = KNOWN_LURES_DIR, params: IndexParams | None = None,
                  min_similarity: float = 0.5) -> "KnownLureIndex":
        """The corpus at `corpus` (default: shipped) plus `entries` (corpus schema; extra keys are kept as
        metadata), e.g. the lures analysts confirmed in a database. With `cache_path` the built index is kept
        there, keyed by the corpus bytes, the entries and the params, like the corpus cache."""
        base = cls.load(corpus, params=params, min_similarity=min_similarity)
        if not entries:
            return base
        digest = hashlib.sha256(repr((INDEX_FORMAT, base.params, base.ids, base.norms)).encode())
        digest.update(json.dumps(entries, sort_keys=True, ensure_ascii=False, default=str).encode())
        key = digest.hexdigest()
        if cache_path is not None and Path(cache_path).exists():
            try:
                index = cls.load_saved(cache_path, key=key)
                index.min_similarity = min_similarity
                return index
            except ValueError:  # stale, torn or foreign: rebuilt
                pass
        base.add_many(entries)
        base.build()
        if cache_path is not None:
            try:
                base.save(cache_path, key=key)
            except OSError:
                pass  # an unwritable folder: just no cache
        return base
