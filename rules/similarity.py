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

Parts: similarity_text.py (normalise, shingles, score_pair, IndexParams), similarity_files.py (save, load and
the cache), lure_corpus.py (reading corpus files). No Scrapy here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

# the parts, re-exported here: callers import them from rules.similarity
from .lure_corpus import KNOWN_LURES_DIR, ORIGINS, REQUIRED_KEYS, CorpusError, read_corpus  # noqa: F401
from .similarity_files import CACHE_SUFFIX, INDEX_FORMAT, IndexFiles  # noqa: F401
from .similarity_text import (IndexParams, _codes, _window_hashes, is_unspaced, normalise,  # noqa: F401
                              score_pair, shingle_size)


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


class KnownLureIndex(IndexFiles):
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
        for k in sorted(set(sizes.tolist())):  # not np.unique: its first call imports numpy.ma (~15 ms)
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
