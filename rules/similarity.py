"""Similarity of an ad to known lure texts, in two stages.

1. Candidates: MinHash signatures (datasketch's "affine32" scheme) of normalised
   character shingles, cut into bands (LSH). Band keys live in one sorted numpy array,
   so building is a sort and a query is one ``searchsorted`` call; datasketch's
   ``MinHashLSH`` is the other backend (``IndexParams.backend``), slower to
   build (see BENCHMARKS.md). A query touches only entries sharing a band, so its
   cost grows with the number of near neighbours, not with the corpus.
   Candidates are ranked by signature agreement (estimated Jaccard) and only the
   best ``max_candidates`` go on.
2. Scoring: rapidfuzz on those few candidates only (``score_pair``).

The corpus is JSONL (schema in ``rules/known_lures/README.md``). A built index is
cached next to the corpus as a numpy ``.npz`` of plain arrays plus JSON (read with
``allow_pickle=False``: whoever can write the cache cannot make us run code), keyed
by the corpus bytes and the index parameters, so a second start-up only reads arrays.

No Scrapy here.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from rapidfuzz import fuzz

from .jsonl import read_jsonl

KNOWN_LURES_DIR = Path(__file__).parent / "known_lures"
CACHE_SUFFIX = ".index.npz"
INDEX_FORMAT = 3  # bump when the saved layout or the signature changes
_ARRAYS = ("_sigs", "_band_keys", "_band_starts", "_band_rows")

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


class CorpusError(ValueError):
    """A malformed known-lure corpus: the message names file and line (and entry id)."""


@dataclass(frozen=True)
class IndexParams:
    """Candidate-stage tuning. Defaults chosen by measurement (see BENCHMARKS.md)."""

    shingle: int = 5  # characters per shingle (space-separated scripts)
    shingle_unspaced: int = 3  # for Chinese, Thai, Khmer, Lao, Burmese (no spaces between words)
    num_perm: int = 64
    bands: int = 21
    rows: int = 3
    seed: int = 7
    max_candidates: int = 6  # how many go on to rapidfuzz
    max_bucket: int = 1000  # a band bucket holding more entries than this is skipped
    prerank: int = 256  # with more LSH hits, keep those sharing the most bands before comparing signatures
    min_estimate: float = 0.12  # estimated Jaccard below this never reaches rapidfuzz
    backend: str = "bands"  # "bands" (numpy sorted band keys) or "datasketch" (MinHashLSH)


@dataclass
class Match:
    id: str
    similarity: float  # 0..1, rapidfuzz score / 100
    snippet: str
    source_note: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "similarity": round(self.similarity, 3), "snippet": self.snippet,
                "source_note": self.source_note}


# ASCII text: NFKC changes nothing, casefold is lower, and the non-word runs are everything but [a-z0-9]
_ASCII_NON_WORD_TO_SPACE = {i: " " for i in range(128) if not chr(i).isalnum()}


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation to single spaces."""
    if not text:
        return ""
    if text.isascii():  # same result as the general path, without the regex
        return " ".join(text.lower().translate(_ASCII_NON_WORD_TO_SPACE).split())
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).strip()


def score_pair(query_norm: str, lure_norm: str, unspaced: bool | None = None) -> float:
    """The precise scorer (0..100), shared with the brute-force baseline in the bench.

    Spaced scripts: token_set_ratio forgives reordering and extra words; averaging with
    token_sort_ratio keeps a short generic text from scoring 100 just by being a subset
    of a long lure. Unspaced scripts (Chinese, Thai...): character-level ratio.
    """
    if unspaced is None:
        unspaced = is_unspaced(query_norm)
    if unspaced:
        return fuzz.ratio(query_norm.replace(" ", ""), lure_norm.replace(" ", ""))
    return 0.5 * (fuzz.token_set_ratio(query_norm, lure_norm) + fuzz.token_sort_ratio(query_norm, lure_norm))


def _window_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """32-bit hash of every k-window of ``codes`` (uint64 code points), vectorised and stable."""
    n = codes.size - k + 1
    h = codes[:n] * np.uint64(1000003)
    for j in range(1, k):  # polynomial hash over k shifted views: contiguous, fast
        h += codes[j: j + n]
        h *= np.uint64(1000003)
    # splitmix64 finaliser spreads the polynomial hash, then keep 32 bits (in place: one scratch array)
    t = np.right_shift(h, np.uint64(30))
    h ^= t
    h *= np.uint64(0xBF58476D1CE4E5B9)
    np.right_shift(h, np.uint64(27), out=t)
    h ^= t
    h *= np.uint64(0x94D049BB133111EB)
    np.right_shift(h, np.uint64(31), out=t)
    h ^= t
    return h.astype(np.uint32)


def is_unspaced(norm: str) -> bool:
    """Most letters come from a script written without spaces between words."""
    if norm.isascii():
        return False  # no unspaced-script letter at all
    letters = len(norm) - norm.count(" ")
    return bool(letters) and len(_UNSPACED.findall(norm)) * 2 > letters


def shingle_size(norm: str, params: "IndexParams") -> int:
    return params.shingle_unspaced if is_unspaced(norm) else params.shingle


def _codes(norm: str, k: int) -> np.ndarray:
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < k:  # a text shorter than one shingle is one (padded) shingle
        codes = np.concatenate([codes, np.zeros(k - codes.size, dtype=np.uint64)])
    return codes


class KnownLureIndex:
    """Known lure texts, searchable by similarity. ``add`` ..., ``build()``, then ``nearest(text)``."""

    def __init__(self, params: IndexParams | None = None, min_similarity: float = 0.5):
        self.params = params or IndexParams()
        self.min_similarity = min_similarity
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.norms: list[str] = []
        self.notes: list[str] = []
        self.metas: list[dict[str, Any]] = []
        self._id_set: set[str] = set()
        p = self.params
        if p.bands * p.rows > p.num_perm:
            raise ValueError(f"bands*rows ({p.bands}*{p.rows}) exceeds num_perm {p.num_perm}")
        # datasketch's "affine32" scheme: a*h + b mod 2^32 with odd a, a bijection on 32 bits
        rng = np.random.RandomState(p.seed)
        self._a = (rng.randint(0, 1 << 32, size=(p.num_perm, 1), dtype=np.uint64) | 1).astype(np.uint32)
        self._b = rng.randint(0, 1 << 32, size=(p.num_perm, 1), dtype=np.uint64).astype(np.uint32)
        if p.backend not in ("bands", "datasketch"):
            raise ValueError(f"unknown backend {p.backend!r}")
        self._lsh = None
        if p.backend == "datasketch":
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(num_perm=p.num_perm, params=(p.bands, p.rows))
        self._band_keys = np.zeros(0, dtype=np.uint64)  # distinct (band id << 58 | band hash), sorted
        self._band_starts = np.zeros(1, dtype=np.int64)  # rows of key i: _band_rows[starts[i]:starts[i+1]]
        self._band_rows = np.zeros(0, dtype=np.int32)
        self._sigs = np.zeros((0, p.num_perm), dtype=np.uint32)
        self._indexed = 0  # entries [0, _indexed) are in the LSH
        self.last_candidates = 0  # LSH candidates of the last query (before the cap)

    def __len__(self) -> int:
        return len(self.ids)

    # -- building -------------------------------------------------------------
    def add(self, id: str, text: str, source_note: str = "", **meta: Any) -> None:
        id = str(id)
        if id in self._id_set:
            raise ValueError(f"duplicate known-lure id {id!r}")
        if not text or not text.strip():
            raise ValueError(f"known lure {id!r} has no text")
        self._id_set.add(id)
        self.ids.append(id)
        self.texts.append(text)
        self.norms.append(normalise(text))
        self.notes.append(source_note)
        self.metas.append(meta)

    def add_many(self, entries: Iterable[dict[str, Any]]) -> None:
        for e in entries:
            e = dict(e)
            self.add(e.pop("id"), e.pop("text"), e.pop("source_note", ""), **e)

    def signature(self, norm: str, unspaced: bool | None = None) -> np.ndarray:
        if unspaced is None:
            unspaced = is_unspaced(norm)
        k = self.params.shingle_unspaced if unspaced else self.params.shingle
        hv = _window_hashes(_codes(norm, k), k)
        permuted = np.multiply(self._a, hv)  # (num_perm, windows), wraps mod 2^32 like the bulk path
        permuted += self._b
        return permuted.min(axis=1)

    def signatures(self, norms: list[str]) -> np.ndarray:
        """(n, num_perm) MinHash signatures of normalised texts (crawler/campaigns links near-duplicate ads)."""
        return self._signatures(norms)

    def band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """(n, bands) LSH band keys of signatures: two texts sharing a key are candidates."""
        return self._band_hashes(sigs)

    def _signatures(self, norms: list[str], unspaced: list[bool] | None = None) -> np.ndarray:
        """Signatures of many texts at once, grouped by shingle size."""
        sigs = np.empty((len(norms), self.params.num_perm), dtype=np.uint32)
        p = self.params
        if unspaced is None:
            unspaced = [is_unspaced(n) for n in norms]
        sizes = np.array([p.shingle_unspaced if u else p.shingle for u in unspaced], dtype=np.int64)
        for k in np.unique(sizes):
            rows = np.flatnonzero(sizes == k)
            sigs[rows] = self._signatures_k([norms[i] for i in rows], int(k))
        return sigs

    def _signatures_k(self, norms: list[str], k: int) -> np.ndarray:
        """One vectorised pass per chunk of texts, no per-text loop."""
        out = []
        for lo in range(0, len(norms), 256):
            texts = norms[lo: lo + 256]
            lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            if lens.min() >= k:  # the usual case: one encode for the chunk, no per-text arrays
                out.append(self._chunk_signatures(texts, lens, k))
                continue
            chunk = [_codes(n, k) for n in texts]
            sizes = np.array([c.size - k + 1 for c in chunk])
            codes = np.concatenate(chunk)
            hv = _window_hashes(codes, k)
            # windows that start in one text and end in the next are dropped
            starts = np.concatenate([[0], np.cumsum([c.size for c in chunk])[:-1]])
            valid = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, sizes)])
            hv = hv[valid]
            phv = self._a * hv[None, :] + self._b
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            out.append(np.minimum.reduceat(phv, offsets, axis=1).T)
        return np.vstack(out) if out else np.zeros((0, self.params.num_perm), dtype=np.uint32)

    def _chunk_signatures(self, texts: list[str], lens: np.ndarray, k: int) -> np.ndarray:
        """Signatures of texts all at least ``k`` long: the same values as ``signature`` for each."""
        codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        hv = _window_hashes(codes, k)
        ends = np.cumsum(lens)
        # windows that start in one text and end in the next are dropped
        valid = np.ones(hv.size, dtype=bool)
        valid[(ends[:-1, None] - k + 1 + np.arange(k - 1)).ravel()] = False
        hv = hv[valid]
        phv = np.multiply(self._a, hv)
        phv += self._b
        sizes = lens - k + 1
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return np.minimum.reduceat(phv, offsets, axis=1).T

    def _lean(self, sig: np.ndarray):
        from datasketch import LeanMinHash

        try:
            return LeanMinHash(seed=self.params.seed, hashvalues=sig, scheme="affine32")
        except TypeError:  # datasketch < 2 has no schemes (and stores uint64)
            return LeanMinHash(seed=self.params.seed, hashvalues=sig.astype(np.uint64))

    def _band_hashes(self, sigs: np.ndarray) -> np.ndarray:
        """(n, bands) keys: each band's rows hashed to 58 bits, the band id in the top bits."""
        p = self.params
        cut = sigs[:, : p.bands * p.rows].astype(np.uint64).reshape(len(sigs), p.bands, p.rows)
        h = np.zeros((len(sigs), p.bands), dtype=np.uint64)
        for j in range(p.rows):
            h = (h ^ cut[:, :, j]) * np.uint64(0x9E3779B97F4A7C15)
            h ^= h >> np.uint64(29)
        return (h >> np.uint64(6)) | (np.arange(p.bands, dtype=np.uint64) << np.uint64(58))

    def _query_band_keys(self, sig: np.ndarray) -> np.ndarray:
        """``_band_hashes`` of one signature, with fewer array operations (same keys)."""
        p = self.params
        cut = sig[: p.bands * p.rows].astype(np.uint64).reshape(p.bands, p.rows)
        mult, shift = np.uint64(0x9E3779B97F4A7C15), np.uint64(29)
        h = cut[:, 0] * mult
        h ^= h >> shift
        for j in range(1, p.rows):
            h ^= cut[:, j]
            h *= mult
            h ^= h >> shift
        h >>= np.uint64(6)
        h |= np.arange(p.bands, dtype=np.uint64) << np.uint64(58)
        return h

    def build(self) -> "KnownLureIndex":
        """Index every entry added since the last build (bulk, vectorised)."""
        start = self._indexed
        if start == len(self.ids):
            return self
        new = self._signatures(self.norms[start:])
        self._sigs = np.vstack([self._sigs, new]) if start else new
        if self._lsh is not None:
            with self._lsh.insertion_session() as session:
                for row, sig in enumerate(new):
                    session.insert(start + row, self._lean(sig), check_duplication=False)
        else:
            keys = self._band_hashes(self._sigs).ravel()
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            self._band_rows = (order // self.params.bands).astype(np.int32)
            # CSR layout: distinct keys and where each one's rows start
            first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            self._band_keys = keys[first]
            self._band_starts = np.r_[first, keys.size].astype(np.int64)
        self._indexed = len(self.ids)
        return self

    def _lsh_rows(self, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Entries sharing at least one band with ``sig``, and how many bands each shares."""
        if self._lsh is not None:
            keys = self._lsh.query(self._lean(sig))
            return np.fromiter(keys, dtype=np.int64, count=len(keys)), None
        q = self._query_band_keys(sig)
        at = np.searchsorted(self._band_keys, q)
        at[at >= self._band_keys.size] = 0
        found = at[self._band_keys[at] == q]
        lo, hi = self._band_starts[found].tolist(), self._band_starts[found + 1].tolist()
        # a bucket shared by a large share of the corpus is a stock phrase, not a near-duplicate
        cap = self.params.max_bucket
        hits = [self._band_rows[a:b] for a, b in zip(lo, hi) if b - a <= cap]
        if not hits:
            return np.zeros(0, dtype=np.int64), None
        if len(hits) == 1:
            return hits[0], None
        return np.unique(np.concatenate(hits), return_counts=True)

    # -- querying -------------------------------------------------------------
    def candidates(self, text: str) -> list[tuple[int, float]]:
        """Stage 1: (entry index, estimated Jaccard), best first, at most max_candidates."""
        return self._candidates(normalise(text))

    def _candidates(self, norm: str, unspaced: bool | None = None) -> list[tuple[int, float]]:
        self.build()
        self.last_candidates = 0
        if not self.ids or not norm:
            return []
        sig = self.signature(norm, unspaced)
        return self._rank(sig, *self._lsh_rows(sig))

    def _rank(self, sig: np.ndarray, rows: np.ndarray, shared: np.ndarray | None) -> list[tuple[int, float]]:
        """The LSH hits of ``sig`` ranked by estimated Jaccard, best first, at most max_candidates."""
        p = self.params
        self.last_candidates = len(rows)
        if not rows.size:
            return []
        if shared is not None and rows.size > p.prerank:
            # many weak neighbours: only those sharing the most bands get a signature comparison
            top = np.argpartition(-shared, p.prerank - 1)[: p.prerank]
            rows = rows[top]
        est = (self._sigs[rows] == sig).mean(axis=1)
        keep = est >= p.min_estimate
        rows, est = rows[keep], est[keep]
        if rows.size > p.max_candidates:
            top = np.argpartition(-est, p.max_candidates - 1)[: p.max_candidates]
            rows, est = rows[top], est[top]
        order = np.argsort(-est, kind="stable")
        return [(int(rows[i]), float(est[i])) for i in order]

    def nearest(self, text: str, min_similarity: float | None = None) -> Match | None:
        """The most similar known lure, or None if none reaches ``min_similarity`` (0..1)."""
        floor = self.min_similarity if min_similarity is None else min_similarity
        norm = normalise(text)
        unspaced = is_unspaced(norm)
        return self._best(norm, unspaced, self._candidates(norm, unspaced), floor)

    def _best(self, norm: str, unspaced: bool, cands: list[tuple[int, float]], floor: float) -> Match | None:
        """Stage 2: rapidfuzz on the candidates; the best if it reaches ``floor``."""
        if not cands:
            return None
        best_i, best = -1, -1.0
        for i, _ in cands:
            s = score_pair(norm, self.norms[i], unspaced)
            if s > best:
                best_i, best = i, s
        if best / 100.0 < floor:
            return None
        return self._match(best_i, best / 100.0)

    def nearest_many(self, texts: list[str], min_similarity: float | None = None,
                     chunk: int = 128) -> list[Match | None]:
        """``[nearest(t) for t in texts]``, with signatures and band lookups computed per chunk of texts
        in a few array operations instead of a dozen per text."""
        if self._lsh is not None:
            return [self.nearest(t, min_similarity) for t in texts]
        self.build()
        floor = self.min_similarity if min_similarity is None else min_similarity
        norms = [normalise(t) for t in texts]
        unspaced = [is_unspaced(n) for n in norms]
        out: list[Match | None] = [None] * len(texts)
        live = [i for i, n in enumerate(norms) if n] if self.ids else []
        cap = self.params.max_bucket
        for lo in range(0, len(live), chunk):
            part = live[lo: lo + chunk]
            sigs = self._signatures([norms[i] for i in part], [unspaced[i] for i in part])
            keys = self._band_hashes(sigs)
            at = np.searchsorted(self._band_keys, keys)
            at[at >= self._band_keys.size] = 0
            found = self._band_keys[at] == keys
            starts = np.where(found, self._band_starts[at], 0)
            ends = np.where(found, self._band_starts[at + 1], 0)
            usable = found & (ends - starts <= cap)
            for j, i in enumerate(part):
                hits = [self._band_rows[a:b] for a, b in zip(starts[j][usable[j]].tolist(),
                                                               ends[j][usable[j]].tolist())]
                if not hits:
                    self.last_candidates = 0
                    continue
                if len(hits) == 1:
                    rows, shared = hits[0], None
                else:
                    rows, shared = np.unique(np.concatenate(hits), return_counts=True)
                out[i] = self._best(norms[i], unspaced[i], self._rank(sigs[j], rows, shared), floor)
        return out

    def _match(self, i: int, similarity: float) -> Match:
        text = self.texts[i]
        snippet = text if len(text) <= 160 else text[:157].rstrip() + "..."
        return Match(self.ids[i], similarity, snippet, self.notes[i], dict(self.metas[i]))

    def brute_nearest(self, text: str, min_similarity: float | None = None) -> Match | None:
        """Baseline: the same scorer over every entry (for the bench and tests only)."""
        floor = self.min_similarity if min_similarity is None else min_similarity
        norm = normalise(text)
        unspaced = is_unspaced(norm)
        best_i, best = -1, -1.0
        for i, lure in enumerate(self.norms):
            s = score_pair(norm, lure, unspaced)
            if s > best:
                best_i, best = i, s
        if best_i < 0 or best / 100.0 < floor:
            return None
        return self._match(best_i, best / 100.0)

    # -- persistence ----------------------------------------------------------
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


REQUIRED_KEYS = ("id", "text", "lang", "source_note", "added", "origin")
ORIGINS = ("seed", "review")


def read_corpus(path: str | Path, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """Parse and check one JSONL corpus file. Errors name file:line and the entry id."""
    path = Path(path)
    seen = set() if seen is None else set(seen)
    out = []
    for where, entry in read_jsonl(path, CorpusError):
        eid = entry.get("id")
        missing = [k for k in REQUIRED_KEYS if not entry.get(k)]
        if missing:
            raise CorpusError(f"{where}: entry {eid!r} is missing {', '.join(missing)}")
        if entry["origin"] not in ORIGINS:
            raise CorpusError(f"{where}: entry {eid!r} origin must be one of {ORIGINS}, not {entry['origin']!r}")
        if not isinstance(entry["text"], str):
            raise CorpusError(f"{where}: entry {eid!r} text must be a string")
        if str(eid) in seen:
            raise CorpusError(f"{where}: duplicate id {eid!r}")
        seen.add(str(eid))
        out.append(entry)
    return out
