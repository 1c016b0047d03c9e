"""Shared frontier (crawler/frontier.py): real redis-server, real `lurewatch crawl --frontier` workers on a local board."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest

from conftest import LUREWATCH, db_rows, serve_site
from crawler.services import RedisServer
from test_crawl import EXPECTED_TITLES

pytestmark = pytest.mark.slow
FAST_HEARTBEAT = ["-s", "LUREWATCH_FRONTIER_HEARTBEAT=0.3", "-s", "LUREWATCH_FRONTIER_DEAD_AFTER=1.5"]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def slow_board(delay: float, gate=None):
    """The unseen board, each page answered after `delay` s (and not before `gate()` is true);
    `site.busy["max"]` is the most requests it had at once."""
    site = serve_site("unseen_board")
    busy = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(page):
        def route(handler):
            deadline = time.monotonic() + 60
            while gate is not None and not gate() and time.monotonic() < deadline:
                time.sleep(0.02)
            with lock:
                busy["now"] += 1
                busy["max"] = max(busy["max"], busy["now"])
            try:
                time.sleep(delay)
                return page
            finally:
                with lock:
                    busy["now"] -= 1
        return route

    site.pages = {path: slow(page) for path, page in site.pages.items()}
    site.busy = busy
    return site


def worker(site, redis_url, db, crawl, *extra) -> subprocess.Popen:
    return subprocess.Popen([str(LUREWATCH), "crawl", site.url("/"), "--db", str(db), "--frontier", redis_url,
                             "--no-progress", "-s", "LUREWATCH_FRONTIER_SITE_CONCURRENCY=2", "-s",
                             f"LUREWATCH_FRONTIER_CRAWL={crawl}", *FAST_HEARTBEAT, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def run_state(redis_url, crawl) -> dict:
    import redis

    from crawler.frontier import overview

    [state] = overview(redis.Redis.from_url(redis_url), [crawl])
    return state


def ingest(redis_url, db, crash_after: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if crash_after:
        env["LUREWATCH_INGEST_CRASH_AFTER"] = str(crash_after)
    return subprocess.run([str(LUREWATCH), "ingest", "--from", redis_url, "--db", str(db), "--crawl", "two"],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def two_workers(redis_url, tmp_path_factory):
    """Two workers pushing to Redis, then `lurewatch ingest` killed after its 3rd item, then run again."""
    import redis

    from crawler.frontier import Keys

    client = redis.Redis.from_url(redis_url)
    site = slow_board(0.3, gate=lambda: client.hlen(Keys("two", 1).workers) >= 2)  # both workers in one run
    db = tmp_path_factory.mktemp("two") / "ads.db"
    procs = [worker(site, redis_url, db, "two", "--push") for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    state = run_state(redis_url, "two")
    crashed = ingest(redis_url, db, crash_after=3)
    after_crash = db_rows(db, "SELECT count(*) AS n FROM ingested_items")[0]["n"] if db.exists() else None
    rerun = ingest(redis_url, db)
    yield site, db, procs, outputs, state, (crashed, after_crash, rerun)
    site.stop()


def test_two_workers_store_every_ad_once(two_workers):
    site, db, procs, outputs, *_ = two_workers
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(r["title"] for r in db_rows(db, "SELECT title FROM ads")) == sorted(EXPECTED_TITLES)
    assert len(db_rows(db, "SELECT id FROM ad_history WHERE event = 'new'")) == len(EXPECTED_TITLES)
    [crawl] = db_rows(db, "SELECT * FROM crawls")  # one row for the run, written by the ingest
    assert crawl["status"] == "finished" and crawl["job"] == "two" and crawl["new_ads"] == len(EXPECTED_TITLES), crawl


def test_ingest_killed_midway_and_rerun_loses_and_duplicates_nothing(two_workers, redis_url):
    import redis

    from crawler.frontier import items_key, items_waiting

    _, db, _, _, _, (crashed, after_crash, rerun) = two_workers
    assert crashed.returncode == -signal.SIGKILL and after_crash == 3, crashed.stderr
    assert rerun.returncode == 0, rerun.stderr
    assert "1 delivered again, skipped" in rerun.stderr  # the 3rd: committed, killed before its XACK
    client = redis.Redis.from_url(redis_url)
    pushed = client.xlen(items_key("two")) - 1  # every item entry, less the run's end entry
    assert db_rows(db, "SELECT count(*) AS n FROM ingested_items")[0]["n"] == pushed
    assert items_waiting(client, "two") == 0
    assert "runs settled: two run 1" in rerun.stderr


def test_two_workers_fetch_each_page_once_and_no_disallowed_page(two_workers):
    site, _, _, outputs, state, _ = two_workers
    counts = Counter(site.requests)
    # robots.txt: once for its rules (shared through Redis by both workers), once by the spider for its Sitemap: lines
    assert counts.pop("/robots.txt") == 2, outputs
    assert counts and set(counts.values()) == {1}, counts
    assert not [p for p in site.requests if p.startswith("/private/")]


def test_two_workers_share_the_work_and_the_site_politeness(two_workers):
    site, _, _, outputs, state, _ = two_workers
    assert state["state"] == "done" and state["queue"] == 0
    pages = [w["pages"] for w in state["workers"].values()]
    assert len(pages) == 2, state  # both joined the one run (how the pages split between them depends on timing)
    assert sum(pages) == len(site.requests)
    assert site.busy["max"] <= 2  # LUREWATCH_FRONTIER_SITE_CONCURRENCY=2 across both workers, not 2 each


def test_killed_worker_loses_no_request(redis_url, tmp_path):
    site = slow_board(0.3)
    db = tmp_path / "ads.db"
    try:
        first = worker(site, redis_url, db, "kill")
        deadline = time.monotonic() + 60
        while (len(site.requests) < 6 or site.busy["now"] < 1) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()[0]
            time.sleep(0.01)
        second = worker(site, redis_url, db, "kill")
        first.send_signal(signal.SIGKILL)  # with a request in flight (each page takes 0.3 s)
        first.communicate()
        out = second.communicate(timeout=120)[0]
        assert second.returncode == 0, out
        assert sorted(r["title"] for r in db_rows(db, "SELECT title FROM ads")) == sorted(EXPECTED_TITLES)
        state = run_state(redis_url, "kill")
        dead = [w for w in state["workers"].values() if w["state"] == "dead"]
        assert len(dead) == 1 and dead[0]["requeued"] >= 1, json.dumps(state)
        assert state["state"] == "done" and state["queue"] == 0
        assert not [p for p in site.requests if p.startswith("/private/")]
    finally:
        site.stop()


@pytest.mark.parametrize("args, code, message", [
    (["--frontier", "redis://127.0.0.1:1/0"], 4, "cannot reach Redis at redis://127.0.0.1:1/0"),
    (["--frontier", "http://127.0.0.1:6379/0"], 2, "not a Redis URL"),
    (["--push"], 2, "--push needs --frontier"),
])
def test_crawl_refuses_a_bad_or_unreachable_frontier(args, code, message, tmp_path):
    from click.testing import CliRunner

    from crawler.cli import cli

    result = CliRunner().invoke(cli, ["crawl", "http://127.0.0.1:9/", "--db", str(tmp_path / "a.db"), *args])
    assert result.exit_code == code and message in result.output, result.output


def test_plan_frontier_keys_are_checked_and_passed_to_the_crawl(tmp_path):
    from crawler.plan import PlanError, load_plan
    from crawler.schedule import crawl_command

    plan = tmp_path / "plan.yaml"
    plan.write_text("jobs:\n  - name: a\n    urls: [http://127.0.0.1:9/]\n    every: 1h\n"
                    "    frontier: redis://10.0.0.5:6379/0\n    push: true\n")
    cmd = crawl_command(load_plan(plan).job("a"), tmp_path / "a.db")
    assert cmd[cmd.index("--frontier") + 1] == "redis://10.0.0.5:6379/0" and "--push" in cmd
    plan.write_text("jobs:\n  - name: a\n    urls: [http://127.0.0.1:9/]\n    every: 1h\n    frontier: 10.0.0.5\n")
    with pytest.raises(PlanError, match=r"plan.yaml:\d+: job 'a': frontier: not a Redis URL"):
        load_plan(plan)
