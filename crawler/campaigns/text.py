"""The text a campaign template keeps when it is reworded, and its MinHash signature.

Recruiters reuse one template and change the numbers, names, emoji, contacts and the order of sentences.
`template_text(ad)` keeps what survives: title + description, case-folded, with URLs, emails, handles,
numbers, emoji and symbols dropped, the ad's own company name dropped and capitalised words inside a
sentence of the description (names of people, firms and places) dropped. Signatures are the engine's MinHash over character
shingles (rules/similarity.py, "bands" LSH): two ads sharing a band key are candidates, and their
estimated Jaccard (share of equal signature values) decides.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from rules.similarity import IndexParams, KnownLureIndex, normalise

TEXT_VERSION = "1"  # bump when template_text or the signature parameters change (signatures are recomputed)
MIN_TEXT_CHARS = 80  # shorter templates (a title alone) never link by text
PARAMS = IndexParams()  # 64 permutations, 21 bands x 3 rows: a pair at Jaccard 0.5 shares a band 94% of the time

_DROP = re.compile(
    r"(?:https?://|www\.)\S+"  # links
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # emails
    r"|@\w+"  # handles
    r"|\S*\d\S*",  # anything holding a digit: salaries, phones, dates, counts
    re.UNICODE)
# a capitalised word that does not start a sentence or a line: a name (Ms Anna, Golden Star Co, Sihanoukville)
_INNER_NAME = re.compile(r"(?<=[^\s.!?:;\n•\-*])([ \t]+)(?:[A-Z][\w'’-]*)")


@lru_cache(maxsize=1)
def sketcher() -> KnownLureIndex:
    return KnownLureIndex(PARAMS)


def template_text(title: str | None, description: str | None, company: str | None = None) -> str:
    """Normalised title + description with what a reworded copy changes taken out (see module docstring)."""
    title, text = _DROP.sub(" ", title or ""), _DROP.sub(" ", description or "")
    if company and len(company.strip()) >= 3:
        title, text = title.replace(company.strip(), " "), text.replace(company.strip(), " ")
    return normalise(title + "\n" + _INNER_NAME.sub(r"\1", text))  # titles are often Title Case: kept


def signatures(texts: list[str]) -> list[bytes | None]:
    """The signature of each template text as bytes (None for a text too short to link)."""
    out: list[bytes | None] = [None] * len(texts)
    rows = [i for i, t in enumerate(texts) if len(t) >= MIN_TEXT_CHARS]
    if rows:
        sigs = sketcher().signatures([texts[i] for i in rows])
        for i, sig in zip(rows, sigs):
            out[i] = sig.tobytes()
    return out


def as_array(blobs: list[bytes]) -> np.ndarray:
    """(n, num_perm) uint32 array of signature blobs."""
    if not blobs:
        return np.zeros((0, PARAMS.num_perm), dtype=np.uint32)
    return np.frombuffer(b"".join(blobs), dtype=np.uint32).reshape(len(blobs), PARAMS.num_perm)


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """(n, bands) band keys as signed 64-bit integers (what SQLite stores)."""
    return sketcher().band_keys(sigs).view(np.int64)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of signature rows: a (num_perm,) against b (n, num_perm), or row by row."""
    return (a == b).mean(axis=-1)
