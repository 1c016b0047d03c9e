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

from .report import LinkSettings

LINK_KINDS = ("phone", "telegram", "whatsapp", "line", "wechat", "zalo", "qq", "viber", "email", "domain")
_NUMBER = re.compile(r"^\+\d{7,15}$")
# An LSH bucket of up to PAIR_BUCKET ads: every pair is compared. A larger one is mostly a stock phrase (a
# common shingle that is the minimum of a few permutations) or a template posted many times: each of its ads
# is compared with the bucket's first ad only (the lowest id). Above MAX_BUCKET it is skipped.
PAIR_BUCKET = 50
MAX_BUCKET = 1000


def board_host(url: str | None) -> str:
    """The host of the ad's own site ('' when unknown)."""
    authority = (url or "").split("/", 3)[2] if (url or "").count("/") >= 2 else ""
    return _host(authority)


@lru_cache(maxsize=4096)
def _host(authority: str) -> str:
    try:
        return (urlsplit(f"//{authority}").hostname or "").lower().removeprefix("www.")
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


# the ENGINE's flag of `ads a`: the campaign_risk row's while the ad still has the score campaign risk gave it
# (crawler/campaigns/risk.py), else the ads row's. A flag raised by campaign risk must not make a generic
# value's holders look suspicious, or an early link through it would keep itself alive.
ENGINE_FLAG_SQL = ("coalesce((SELECT cr.engine_flagged FROM campaign_risk cr WHERE cr.ad_id = a.id"
                   " AND cr.score = a.risk_score), a.flagged, 0)")
# an ad the engine or an analyst found suspicious (SQL over `ads a`): flagged and not rejected, or confirmed
SUSPICIOUS_SQL = (f"(a.review_status = 'lure' OR ({ENGINE_FLAG_SQL} = 1"
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
