"""Triage pages of the review app (queue, my reviews, dashboard) and opsec on the stock Datasette pages:
real `lurewatch review` in a subprocess (tests/reviewapp.py), pages read over HTTP and in Chromium (Playwright)."""
from __future__ import annotations

import sqlite3
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest
from parsel import Selector
from reviewapp import Session, login, start_review_app

from crawler.browser import find_chromium
from crawler.store import Store
from output.review import triage

TODAY = datetime.now(timezone.utc).date()


def at(days_ago: int, hour: int) -> str:
    return f"{TODAY - timedelta(days=days_ago)}T{hour:02d}:00:00+00:00"


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def assessment(score: int, level: str, **extra) -> dict:
    return {"score": score, "level": level, "flagged": score >= 50, "language": "en", "categories": [],
            "summary": "", "evidence": [], **extra}


def build(path, ads, reviews) -> dict[str, int]:
    """A database with `ads` (title, level, score, source, country, first_seen, extra ad fields, extra assessment)
    and `reviews` (title, verdict, reviewer, note, at); returns {title: ad id}."""
    store = Store(path)
    ids = {}
    for n, (title, level, score, source, country, seen, fields, extra) in enumerate(ads):
        ad = {"url": f"http://site.example/ad/{n}", "source": source, "country": country, "title": title,
              "description": "A job.", **{k: v for k, v in fields.items() if k != "_snapshot"}}
        ids[title] = store.save_ad(ad, assessment(score, level, **extra), snapshot=fields.get("_snapshot"))[0]
    for title, verdict, reviewer, note, _ in reviews:
        store.add_review(ids[title], verdict, reviewer, note)
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        for title, *_rest, seen, _fields, _extra in ads:
            conn.execute("update ads set first_seen = ? where id = ?", [seen, ids[title]])
        for (title, verdict, reviewer, note, when), (review_id,) in zip(
                reviews, conn.execute("select id from reviews order by id").fetchall()):
            conn.execute("update reviews set at = ? where id = ?", [when, review_id])
    conn.close()
    return ids


# -- a database with known order and counts ---------------------------------------------------------------------
KNOWN_ADS = [  # title, level, score, source, country, first seen
    ("High oldest", "high", 95, "a.example", "KH", at(5, 8), {}, {}),
    ("High newest", "high", 90, "a.example", "KH", at(0, 12), {}, {}),
    ("High middle", "high", 85, "b.example", "TH", at(1, 9), {}, {}),
    ("High twin A", "high", 80, "a.example", "KH", at(3, 10), {}, {}),
    ("High twin B", "high", 80, "a.example", "", at(3, 10), {}, {}),
    ("High reviewed", "high", 99, "a.example", "KH", at(1, 11), {}, {}),
    ("Old flagged", "high", 80, "a.example", "KH", at(40, 8), {}, {}),
    ("Medium old", "medium", 65, "a.example", "KH", at(10, 8), {}, {}),
    ("Medium new", "medium", 60, "b.example", "MM", at(0, 8), {}, {}),
    ("Low only", "low", 20, "c.example", "", at(2, 8), {}, {}),
    ("No risk", "none", 3, "c.example", "TH", at(0, 7), {}, {}),
]
KNOWN_REVIEWS = [  # title, verdict, reviewer, note, at
    ("High reviewed", "lure", "ana", "ana first", at(1, 12)),
    ("No risk", "unsure", "ana", "ana second", at(0, 9)),
    ("No risk", "not_lure", "vic", "vic note", at(0, 10)),
    ("High reviewed", "fraud", "bob", "bob note", at(2, 8)),
]
QUEUE = {
    "high": ["High newest", "High middle", "High twin B", "High twin A", "High oldest", "Old flagged"],
    "medium": ["Medium new", "Medium old"],
    "low": ["Low only"],
}
# flagged ads (score >= 50) first seen in the last 30 days, by day; "Old flagged" is 40 days old
BY_SOURCE = {"a.example": {day(0): 1, day(1): 1, day(3): 2, day(5): 1, day(10): 1},
             "b.example": {day(0): 1, day(1): 1}}
BY_COUNTRY = {"KH": {day(0): 1, day(1): 1, day(3): 1, day(5): 1, day(10): 1}, "TH": {day(1): 1},
              "MM": {day(0): 1}, "(unknown)": {day(3): 1}}
REVIEWS_PER_DAY = {"unsure": {day(0): 1}, "not_lure": {day(0): 1}, "lure": {day(1): 1}, "fraud": {day(2): 1}}
MINE = {"ana": [("No risk", "unsure", "ana second"), ("High reviewed", "lure", "ana first")],
        "vic": [("No risk", "not_lure", "vic note")]}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    path = tmp_path_factory.mktemp("triage") / "known.db"
    ids = build(path, KNOWN_ADS, KNOWN_REVIEWS)
    with start_review_app(path) as app:
        yield app, ids


def session_for(app, user: str = "ana") -> Session:
    password = {"ana": "pw1", "vic": "pw2"}[user]
    return login(Session(), app.url, user, password)


def page(app, session: Session, path: str) -> Selector:
    status, body = session.get(app.url + path)
    assert status == 200, f"{path}: {status} {body[:300]}"
    return Selector(text=body)


def queue_rows(sel: Selector) -> list[tuple[str, str, str, str]]:
    """(level, title, link, score) of each row the queue page prints, in page order."""
    return [(table.attrib["data-level"], " ".join(row.css("td.lw-title a::text").getall()),
             row.css("td.lw-title a::attr(href)").get(), row.css("td:first-child::text").get())
            for table in sel.css("table[data-level]") for row in table.css("tbody tr")]


def test_queue_lists_unreviewed_ads_by_level_newest_first(known):
    app, ids = known
    sel = page(app, session_for(app), "/-/lurewatch/queue")
    rows = queue_rows(sel)
    assert [(level, title) for level, title, _, _ in rows] == [(lvl, t) for lvl, titles in QUEUE.items() for t in titles]
    assert [link for _, _, link, _ in rows] == [f"/-/lurewatch/ad/{ids[t]}" for titles in QUEUE.values() for t in titles]
    assert rows[0][3] == "90"  # the score is printed
    assert sel.css("h2.lw-level::text").getall() == ["High risk", "Medium risk", "Low risk"]
    assert {lvl: int(sel.css(f"[data-level-count={lvl}]::text").get()) for lvl in QUEUE} == \
        {lvl: len(titles) for lvl, titles in QUEUE.items()}
    text = " ".join(sel.css("tr[data-ad-id] ::text").getall())
    assert "KH" in text and "b.example" in text and at(0, 12) in text  # country, source, first seen


@pytest.mark.parametrize("size", [1, 2, 4])
def test_queue_pages_follow_each_other(known, size):
    app, _ = known
    session, path, seen = session_for(app), f"/-/lurewatch/queue?size={size}", []
    for _ in range(20):
        sel = page(app, session, path)
        rows = queue_rows(sel)
        assert len(rows) <= size
        seen += [(level, title) for level, title, _, _ in rows]
        path = sel.css("a[rel=next]::attr(href)").get()
        if not path:
            break
    assert seen == [(lvl, t) for lvl, titles in QUEUE.items() for t in titles]


def test_queue_query_uses_an_index(tmp_path):
    """At 100k ads a queue page is an index range scan, not a sort of every unreviewed ad."""
    path = tmp_path / "plan.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    for after in (False, True):
        plan = " ".join(r[3] for r in conn.execute("explain query plan " + triage.queue_sql(after),
                                                   {"level": "high", "limit": 51, "seen": "x", "id": 1}))
        assert "USING INDEX idx_ads_review_status_risk_level_first_seen" in plan and "TEMP B-TREE" not in plan, plan


def test_an_existing_database_gets_the_triage_indexes(tmp_path):
    path = tmp_path / "old.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("drop index idx_ads_review_status_risk_level_first_seen")
    conn.execute("drop index idx_reviews_reviewer_at")
    conn.commit()
    Store(path).close()
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'index'")}
    assert {"idx_ads_review_status_risk_level_first_seen", "idx_reviews_reviewer_at"} <= names


@pytest.mark.parametrize("user", ["ana", "vic"])
def test_mine_shows_only_the_actors_reviews_newest_first(known, user):
    app, ids = known
    sel = page(app, session_for(app, user), "/-/lurewatch/mine")
    rows = [(row.css("td.lw-title a::attr(href)").get(), row.css("td[data-verdict]::text").get(),
             row.css("td.lw-title:last-child::text").get()) for row in sel.css("tr[data-review-id]")]
    assert rows == [(f"/-/lurewatch/ad/{ids[t]}", v, note) for t, v, note in MINE[user]]
    assert f"recorded as {user}," in "".join(sel.css("p ::text").getall())


def test_mine_pages_follow_each_other(known):
    app, _ = known
    session = session_for(app)
    first = page(app, session, "/-/lurewatch/mine?size=1")
    assert first.css("td[data-verdict]::text").getall() == ["unsure"]
    second = page(app, session, first.css("a[rel=next]::attr(href)").get())
    assert second.css("td[data-verdict]::text").getall() == ["lure"]
    assert not second.css("a[rel=next]")


def chart_table(sel: Selector, title: str) -> dict[str, dict[str, int]]:
    """{series name: {day: count}} from the dashboard table of one chart, zeros left out."""
    table = sel.css(f'table[data-chart-table="{title}"]')
    names = table.css("thead th[scope=col]::text").getall()
    out: dict[str, dict[str, int]] = {}
    for row in table.css("tbody tr"):
        when = row.css("th::text").get()
        for name, cell in zip(names, row.css("td::text").getall()):
            if int(cell):
                out.setdefault(name, {})[when] = int(cell)
    return out


def chart_bars(sel: Selector, title: str) -> dict[str, dict[str, int]]:
    bars: dict[str, dict[str, int]] = {}
    for rect in sel.css(f'svg[aria-label="{title}"] rect[data-count]'):
        bars.setdefault(rect.attrib["data-series"], {})[rect.attrib["data-day"]] = int(rect.attrib["data-count"])
    return bars


@pytest.mark.parametrize("title, expected", [
    ("Flagged ads per day, by source", BY_SOURCE),
    ("Flagged ads per day, by country", BY_COUNTRY),
    ("Reviews per day, by verdict", REVIEWS_PER_DAY),
])
def test_dashboard_numbers_match_the_database(known, title, expected):
    app, _ = known
    sel = page(app, session_for(app, "vic"), "/-/lurewatch/dashboard")
    assert chart_table(sel, title) == expected
    assert chart_bars(sel, title) == expected
    table = sel.css(f'table[data-chart-table="{title}"]')
    assert len(table.css("tbody tr")) == 30
    assert int(table.css("tfoot td:last-child::text").get()) == sum(sum(d.values()) for d in expected.values())


def test_dashboard_window_is_a_parameter(known):
    app, _ = known
    sel = page(app, session_for(app), "/-/lurewatch/dashboard?days=2")
    assert chart_table(sel, "Flagged ads per day, by source") == {"a.example": {day(0): 1, day(1): 1},
                                                                  "b.example": {day(0): 1, day(1): 1}}
    sel = page(app, session_for(app), "/-/lurewatch/dashboard?days=60")
    assert chart_table(sel, "Flagged ads per day, by source")["a.example"][day(40)] == 1


@pytest.mark.parametrize("path", ["/-/lurewatch/queue", "/-/lurewatch/mine", "/-/lurewatch/dashboard"])
def test_anonymous_is_sent_to_login(known, path):
    app, _ = known
    anonymous = Session()
    status, body = anonymous.get(app.url + path, follow=False)
    assert status in (302, 303, 401, 403), body[:200]
    assert "High newest" not in body
    if status in (302, 303):
        assert urllib.parse.urlsplit(anonymous.last_headers["Location"]).path == "/-/login"


def test_home_and_ads_pages_point_to_the_queue(known):
    app, _ = known
    session = session_for(app)
    for path in ("/", f"/{app.db_name}", f"/{app.db_name}/ads"):
        assert "/-/lurewatch/queue" in page(app, session, path).css("a::attr(href)").getall(), path


@pytest.mark.parametrize("path", ["/", "/{db}/ads", "/{db}/ads/1", "/{db}/evidence"])
def test_datasette_menu_links_the_triage_pages(known, path):
    app, _ = known
    links = page(app, session_for(app), path.format(db=app.db_name)).css("details.nav-menu a::attr(href)").getall()
    assert {"/-/lurewatch/queue", "/-/lurewatch/mine", "/-/lurewatch/dashboard", "/-/lurewatch/health"} <= set(links)


@pytest.mark.parametrize("path", ["/-/lurewatch/queue", "/-/lurewatch/mine", "/-/lurewatch/dashboard"])
def test_triage_pages_have_the_navigation_bar(known, path):
    app, _ = known
    links = page(app, session_for(app), path).css("nav.lw-nav a::attr(href)").getall()
    assert links == ["/-/lurewatch/queue", "/-/lurewatch/mine", "/-/lurewatch/dashboard", "/-/lurewatch/health",
                     f"/{app.db_name}"]


# -- hostile ads: crawled URLs, XSS payloads ----------------------------------------------------------------------
CRAWLED_HOSTS = {"lure.example", "lure-alias.example", "evil.example"}
XSS = ['<script>window.__xss="script"</script>', '"><img src="http://evil.example/x.png" onerror="window.__xss=\'img\'">',
       "<svg onload=\"window.__xss='svg'\">", "' onmouseover='window.__xss=1' x='"]
HOSTILE_URL = 'https://lure.example/job?id=1&x="><script>window.__xss="url"</script>'
HOSTILE_ADS = [
    ("Unreviewed " + XSS[0], "high", 90, XSS[1], XSS[2], at(0, 9), {
        "url": HOSTILE_URL, "company": XSS[3], "location": XSS[0], "salary_text": XSS[1],
        "description": "Apply at https://lure.example/apply " + XSS[2], "contact": XSS[0],
        "_snapshot": {"url": "http://lure.example/job?id=1", "status": 200, "content_type": "text/html",
                      "body": b'<html><img src="http://evil.example/pixel.png"><script>window.__xss=1</script></html>'}},
     {"summary": XSS[1], "contacts": [
         {"kind": "url", "value": "https://lure.example/apply", "raw": "https://lure.example/apply", "field": "description"},
         {"kind": "domain", "value": "lure.example", "raw": "lure.example", "field": "description"}]}),
    ("Reviewed " + XSS[2], "medium", 60, XSS[0], XSS[3], at(1, 9), {"url": "http://lure-alias.example/x"}, {}),
    ("Only a link", "none", 5, "plain.example", "TH", at(2, 9),
     {"url": "http://evil.example/plain", "description": "https://evil.example/start"}, {}),
]
HOSTILE_REVIEWS = [("Reviewed " + XSS[2], "lure", "ana", "note " + XSS[1] + XSS[0], at(0, 10))]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("triage") / "hostile.db"
    ids = build(path, HOSTILE_ADS, HOSTILE_REVIEWS)
    with start_review_app(path) as app:
        yield app, ids


def stock_pages(db: str) -> list[str]:
    sql = urllib.parse.quote("select a.id, a.url, u.url as alias, s.url as snapshot_url, b.body_zstd from ads a "
                             "join ad_urls u on u.ad_id = a.id left join snapshots s on s.ad_id = a.id "
                             "left join snapshot_bodies b on b.sha1 = s.sha1")
    return [f"/{db}/ads", f"/{db}/ads/1", f"/{db}/ads/2", f"/{db}/ad_urls", f"/{db}/snapshots", f"/{db}/snapshots/1",
            f"/{db}/contacts", f"/{db}/contacts?kind=url", f"/{db}/snapshot_bodies", f"/{db}/unreviewed_high_risk",
            f"/{db}?sql={sql}", f"/{db}/ads?_search=lure", f"/{db}/ads/3"]


TRIAGE_PAGES = ["/-/lurewatch/queue", "/-/lurewatch/mine", "/-/lurewatch/dashboard"]
OTHER_LINKED_HOSTS = {"datasette.io", "github.com"}  # the footer's "Powered by Datasette" and "about" links


def link_hosts(app, sel: Selector) -> set[str]:
    return {urllib.parse.urlsplit(urllib.parse.urljoin(app.url + "/", href)).hostname
            for href in sel.css("[href]::attr(href), [src]::attr(src), [action]::attr(action)").getall()}


@pytest.mark.parametrize("which", range(13))
def test_stock_pages_never_link_a_crawled_url(hostile, which):
    app, _ = hostile
    path = stock_pages(app.db_name)[which]
    status, body = session_for(app).get(app.url + path)
    assert status == 200, f"{path}: {status} {body[:300]}"
    hosts = link_hosts(app, Selector(text=body))
    assert not hosts & CRAWLED_HOSTS, path
    assert hosts <= {"127.0.0.1"} | OTHER_LINKED_HOSTS, (path, hosts)


@pytest.mark.parametrize("path", ["ads", "ads/1", "snapshots", "snapshots/1", "contacts?kind=url"])
def test_crawled_urls_are_shown_as_text(hostile, path):
    """(ad_urls.url is that table's primary key: Datasette links it to its own row page, checked above.)"""
    app, _ = hostile
    sel = page(app, session_for(app), f"/{app.db_name}/{path}")
    shown = " ".join(sel.css(".lurewatch-url::text").getall())
    assert "lure.example" in shown or "lure-alias.example" in shown, path


@pytest.mark.parametrize("path", ["ads", "ads/1", "ads/2"])
def test_ads_rows_link_to_their_case_page(hostile, path):
    app, ids = hostile
    sel = page(app, session_for(app), f"/{app.db_name}/{path}")
    wanted = set(ids.values()) if path == "ads" else {int(path.split("/")[1])}
    assert {f"/-/lurewatch/ad/{i}" for i in wanted} <= set(sel.css("td.col-title a::attr(href)").getall())


@pytest.mark.parametrize("path", ["snapshot_bodies", "?sql=select+body_zstd+from+snapshot_bodies"])  # schema 6: zstd bodies
def test_snapshot_bodies_point_to_the_case_page_not_a_download(hostile, path):
    app, ids = hostile
    sep = "" if path.startswith("?") else "/"
    status, body = session_for(app).get(f"{app.url}/{app.db_name}{sep}{path}")
    assert status == 200
    sel = Selector(text=body)
    assert not [h for h in sel.css("a::attr(href)").getall() if ".blob" in h or "_blob_column" in h]
    assert "see case page" in body
    if not path.startswith("?"):
        assert f"/-/lurewatch/ad/{ids['Unreviewed ' + XSS[0]]}" in sel.css("td a::attr(href)").getall()


@pytest.mark.parametrize("path", TRIAGE_PAGES)
def test_xss_payloads_are_escaped_in_triage_pages(hostile, path):
    app, _ = hostile
    status, body = session_for(app).get(app.url + path)
    assert status == 200
    for payload in XSS:
        assert payload not in body
    sel = Selector(text=body)
    assert not sel.css("img, svg script, [onerror], [onload], [onmouseover]")
    assert all("__xss" not in s for s in sel.css("script::text").getall())
    text = " ".join(sel.css("body ::text").getall())
    expected = {"/-/lurewatch/queue": [XSS[0], XSS[1]], "/-/lurewatch/mine": [XSS[1] + XSS[0]],
                "/-/lurewatch/dashboard": [XSS[1], XSS[2]]}[path]
    for shown in expected:  # printed as text, not dropped
        assert shown[:20] in text, shown


# -- in Chromium --------------------------------------------------------------------------------------------------
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def visit(browser, app, path: str):
    """Open `path` logged in as ana; every request to another origin is aborted and recorded.
    Returns (page, foreign request URLs, dialogs)."""
    context = browser.new_context()
    page = context.new_page()
    foreign, dialogs = [], []

    def route(r):
        if r.request.url.startswith(app.url + "/"):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, app.url, "ana", "pw1")
    page.goto(app.url + path, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, foreign, dialogs


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("which", range(len(TRIAGE_PAGES) + 5))
def test_pages_in_chromium_contact_no_other_host_and_run_no_payload(hostile, chromium, which):
    app, _ = hostile
    path = (TRIAGE_PAGES + stock_pages(app.db_name)[:3] + stock_pages(app.db_name)[6:7]
            + stock_pages(app.db_name)[8:9])[which]
    page, foreign, dialogs = visit(chromium, app, path)
    try:
        page.mouse.move(5, 5)
        for cell in page.locator("td:visible").all()[:60]:  # an injected onmouseover would fire here
            cell.hover()
        assert foreign == [] and dialogs == []
        assert page.evaluate("window.__xss") is None
        links = page.eval_on_selector_all("a[href]", "els => els.map(a => new URL(a.href).hostname)")
        assert not set(links) & CRAWLED_HOSTS
    finally:
        page.context.close()


@pytest.mark.browser
@needs_chromium
def test_queue_in_chromium_shows_levels_newest_first_and_opens_a_case(known, chromium):
    app, ids = known
    page, foreign, _ = visit(chromium, app, "/-/lurewatch/queue")
    try:
        titles = page.locator("table[data-level] td.lw-title a").all_inner_texts()
        assert titles == [t for ts in QUEUE.values() for t in ts]
        page.click("text=Medium new")
        assert page.url == f"{app.url}/-/lurewatch/ad/{ids['Medium new']}"
        assert foreign == []
    finally:
        page.context.close()


# -- the chart drawing itself ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, top", [(0, 1), (1, 1), (3, 5), (6, 10), (20, 20), (21, 50), (101, 200)])
def test_chart_axis_top(value, top):
    from output.review.svgchart import nice_max

    assert nice_max(value) == top


def test_chart_draws_the_largest_series_and_sums_the_rest_as_other():
    from output.review.svgchart import MAX_SERIES, stacked_bars

    days = [day(1), day(0)]
    series = triage.Series("t", days, {f"s{n:02d}": {day(0): n + 1} for n in range(MAX_SERIES + 3)})
    bars = chart_bars(Selector(text=str(stacked_bars(series))), "t")
    kept = [f"s{n:02d}" for n in range(MAX_SERIES + 2, 2, -1)]  # the 8 largest
    assert {name: d[day(0)] for name, d in bars.items()} == {**{n: int(n[1:]) + 1 for n in kept}, "other": 1 + 2 + 3}
