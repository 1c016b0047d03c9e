"""Datasette plugin: the review app's triage pages (data in output/review/triage.py, charts in svgchart.py).

- /-/lurewatch/queue      unreviewed ads, high then medium then low, newest first, keyset-paginated;
- /-/lurewatch/mine       the logged-in analyst's reviews, newest first;
- /-/lurewatch/dashboard  flagged ads per day by source and by country, reviews per day (inline SVG + tables);
- the Datasette menu links to them.
Anonymous requests are sent to /-/login (the auth plugin refuses them too). Every page is server-rendered HTML
with no script and nothing loaded from another host; ad fields are escaped by Jinja's autoescape.
"""
from __future__ import annotations

from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from output.review import svgchart, triage

BASE = "/-/lurewatch"


def case_url(ad_id) -> str:
    return f"{BASE}/ad/{int(ad_id)}"


def nav_links(datasette) -> list[dict]:
    db = datasette.get_database()
    return [
        {"key": "queue", "href": f"{BASE}/queue", "label": "Queue"},
        {"key": "mine", "href": f"{BASE}/mine", "label": "My reviews"},
        {"key": "dashboard", "href": f"{BASE}/dashboard", "label": "Dashboard"},
        {"key": "health", "href": f"{BASE}/health", "label": "Crawl health"},  # plugins/lurewatch_health.py
        {"key": "tables", "href": datasette.urls.database(db.name), "label": "Datasette tables"},
    ]


@hookimpl
def register_routes():
    return [
        (r"^/-/lurewatch/queue$", queue_view),
        (r"^/-/lurewatch/mine$", mine_view),
        (r"^/-/lurewatch/dashboard$", dashboard_view),
    ]


@hookimpl
def menu_links(datasette, actor):
    if not actor:
        return None
    return [{"href": link["href"], "label": link["label"]} for link in nav_links(datasette)[:3]]  # health's menu link: its own plugin


async def _page(datasette, request, template: str, current: str, context: dict) -> Response:
    html = await datasette.render_template(template, {
        **context, "nav": nav_links(datasette), "current": current, "case_url": case_url,
    }, request=request)
    return Response.html(html)


def _login_redirect(request) -> Response | None:
    return None if request.actor else Response.redirect("/-/login")


async def queue_view(datasette, request):
    if (refused := _login_redirect(request)) is not None:
        return refused
    args = request.args
    size = triage.page_size(args.get("size"))
    page = await datasette.get_database().execute_fn(
        lambda conn: triage.queue_page(conn, args.get("level"), args.get("seen"), args.get("id"), size))
    next_url = None
    if page.next_cursor:
        next_url = f"{BASE}/queue?" + urlencode({**page.next_cursor, **({"size": size} if args.get("size") else {})})
    return await _page(datasette, request, "triage_queue.html", "queue", {
        "page": page, "levels": triage.LEVELS, "next_url": next_url, "first_page": not args.get("level"),
    })


async def mine_view(datasette, request):
    if (refused := _login_redirect(request)) is not None:
        return refused
    reviewer = str(request.actor.get("id", ""))
    args = request.args
    size = triage.page_size(args.get("size"))
    page = await datasette.get_database().execute_fn(
        lambda conn: triage.my_reviews(conn, reviewer, args.get("at"), args.get("id"), size))
    next_url = f"{BASE}/mine?" + urlencode(page.next_cursor) if page.next_cursor else None
    return await _page(datasette, request, "triage_mine.html", "mine", {
        "page": page, "reviewer": reviewer, "next_url": next_url, "first_page": not args.get("at"),
    })


async def dashboard_view(datasette, request):
    if (refused := _login_redirect(request)) is not None:
        return refused
    days = triage.days_param(request.args.get("days"))
    all_series = await datasette.get_database().execute_fn(lambda conn: triage.dashboard(conn, days))
    charts = [{"series": s, "svg": svgchart.stacked_bars(s), "names": s.names()} for s in all_series]
    return await _page(datasette, request, "triage_dashboard.html", "dashboard", {
        "charts": charts, "days": days, "day_choices": (7, 30, 90, 365),
    })
