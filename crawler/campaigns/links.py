"""Why two ads are linked: a shared contact value (not a generic one) or a near-duplicate template text.

Contact keys come from the `contacts` table, whose values are already normalised by the engine
(rules/entities.py: phones E.164 however written, handles lower-cased). A number is one key whatever app
it was given for (a phone in one ad, WhatsApp or Zalo in another): ("phone", "+855..."). The board's own
domain and emails at it are not a recruiter's contact and never link.

The guard: a value held by ads of more than `generic_sources` distinct sources, or by more than
`generic_ads` ads, is generic (a board's support address, an agency hotline, a common domain) and links
nothing; it is written to generic_contacts. So is a value held by `generic_clean_ads` or more ads the engine
judged clean (not flagged, or rejected by an analyst) when they are at least `generic_clean_share` of its
holders: an agency's hotline or a board's address on ordinary ads, which would only join unrelated
legitimate ads (a recruiter's handle is mostly on flagged ads; a few clean holders are the engine's misses).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Iterable, Iterator
from urllib.parse import urlsplit

import numpy as np

from .report import LinkSettings
from .text import jaccard

LINK_KINDS = ("phone", "telegram", "whatsapp", "line", "wechat", "zalo", "qq", "viber", "email", "domain")
_NUMBER = re.compile(r"^\+\d{7,15}$")
MAX_BUCKET = 1000  # an LSH bucket holding more ads than this is a stock phrase, not a template: skipped


@lru_cache(maxsize=4096)
def board_host(url: str | None) -> str:
    """The host of the ad's own site ('' when unknown)."""
    try:
        return (urlsplit(url or "").hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _own(domain: str, host: str) -> bool:
    """`domain` is the board's own: the host itself, a parent of it (example.com for jobs.example.com) or a
    subdomain of it."""
    return bool(host) and (domain == host or host.endswith("." + domain) or domain.endswith("." + host))


def contact_key(kind: str, value: str | None, board: str = "") -> tuple[str, str] | None:
    """The (kind, value) an ad's contact links on, or None (not a linking kind, or the board's own domain or
    an email at it; `board` is the ad's host)."""
    if kind not in LINK_KINDS or not value:
        return None
    if _NUMBER.match(value):
        return ("phone", value)
    if kind == "domain" and _own(value, board) or kind == "email" and _own(value.rsplit("@", 1)[-1], board):
        return None
    return (kind, value)


# an ad the engine or an analyst found suspicious (SQL over `ads a`): flagged and not rejected, or confirmed
SUSPICIOUS_SQL = ("(a.review_status = 'lure' OR (coalesce(a.flagged, 0) = 1"
                  " AND coalesce(a.review_status, '') != 'not_lure'))")


@dataclass
class Holders:
    """The ads holding one contact value, their sources, and those of them that look clean."""
    ads: set
    sources: set
    clean: set


def is_generic(holders: Holders, settings: LinkSettings) -> bool:
    if len(holders.sources) > settings.generic_sources or len(holders.ads) > settings.generic_ads:
        return True
    clean = len(holders.clean)
    return clean >= settings.generic_clean_ads and clean >= settings.generic_clean_share * len(holders.ads)


def contact_pairs(key: tuple[str, str], ads: Iterable[int]) -> Iterator[tuple]:
    """ad_links rows (ad_id, other_ad_id, kind, value, similarity) for every pair of ads sharing `key`."""
    for a, b in combinations(sorted(ads), 2):
        yield (a, b, key[0], key[1], 1.0)


def text_pairs_full(ad_ids: np.ndarray, sigs: np.ndarray, keys: np.ndarray, threshold: float) -> dict:
    """{(a, b): estimated Jaccard} for every pair of ads sharing a band key and reaching `threshold`.

    ad_ids (n,), sigs (n, num_perm), keys (n, bands). Vectorised per band: sort the keys, take each bucket
    of 2..MAX_BUCKET ads, compare its pairs' signatures."""
    found: dict[tuple[int, int], float] = {}
    n = len(ad_ids)
    if n < 2:
        return found
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, n])
        for start, size in zip(starts[(sizes >= 2) & (sizes <= MAX_BUCKET)].tolist(),
                               sizes[(sizes >= 2) & (sizes <= MAX_BUCKET)].tolist()):
            rows = order[start: start + size]
            i, j = np.triu_indices(size, 1)
            left, right = rows[i], rows[j]
            est = jaccard(sigs[left], sigs[right])
            ok = est >= threshold
            for a, b, e in zip(ad_ids[left[ok]].tolist(), ad_ids[right[ok]].tolist(), est[ok].tolist()):
                pair = (a, b) if a < b else (b, a)
                if pair not in found:
                    found[pair] = e
    return found
