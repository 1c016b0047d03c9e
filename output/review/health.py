"""Data of the review app's crawl-health page (/-/lurewatch/health, plugins/lurewatch_health.py).

- `recent_crawls(conn)`: the last crawls rows, with the frontier crawl/run an ingest wrote them for;
- `scrapyd_nodes(conn)`: jobs per scrapyd node (table `scrapyd_jobs`, crawler/scrapyd.py) and their pages;
- `frontier_health(url)`: the live shared frontier (crawler/frontier.py `overview`), or why it cannot be read.
No Datasette here; every function takes a sqlite3 connection or a Redis URL.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

RECENT_CRAWLS = 20
REDIS_CONNECT_TIMEOUT = 2.0  # s: the page waits at most about this long for an unreachable Redis
REDIS_TIMEOUT = 5.0


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def recent_crawls(conn: sqlite3.Connection, limit: int = RECENT_CRAWLS) -> list[dict]:
    """The newest crawls rows first: id, job or spider, status, times, pages, ads, host, and `frontier`
    ("crawl run N") when `lurewatch ingest` wrote the row for a shared-frontier run."""
    tables = _tables(conn)
    if "crawls" not in tables:
        return []
    frontier = ("(SELECT r.crawl || ' run ' || r.run FROM ingested_runs r WHERE r.crawl_id = c.id LIMIT 1)"
                if "ingested_runs" in tables else "NULL")
    return _rows(conn.execute(
        f"SELECT c.id, coalesce(c.job, c.spider) AS name, c.status, c.started_at, c.finished_at, c.pages, c.items,"
        f" c.new_ads, c.flagged_ads, c.host, {frontier} AS frontier FROM crawls c ORDER BY c.id DESC LIMIT ?",
        [limit]))


def scrapyd_nodes(conn: sqlite3.Connection) -> list[dict]:
    """Per scrapyd node: its jobs by status, the pages of their crawls, and its latest dispatch."""
    tables = _tables(conn)
    if "scrapyd_jobs" not in tables:
        return []
    pages = "c.pages" if "crawls" in tables else "NULL"
    join = " LEFT JOIN crawls c ON c.id = s.crawl_id" if "crawls" in tables else ""
    jobs = _rows(conn.execute(
        f"SELECT s.node, s.plan_job, s.jobid, s.status, s.scheduled_at, s.finished_at, s.crawl_id, {pages} AS pages"
        f" FROM scrapyd_jobs s{join} ORDER BY s.id"))
    nodes: dict[str, dict] = {}
    for job in jobs:
        node = nodes.setdefault(job["node"] or "?", {"node": job["node"] or "?", "jobs": 0, "pages": 0,
                                                     "statuses": Counter(), "last": None})
        node["jobs"] += 1
        node["pages"] += job["pages"] or 0
        node["statuses"][job["status"] or "?"] += 1
        node["last"] = job
    for node in nodes.values():
        node["statuses"] = sorted(node["statuses"].items())
    return sorted(nodes.values(), key=lambda n: n["node"])


def redact(url: str) -> str:
    """`url` without its password (redis://:secret@host -> redis://:***@host)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def frontier_health(url: str | None) -> dict:
    """{"configured", "url" (redacted), "error", "crawls", "nodes"}: per frontier crawl its run, state, queue,
    in-flight requests, items waiting for ingest and workers; per node its running workers and pages.
    An unreachable Redis gives `error` (naming the redacted URL), never an exception."""
    if not url:
        return {"configured": False, "url": None, "error": None, "crawls": [], "nodes": []}
    import redis

    from crawler.frontier import FrontierError, check_url, overview

    shown = redact(url)
    result = {"configured": True, "url": shown, "error": None, "crawls": [], "nodes": []}
    try:
        check_url(url)
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        try:
            crawls = overview(client)
        finally:
            client.close()
    except FrontierError as exc:
        result["error"] = str(exc).replace(url, shown)
        return result
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        result["error"] = f"cannot reach Redis at {shown}: {str(exc).replace(url, shown)}"
        return result
    except (redis.RedisError, ValueError) as exc:  # e.g. a database that is not a Lurewatch frontier
        result["error"] = f"cannot read the frontier at {shown}: {str(exc).replace(url, shown)}"
        return result
    nodes: dict[str, dict] = {}
    for crawl in crawls:
        crawl["in_flight"] = sum(w.get("in_flight", 0) for w in crawl["workers"].values())
        crawl["worker_rows"] = [{"id": wid, "node": w.get("node") or w.get("host") or "?", **w}
                                for wid, w in sorted(crawl["workers"].items())]
        for w in crawl["worker_rows"]:
            node = nodes.setdefault(w["node"], {"node": w["node"], "workers": 0, "running": 0, "pages": 0,
                                                "in_flight": 0})
            node["workers"] += 1
            node["running"] += w.get("state") == "running"
            node["pages"] += w.get("pages") or 0
            node["in_flight"] += w.get("in_flight", 0)
    result["crawls"] = crawls
    result["nodes"] = sorted(nodes.values(), key=lambda n: n["node"])
    return result
