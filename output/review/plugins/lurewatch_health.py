"""Datasette plugin: crawl health across nodes in the review app (data in output/review/health.py).

- GET /-/lurewatch/health  recent crawls (status, pages, the frontier run an ingest wrote them for), jobs per
                           scrapyd node (table scrapyd_jobs) and, when the app was started with a frontier
                           (`lurewatch review --frontier redis://...` or LUREWATCH_FRONTIER; plugin config
                           `lurewatch-health: {frontier: URL}`), the live shared frontier: per crawl its queue,
                           requests in flight, items waiting for `lurewatch ingest`, and pages per worker and node.
                           An unreachable Redis is said on the page (no error status).
- the Datasette menu and the triage pages' bar link to it.
Same access as the case page: anonymous visitors are sent to /-/login, and the actor must be allowed to view the
database. Server-rendered, no script, nothing loaded from another host; every value is escaped by Jinja's
autoescape, and a password in the Redis URL is never shown.
"""
from __future__ import annotations

import asyncio

from datasette import hookimpl
from datasette.utils.asgi import Response

from output.review.access import may_get
from output.review import health

PATH = "/-/lurewatch/health"
CONFIG = "lurewatch-health"


@hookimpl
def register_routes():
    return [(r"^/-/lurewatch/health$", health_view)]


@hookimpl
def menu_links(datasette, actor):
    if not actor:
        return None
    return [{"href": datasette.urls.path(PATH), "label": "Crawl health"}]


def _nav(datasette) -> list[dict]:
    from output.review.plugins.lurewatch_triage import nav_links  # the triage pages' bar (Health is in it)

    return nav_links(datasette)


async def health_view(datasette, request):
    refused = await may_get(datasette, request)
    if refused:
        return refused
    db = datasette.get_database()
    crawls = await db.execute_fn(health.recent_crawls)
    nodes = await db.execute_fn(health.scrapyd_nodes)
    url = (datasette.plugin_config(CONFIG) or {}).get("frontier")
    frontier = await asyncio.get_running_loop().run_in_executor(None, health.frontier_health, url)
    html = await datasette.render_template("health.html", {
        "crawls": crawls, "nodes": nodes, "frontier": frontier, "nav": _nav(datasette), "current": "health",
    }, request=request)
    return Response.html(html)
