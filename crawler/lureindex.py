"""The known-lure index of a database: the shipped corpus (rules/known_lures/) plus the lures analysts
confirmed in that database (table confirmed_lures, crawler/verdicts.py).

Built once per crawl or command. The built index is cached beside the database as
`<db>.known-lures.npz` (arrays and JSON, no pickle), keyed by the corpus and the confirmed lures' content:
it is rebuilt whenever a verdict changes them, and reused otherwise.

A confirmed ad re-assessed (rescan, a changed page) would be its own nearest lure: `without_own_lure` assesses
it again without its own entries, so its similarity evidence names another lure or none.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterable

from rules import Engine
from rules.model import Assessment
from rules.similarity import KnownLureIndex, Match, normalise, score_pair

from .sqlitetx import StoreError
from .store import Store

CACHE_SUFFIX = ".known-lures.npz"


def cache_path(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + CACHE_SUFFIX)


def known_lures(store: Store) -> KnownLureIndex:
    """The shipped corpus plus the database's confirmed lures (each match names the confirmed ad)."""
    return KnownLureIndex.load_with(store.known_lure_entries(), cache_path=cache_path(store.path))


def engine_for_store(store: Store | None, **kwargs: Any) -> Engine:
    """Engine.load(**kwargs) whose similarity stage also knows the store's confirmed lures
    (the shipped corpus only when `store` is None or cannot be read)."""
    if store is None:
        return Engine.load(**kwargs)
    try:
        index = known_lures(store)
    except (StoreError, sqlite3.Error):
        return Engine.load(**kwargs)
    return Engine.load(known_lures=index, **kwargs)


class WithoutOwnEntries:
    """A known-lure index seen without the entries of one confirmed ad: an ad is never its own nearest lure.
    Same scoring as KnownLureIndex.nearest, over the same candidates."""

    def __init__(self, index: KnownLureIndex, ad_id: int | None, urls: set[str]):
        self.index = index
        self.ad_id = ad_id
        self.urls = urls

    def own(self, meta: dict[str, Any]) -> bool:
        return meta.get("ad_id") is not None and (meta["ad_id"] == self.ad_id or meta.get("url") in self.urls)

    def nearest(self, text: str, min_similarity: float | None = None) -> Match | None:
        index = self.index
        floor = index.min_similarity if min_similarity is None else min_similarity
        norm = normalise(text)
        best_i, best = -1, -1.0
        for i, _ in index.candidates(text):
            if not self.own(index.metas[i]):
                score = score_pair(norm, index.norms[i])
                if score > best:
                    best_i, best = i, score
        if best_i < 0 or best / 100.0 < floor:
            return None
        lure = index.texts[best_i]
        return Match(index.ids[best_i], best / 100.0, lure if len(lure) <= 160 else lure[:157].rstrip() + "...",
                     index.notes[best_i], dict(index.metas[best_i]))


def is_own_lure(nearest_lure: dict[str, Any] | None, ad_id: int | None, urls: set[str]) -> bool:
    """The assessment's nearest lure is the assessed ad itself (confirmed earlier)."""
    if not nearest_lure or nearest_lure.get("ad_id") is None:
        return False
    return nearest_lure["ad_id"] == ad_id or nearest_lure.get("url") in urls


def without_own_lure(engine: Engine, ad: dict[str, Any], assessment: Assessment, ad_id: int | None = None,
                     urls: Iterable[str] = ()) -> Assessment:
    """`assessment` of `ad`, or, when its nearest lure is the ad itself (a confirmed lure re-assessed), the
    assessment made without the ad's own confirmed entries."""
    urls = {u for u in urls if u}
    if not isinstance(engine.similarity, KnownLureIndex) or not is_own_lure(assessment.nearest_lure, ad_id, urls):
        return assessment
    index = engine.similarity
    engine.similarity = WithoutOwnEntries(index, ad_id, urls)
    try:
        return engine.assess(ad)
    finally:
        engine.similarity = index
