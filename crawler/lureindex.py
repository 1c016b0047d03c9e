"""The known-lure index of a database: the shipped corpus (rules/known_lures/) plus the lures analysts
confirmed in that database (table confirmed_lures, crawler/verdicts.py).

Built once per crawl or command. The built index is cached beside the database as
`<db>.known-lures.npz` (arrays and JSON, no pickle), keyed by the corpus and the confirmed lures' content:
it is rebuilt whenever a verdict changes them, and reused otherwise.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rules import Engine
from rules.similarity import KnownLureIndex

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
