"""Data of the review app's triage pages (plugins/lurewatch_triage.py): the queue of unreviewed ads, an analyst's
own reviews and the dashboard's counts per day. Plain functions over a read-only sqlite3 connection; the indexes
they rely on are created by crawler.store (REVIEW_INDEXES), so a page costs an index range scan at 100k ads.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

LEVELS = ("high", "medium", "low")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
DEFAULT_DAYS = 30
MAX_DAYS = 366

QUEUE_COLUMNS = ("id", "risk_score", "risk_level", "title", "country", "source", "first_seen")
_QUEUE_SQL = (f"SELECT {', '.join(QUEUE_COLUMNS)} FROM ads"
              " WHERE review_status = 'unreviewed' AND risk_level = :level{after}"
              " ORDER BY first_seen DESC, id DESC LIMIT :limit")
_AFTER = " AND (first_seen, id) < (:seen, :id)"
MINE_COLUMNS = ("id", "ad_id", "at", "verdict", "note", "title")
_MINE_SQL = ("SELECT r.id, r.ad_id, r.at, r.verdict, r.note, a.title FROM reviews r LEFT JOIN ads a ON a.id = r.ad_id"
             " WHERE r.reviewer = :reviewer{after} ORDER BY r.at DESC, r.id DESC LIMIT :limit")
_MINE_AFTER = " AND (r.at, r.id) < (:at, :id)"


def queue_sql(after: bool = False) -> str:
    """The SQL of one level's slice of the queue (for EXPLAIN QUERY PLAN in tests)."""
    return _QUEUE_SQL.format(after=_AFTER if after else "")


def page_size(value, default: int = PAGE_SIZE) -> int:
    """A page size from a query-string value: default when absent or not a number, clamped to 1..MAX_PAGE_SIZE."""
    try:
        return max(1, min(MAX_PAGE_SIZE, int(value)))
    except (TypeError, ValueError):
        return default


@dataclass
class QueuePage:
    groups: list[tuple[str, list[dict]]]  # (level, rows), levels in LEVELS order, rows newest first
    counts: dict[str, int]  # unreviewed ads per level (all pages)
    next_cursor: dict[str, str] | None = None  # query-string parameters of the next page
    size: int = PAGE_SIZE


def queue_page(conn: sqlite3.Connection, level: str | None = None, seen: str | None = None, ad_id=None,
               size: int = PAGE_SIZE) -> QueuePage:
    """One page of unreviewed ads, high then medium then low, newest first (first_seen, then id) within a level.
    The page starts at `level` (default: high), after the ad (`seen`, `ad_id`) when both are given (keyset)."""
    counts = dict.fromkeys(LEVELS, 0)
    for lvl, n in conn.execute("SELECT risk_level, count(*) FROM ads WHERE review_status = 'unreviewed'"
                               " AND risk_level IN ('high', 'medium', 'low') GROUP BY risk_level"):
        counts[lvl] = n
    start = LEVELS.index(level) if level in LEVELS else 0
    after = {"seen": seen, "id": _int(ad_id)} if level in LEVELS and seen and _int(ad_id) is not None else None
    groups: list[tuple[str, list[dict]]] = []
    remaining, next_cursor = size, None
    for lvl in LEVELS[start:]:
        if remaining == 0:
            if counts[lvl]:
                next_cursor = {"level": lvl}
                break
            continue
        params = {"level": lvl, "limit": remaining + 1, **(after or {})}
        rows = [dict(zip(QUEUE_COLUMNS, r)) for r in conn.execute(queue_sql(after is not None), params)]
        after = None
        if len(rows) > remaining:
            rows = rows[:remaining]
            next_cursor = {"level": lvl, "seen": rows[-1]["first_seen"], "id": str(rows[-1]["id"])}
        if rows:
            groups.append((lvl, rows))
        remaining -= len(rows)
        if next_cursor:
            break
    return QueuePage(groups, counts, next_cursor, size)


@dataclass
class MinePage:
    rows: list[dict]
    total: int
    next_cursor: dict[str, str] | None = None


def my_reviews(conn: sqlite3.Connection, reviewer: str, at: str | None = None, review_id=None,
               size: int = PAGE_SIZE) -> MinePage:
    """`reviewer`'s reviews, newest first, with the ad's title; after the review (`at`, `review_id`) when given."""
    after = at is not None and _int(review_id) is not None
    params = {"reviewer": reviewer, "limit": size + 1, **({"at": at, "id": _int(review_id)} if after else {})}
    rows = [dict(zip(MINE_COLUMNS, r))
            for r in conn.execute(_MINE_SQL.format(after=_MINE_AFTER if after else ""), params)]
    total = conn.execute("SELECT count(*) FROM reviews WHERE reviewer = ?", [reviewer]).fetchone()[0]
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = {"at": rows[-1]["at"], "id": str(rows[-1]["id"])}
    return MinePage(rows, total, next_cursor)


@dataclass
class Series:
    """Counts per day and per series name (source, country or verdict) over consecutive days."""
    title: str
    days: list[str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> day -> count

    def names(self) -> list[str]:
        """Series names, largest total first (ties by name)."""
        return sorted(self.counts, key=lambda n: (-sum(self.counts[n].values()), n))

    def total(self, day: str) -> int:
        return sum(c.get(day, 0) for c in self.counts.values())

    def name_total(self, name: str) -> int:
        return sum(self.counts[name].values())

    def grand_total(self) -> int:
        return sum(map(self.name_total, self.counts))


def day_window(days: int, today: date | None = None) -> list[str]:
    """The `days` ISO dates ending today (UTC), oldest first."""
    today = today or datetime.now(timezone.utc).date()
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def days_param(value) -> int:
    try:
        return max(1, min(MAX_DAYS, int(value)))
    except (TypeError, ValueError):
        return DEFAULT_DAYS


def dashboard(conn: sqlite3.Connection, days: int = DEFAULT_DAYS, today: date | None = None) -> list[Series]:
    """Flagged ads per day (day first seen) by source and by country, and reviews per day by verdict."""
    window = day_window(days, today)
    since = window[0]
    out = []
    for title, column in (("Flagged ads per day, by source", "source"), ("Flagged ads per day, by country", "country")):
        out.append(_series(conn, title, window,
                           f"SELECT substr(first_seen, 1, 10) AS day, coalesce(nullif({column}, ''), '(unknown)'),"
                           " count(*) FROM ads WHERE flagged = 1 AND first_seen >= ? GROUP BY 1, 2", [since]))
    out.append(_series(conn, "Reviews per day, by verdict", window,
                       "SELECT substr(at, 1, 10) AS day, coalesce(nullif(verdict, ''), '(none)'), count(*)"
                       " FROM reviews WHERE at >= ? GROUP BY 1, 2", [since]))
    return out


def _series(conn, title, window, sql, params) -> Series:
    series = Series(title, window)
    days = set(window)
    for day, name, n in conn.execute(sql, params):
        if day in days:
            series.counts.setdefault(str(name), {})[day] = n
    return series


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
