"""Crawl health page (/-/lurewatch/health): a real redis-server, a real `lurewatch crawl --frontier --push` worker
on a local board and a real `lurewatch ingest`, then the real review app started with --frontier."""
from __future__ import annotations

import html
import os
import re
import subprocess

import pytest

from conftest import LUREWATCH, db_rows, serve_site
from crawler.services import RedisServer
from reviewapp import Session, login, start_review_app

pytestmark = pytest.mark.slow
PAGE = "/-/lurewatch/health"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def crawl_push(site, redis_url, db, node):
    out = subprocess.run([str(LUREWATCH), "crawl", site.url("/"), "--db", str(db), "--frontier", redis_url, "--push",
                          "--no-progress", "-s", "LUREWATCH_FRONTIER_CRAWL=board", "-s", f"LUREWATCH_NODE={node}"],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def frontier_state(redis_url, tmp_path_factory):
    """Run 1 of crawl `board` pushed by a worker on node-a and ingested into the db (a crawls row with its pages);
    a live crawl `queued` with a worker on node-b: three requests queued, one popped (in flight), one item
    in its stream not yet ingested; and two dispatches to scrapyd node `http://sd1:6800` recorded in the db."""
    import redis

    from crawler.frontier import Frontier
    from crawler.scrapyd import TABLE
    from crawler.store import Store

    db = tmp_path_factory.mktemp("health") / "health.db"
    site = serve_site("unseen_board")
    try:
        crawl_push(site, redis_url, db, "node-a")
    finally:
        site.stop()
    ingest = subprocess.run([str(LUREWATCH), "ingest", "--from", redis_url, "--db", str(db), "--crawl", "board"],
                            capture_output=True, text=True, timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    client = redis.Redis.from_url(redis_url)
    # its heartbeat outlives the module (with the default 10 s, a slow machine saw the worker dead before the page)
    live = Frontier(client, "queued", worker="node-b-host:42:abc", dead_after=600.0)
    live.register(host="node-b-host", pid=42, node="node-b", sink="redis")
    for n in range(3):
        live.enqueue(f"fp{n}", -n, f"request {n}".encode(), dont_filter=False)
    live.pop()
    live.set_worker(pages=7)
    client.xadd(live.keys.items, {"kind": "item", "run": live.run, "id": "x1", "data": "{}"})
    [crawl_id] = [r["id"] for r in db_rows(db, "SELECT id FROM crawls")]
    store = Store(db)
    try:
        store.db.execute(TABLE)
        for plan_job, status in (("nightly-a", "ok"), ("nightly-b", "running")):
            store.db["scrapyd_jobs"].insert({"plan_job": plan_job, "node": "http://sd1:6800", "jobid": f"j-{plan_job}",
                                             "spider": "generic", "status": status,
                                             "crawl_id": crawl_id if status == "ok" else None})
        store.db.conn.commit()
    finally:
        store.close()
    return db, client


@pytest.fixture(scope="module")
def app(frontier_state, redis_url):
    db, _ = frontier_state
    with start_review_app(db, None, "--frontier", redis_url) as running:
        yield running


def row(page: str, attr: str, value: str) -> list[str]:
    """The text of each cell of the table row with `attr="value"` in the page."""
    match = re.search(rf'<tr {attr}="{re.escape(value)}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attr}={value!r} in {page[:3000]}"
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match[1], re.S)]


def test_health_page_shows_the_live_frontier_per_crawl_and_node(app, frontier_state, redis_url):
    from crawler.frontier import items_waiting

    db, client = frontier_state
    session = login(Session(), app.url, "vic", "pw2")
    status, page = session.get(app.url + PAGE)
    assert status == 200, page[:500]
    assert f"<code>{redis_url}</code>" in page
    board = row(page, "data-crawl", "board")  # crawl, run, state, started, queue, in flight, waiting, workers
    assert board[1:3] == ["1", "done"] and board[4:6] == ["0", "0"] and board[7] == "1", board
    assert board[6] == str(items_waiting(client, "board")) == "0", board  # every pushed item was ingested
    queued = row(page, "data-crawl", "queued")
    assert queued[2] == "running" and queued[4:8] == ["2", "1", "1", "1"], queued
    [ingested] = db_rows(db, "SELECT pages FROM crawls")
    node_a = row(page, "data-node", "node-a")  # node, workers, running, pages, in flight
    assert node_a == ["node-a", "1", "0", str(ingested["pages"]), "0"] and ingested["pages"] > 0, node_a
    assert row(page, "data-node", "node-b") == ["node-b", "1", "1", "7", "1"]
    assert row(page, "data-worker", "node-b-host:42:abc")[2:6] == ["node-b", "running", "7", "1"]


def test_health_page_shows_recent_crawls_and_jobs_per_scrapyd_node(app, frontier_state):
    db, _ = frontier_state
    [crawl] = db_rows(db, "SELECT * FROM crawls")
    session = login(Session(), app.url, "ana", "pw1")
    status, page = session.get(app.url + PAGE)
    assert status == 200
    cells = row(page, "data-crawl-id", str(crawl["id"]))  # id, job, status, started, finished, pages, ..., run
    assert cells[1:3] == ["board", crawl["status"]] and cells[5] == str(crawl["pages"]), cells
    assert cells[6:9] == [str(crawl[k]) if crawl[k] is not None else "-" for k in ("items", "new_ads", "flagged_ads")]
    assert cells[-1] == "board run 1", cells
    sd1 = row(page, "data-node", "http://sd1:6800")  # node, jobs, by status, pages, last job, its status
    assert sd1[:4] == ["http://sd1:6800", "2", "ok 1, running 1", str(crawl["pages"])], sd1
    assert sd1[4].startswith("nightly-b") and sd1[5] == "running", sd1
    status, menu = session.get(app.url + "/-/lurewatch/queue")
    assert f'href="{PAGE}"' in menu  # in the menu and the triage bar


def test_health_page_refuses_anonymous_visitors(app):
    browser = Session()
    status, body = browser.get(app.url + PAGE, headers={"Accept": "text/html"}, follow=False)
    assert status == 302 and browser.last_headers["Location"].startswith("/-/login"), (status, body[:300])
    status, body = Session().get(app.url + PAGE, follow=False)
    assert status == 401 and "node-a" not in body and "queued" not in body, (status, body[:300])


@pytest.mark.parametrize("frontier, env, shown, said", [
    ("redis://:s3cret@127.0.0.1:1/0", False, "redis://:***@127.0.0.1:1/0", "cannot reach Redis at"),  # password hidden
    (None, True, None, "cannot reach Redis at"),  # from LUREWATCH_FRONTIER: a stopped redis-server
    ("other-db", False, None, "cannot read the frontier at"),  # a Redis database holding something else
])
def test_health_page_says_when_the_frontier_is_unavailable(frontier_state, redis_url, tmp_path, frontier, env, shown,
                                                           said):
    import redis

    db, _ = frontier_state
    if env:
        with RedisServer(tmp_path / "gone") as gone:
            url = gone.url
        os.environ["LUREWATCH_FRONTIER"] = url
        shown = url
    if frontier == "other-db":
        frontier = shown = redis_url.rsplit("/", 1)[0] + "/1"
        redis.Redis.from_url(frontier).set("lurewatch:crawls", "not a set")
    try:
        with start_review_app(db, {}, *(["--frontier", frontier] if frontier else [])) as running:
            session = login(Session(), running.url, "ana", "pw1")
            status, page = session.get(running.url + PAGE)
    finally:
        os.environ.pop("LUREWATCH_FRONTIER", None)
    assert status == 200, page[:500]
    assert "Frontier unavailable" in page and f"{said} {shown}" in html.unescape(page), page[:3000]
    assert "s3cret" not in page
    assert row(page, "data-node", "http://sd1:6800")[1] == "2"  # the rest of the page is still there


def test_review_refuses_a_frontier_that_is_not_a_redis_url(frontier_state):
    db, _ = frontier_state
    out = subprocess.run([str(LUREWATCH), "review", "--db", str(db), "--port", "0", "--frontier", "http://x:6379/0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "not a Redis URL" in out.stderr and "http://x:6379/0" in out.stderr, out.stderr
