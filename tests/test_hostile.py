"""A crawl of a hostile board finishes, reports every failure by kind, and stores every good ad once, text intact."""
import json
import sqlite3
import time
import unicodedata

import pytest

from conftest import run_cli
from sites.hostile import MAXSIZE, hostile_site

pytestmark = pytest.mark.slow

SETTINGS = ["DOWNLOAD_TIMEOUT=2", f"DOWNLOAD_MAXSIZE={MAXSIZE}", "DOWNLOAD_WARNSIZE=0", "RETRY_TIMES=1",
            "LUREWATCH_RETRY_AFTER_MAX=1", "REDIRECT_MAX_TIMES=5", "AUTOTHROTTLE_ENABLED=False",
            "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site, good = hostile_site()
    times: list[float] = []
    retry_route = site.pages["/ad/retry-after"]
    site.pages["/ad/retry-after"] = lambda h: (times.append(time.monotonic()), retry_route(h))[1]
    db = tmp_path_factory.mktemp("hostile") / "ads.db"
    args = ["crawl", site.url("/"), "--db", str(db), "--no-progress"]
    for s in SETTINGS:
        args += ["-s", s]
    proc = run_cli(*args)
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    yield proc, conn, site, good, times
    conn.close()
    site.stop()


def test_crawl_finishes_and_exits_zero(crawled):
    proc, *_ = crawled
    # issue 11: the hostile site's failed requests make the crawl partial: exit 7 (was 0), it still finishes
    assert proc.returncode == 7, proc.stderr
    assert "\npartial: errors: " in proc.stderr


def test_every_good_ad_stored_once_with_text_intact(crawled):
    _, conn, site, good, _ = crawled
    rows = conn.execute("SELECT url, title, description FROM ads").fetchall()
    by_url = {r["url"]: r for r in rows}
    assert len(rows) == len(good), sorted(by_url)
    for path, (title, description) in good.items():
        row = by_url[site.url(path)]
        assert row["title"] == unicodedata.normalize("NFC", title), path
        assert row["description"] == unicodedata.normalize("NFC", description), path


def test_same_ad_under_several_urls_is_one_row_with_aliases(crawled):
    _, conn, site, _, _ = crawled
    ad_id = conn.execute("SELECT id FROM ads WHERE url = ?", [site.url("/ad/dup")]).fetchone()[0]
    urls = {r[0] for r in conn.execute("SELECT url FROM ad_urls WHERE ad_id = ?", [ad_id])}
    assert site.url("/ad/dup-copy") in urls  # rel=canonical copy
    # /go/dup redirects to /ad/dup: whichever is fetched first, the other is filtered or an alias
    assert conn.execute("SELECT count(*) FROM ads WHERE title = 'Typing job abroad'").fetchone()[0] == 1


@pytest.mark.parametrize("kind, count", [
    ("http_503", 3),  # three 5xx storms, each given up after RETRY_TIMES
    ("timeout", 2),  # the slow page and the slow drip
    ("too_large", 3),  # body over DOWNLOAD_MAXSIZE, an endless stream cut at the cap, the gzip bomb
    ("truncated", 1),  # Content-Length larger than the body sent
    ("redirect_loop", 2),  # a two-step loop (a -> b -> a), and a chain past REDIRECT_MAX_TIMES
])
def test_each_failure_kind_is_counted_in_the_crawls_table(crawled, kind, count):
    _, conn, *_ = crawled
    crawl = conn.execute("SELECT * FROM crawls").fetchone()
    errors = json.loads(crawl["errors"])
    assert errors.get(kind) == count, errors


def test_summary_line_reports_errors(crawled):
    proc, *_ = crawled
    assert "errors: " in proc.stderr and "too_large=3" in proc.stderr


def test_retry_after_is_honoured_within_the_cap(crawled):
    _, _, site, _, times = crawled
    assert len(times) == 2  # the 429 (Retry-After: 3600), then the retry after the 1 s cap
    assert times[1] - times[0] >= 0.9


def test_robots_disallowed_page_not_fetched(crawled):
    _, _, site, _, _ = crawled
    assert "/private/secret" not in site.requests


def test_no_removals_after_a_crawl_with_errors(crawled):
    _, conn, *_ = crawled
    # a partial crawl (errors above) never marks removals
    crawl = conn.execute("SELECT status, removed_ads FROM crawls").fetchone()
    assert crawl["removed_ads"] == 0
    assert crawl["status"] == "partial"
