"""The text side of known-lure similarity: normalisation, unspaced-script detection, character shingles and their
window hashes (the MinHash input), the index parameters, and the rapidfuzz score of a pair.

Example: score_pair(normalise("Free visa!"), normalise("free visa")) -> 100.0
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


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
