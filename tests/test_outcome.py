"""Crawls that fail while looking fine (issue 11): every ad page failing, partial crawls (exit 7),
killed crawls (interrupted), spider errors counted once, SSRF blocks in the summary.
The full-disk crawl is in test_full_disk.py."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli
from crawler.localsite import LocalSite, Page
from sites.hostile import ad_page

pytestmark = pytest.mark.slow
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "--no-progress"]


class Board:
    """A listing linking ads 1..n; `ad` decides what each ad page answers."""

    def __init__(self, n=4, ad=None, extra_links=""):
        self.listed = set(range(1, n + 1))
        self.extra_links = extra_links
        self.ad = ad or (lambda handler, n: Page(ad_page(f"Chat support agent {n}, Sihanoukville", f"Free visa {n}.")))
        self.site = LocalSite({"/": self.listing}, fallback=self.detail)

    def listing(self, handler):
        links = "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in sorted(self.listed))
        return Page(f"<html><body>{links}{self.extra_links}</body></html>")

    def detail(self, handler):
        if not handler.path.startswith("/ad/"):
            return None
        return self.ad(handler, int(handler.path.rsplit("/", 1)[1]))


@pytest.fixture
def make_board():
    started = []

    def make(**kwargs):
        board = Board(**kwargs)
        board.site.start()
        started.append(board)
        return board

    yield make
    for board in started:
        board.site.stop()


def server_error(handler, n):
    return Page("server error", status=500, content_type="text/plain")


def connection_reset(handler, n):
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()  # RST, no answer
    raise ConnectionAbortedError("reset on purpose")


def run_raising_spider(url, db, raise_on="all"):
    """The real crawl runner (crawler.run.run_crawl) with a spider whose callback raises on ad pages."""
    code = ("import sys; sys.path.insert(0, 'tests/sites'); from raising_spider import RaisingSpider; "
            "from crawler.run import run_crawl; "
            f"r = run_crawl(RaisingSpider, db={str(db)!r}, spider_kwargs={{'urls': {url!r}, 'raise_on': {raise_on!r}}}, "
            "settings={'AUTOTHROTTLE_ENABLED': False, 'RETRY_TIMES': 0, 'LOG_LEVEL': 'WARNING'}, progress=False); "
            "sys.exit(r.exit_code)")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("how", ["http_500", "connection_reset", "spider_exception"])
def test_every_ad_page_failing_is_a_failure(make_board, tmp_path, how):
    board = make_board(ad={"http_500": server_error, "connection_reset": connection_reset}.get(how))
    db = tmp_path / "ads.db"
    if how == "spider_exception":
        result = run_raising_spider(board.site.url("/"), db)
    else:
        result = run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST)
    # before issue 11 this exited 0 with "no ads found"
    assert result.returncode == 3, result.stderr[-3000:]
    assert "no ad could be fetched, requests failed" in result.stderr
    assert "no ads found" not in result.stderr
    crawl = db_rows(db, "SELECT * FROM crawls")[0]
    assert crawl["status"] == "failed" and crawl["items"] == 0
    assert sum(json.loads(crawl["errors"]).values()) == 4  # one per ad page
    assert db_rows(db, "SELECT count(*) AS n FROM ads")[0]["n"] == 0


def test_board_that_takes_down_all_its_ads_gets_them_marked_removed(make_board, tmp_path):
    board = make_board()
    db = tmp_path / "ads.db"
    assert run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST).returncode == 0
    board.listed = set()  # the listing answers 200 with no ads; the ad pages are unlinked
    result = run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "4 removed" in result.stderr
    assert db_rows(db, "SELECT count(*) AS n FROM ads WHERE removed_at IS NOT NULL")[0]["n"] == 4
    crawl = db_rows(db, "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert crawl["status"] == "finished" and crawl["removed_ads"] == 4


def test_crawl_with_a_failed_ad_page_is_partial_exit_7_and_status_warns(make_board, tmp_path):
    ok = Board().ad
    board = make_board(ad=lambda handler, n: server_error(handler, n) if n == 2 else ok(handler, n))
    db = tmp_path / "ads.db"
    result = run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST)
    assert result.returncode == 7, result.stderr[-3000:]
    assert "\npartial: errors: http_500=1" in result.stderr and "error: partial" not in result.stderr
    crawl = db_rows(db, "SELECT * FROM crawls")[0]
    assert crawl["status"] == "partial" and crawl["items"] == 3
    assert json.loads(crawl["errors"]) == {"http_500": 1}

    status = run_cli("status", "--db", str(db))
    assert status.returncode == 0, status.stdout + status.stderr  # a warning, healthy
    line = next(ln for ln in status.stdout.splitlines() if board.site.url("/") in ln)
    assert "warning" in line and "failed" not in line
    assert "last run partial (exit 7): errors: http_500=1" in status.stdout


def test_spider_exception_is_counted_once(make_board, tmp_path):
    board = make_board()
    db = tmp_path / "ads.db"
    result = run_raising_spider(board.site.url("/"), db, raise_on="/ad/2")
    assert result.returncode == 7, result.stderr[-3000:]  # 3 ads stored, one page lost to the bug: partial
    summary = next(ln for ln in result.stderr.splitlines() if ln.startswith("crawl 1:"))
    assert summary.endswith("errors: spider_runtimeerror=1"), summary
    crawl = db_rows(db, "SELECT * FROM crawls")[0]
    assert json.loads(crawl["errors"]) == {"spider_runtimeerror": 1}
    assert crawl["message"].startswith(summary) and "spider_RuntimeError" not in crawl["message"]


def test_ssrf_blocks_are_in_the_summary(make_board, tmp_path):
    with LocalSite({"/secret": Page("<p>internal</p>")}) as other:
        board = make_board(extra_links='<a href="/jump">more jobs</a>')  # a same-site link redirecting elsewhere
        board.site.pages["/jump"] = Page("", status=302, content_type="text/plain",
                                         headers={"Location": other.url("/secret")})
        result = run_cli("crawl", board.site.url("/"), "--db", str(tmp_path / "ads.db"), *FAST)
        assert result.returncode == 0, result.stderr[-3000:]
        assert ", 1 blocked by the SSRF guard" in result.stderr
        assert "/secret" not in other.requests


def test_killed_crawl_is_marked_interrupted_by_the_next_crawl(make_board, tmp_path):
    def slow(handler, n):
        time.sleep(0.5)
        return Page(ad_page(f"Chat support agent {n}, Sihanoukville", f"Free visa {n}."))

    board = make_board(n=40, ad=slow)
    db = tmp_path / "ads.db"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(LUREWATCH), "crawl", board.site.url("/"), "--db", str(db), *FAST,
                             "-s", "CONCURRENT_REQUESTS=1"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # until the crawl has stored an ad
            if db.exists() and any(r["n"] for r in _try_rows(db, "SELECT count(*) AS n FROM ads")):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the crawl stored nothing")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    first = db_rows(db, "SELECT * FROM crawls")[0]
    assert first["status"] == "running" and first["pid"] == proc.pid and first["host"] == socket.gethostname()

    other = make_board(n=1)
    result = run_cli("crawl", other.site.url("/"), "--db", str(db), *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = db_rows(db, "SELECT * FROM crawls ORDER BY id")
    assert first["status"] == "interrupted" and first["finished_at"]
    assert "interrupted" in first["message"]
    assert second["status"] == "finished"


def _try_rows(db, sql):
    try:
        return db_rows(db, sql)
    except Exception:  # the crawl is still creating the database
        return []


def test_scheduled_partial_run_is_a_warning_in_status(make_board, tmp_path):
    ok = Board().ad
    board = make_board(ad=lambda handler, n: server_error(handler, n) if n == 2 else ok(handler, n))
    plan = tmp_path / "plan.yaml"
    plan.write_text(f'jobs:\n  - {{name: board-a, urls: ["{board.site.url("/")}"], every: 1h}}\n', encoding="utf-8")
    db = tmp_path / "ads.db"
    run = run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once")
    assert run.returncode == 0, run.stdout + run.stderr  # a partial run is not a failed one
    assert "PARTIAL (exit 7)" in run.stdout + run.stderr
    assert db_rows(db, "SELECT status, exit_code FROM job_runs") == [{"status": "partial", "exit_code": 7}]
    status = run_cli("status", "--db", str(db), "--plan", str(plan))
    assert status.returncode == 0, status.stdout + status.stderr
    line = next(ln for ln in status.stdout.splitlines() if ln.startswith("job board-a: "))
    assert line.startswith("job board-a: warning; ") and "result=partial exit=7" in line, line
    assert "last run partial (exit 7): errors: http_500=1" in line
