"""Several crawls, a rescan, exports and the review app on one database at once lose nothing.

Real processes only: `lurewatch crawl` x3, `lurewatch rescan`, `lurewatch export` and `lurewatch
review` (queried over HTTP) run together on one SQLite file, against three boards on 127.0.0.1.
"""
import json
import sqlite3
import subprocess
import time

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli
from crawler.localsite import LocalSite, Page
from crawler.store import Store
from reviewapp import Session, login, start_review_app
from sites.hostile import ad_page

pytestmark = pytest.mark.slow
BOARDS, ADS_PER_BOARD = 3, 45
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "--no-progress"]


def make_board(b: int) -> LocalSite:
    pages = {"/": Page("<html><body>" + "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in range(ADS_PER_BOARD))
                       + "</body></html>")}
    for n in range(ADS_PER_BOARD):
        pages[f"/ad/{n}"] = Page(ad_page(f"Board {b} customer service agent {n}, Sihanoukville",
                                         f"Board {b}, ad {n}: free visa and flight, high salary, no experience."))
    return LocalSite(pages)


@pytest.fixture
def boards():
    sites = [make_board(b).start() for b in range(BOARDS)]
    yield sites
    for site in sites:
        site.stop()


def popen(*args):
    return subprocess.Popen([str(LUREWATCH), *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_three_crawls_rescan_export_and_review_at_once_lose_nothing(boards, tmp_path):
    db = tmp_path / "shared.db"
    urls = [site.url("/") for site in boards]
    first = run_cli("crawl", *urls, "--db", str(db), *FAST)  # ads to rescan and to (wrongly) take down
    assert first.returncode == 0, first.stderr
    review = start_review_app(db)  # with its accounts (tests/reviewapp.py)
    base, analyst = review.db_url, login(Session(), review.url, "ana", review.users["ana"][1])

    def first_ads():
        status, body = analyst.get(base + "/ads.json?_shape=objects&_size=5")
        return status, len(json.loads(body)["rows"]) if status == 200 else body[:300]

    try:
        # hash-first skipping off: each crawl stores every ad again, the writes this test runs side by side
        crawls = [popen("crawl", *urls[i:], *urls[:i], "--db", str(db), *FAST, "-s", "LUREWATCH_HASH_FIRST=False")
                  for i in range(3)]
        others = [popen("rescan", "--db", str(db)),
                  popen("export", "--db", str(db), "--format", "jsonl", "--min-score", "0", "--out", str(tmp_path / "ads.jsonl"))]
        answers = []
        while any(p.poll() is None for p in crawls + others):
            answers.append(first_ads())
            time.sleep(0.2)
        outputs = [(p.returncode, *p.communicate()) for p in crawls + others]
        answers.append(first_ads())
    finally:
        review.stop()
    for code, out, err in outputs:
        assert code == 0, err
        assert "locked" not in err, err
    assert answers and all(a == (200, 5) for a in answers), answers
    expected = {site.url(f"/ad/{n}") for site in boards for n in range(ADS_PER_BOARD)}
    assert {r["url"] for r in db_rows(db, "SELECT url FROM ads")} == expected  # every ad, once
    assert db_rows(db, "SELECT count(*) n FROM ads WHERE removed_at IS NOT NULL")[0]["n"] == 0
    assert db_rows(db, "SELECT count(*) n FROM ad_history WHERE event = 'removed'")[0]["n"] == 0
    rows = db_rows(db, "SELECT * FROM crawls ORDER BY id")
    assert [(r["status"], r["finished_at"] is not None) for r in rows] == [("finished", True)] * 4
    for row in rows[1:]:  # each concurrent crawl saw every ad (stored or unchanged) and counted them
        assert row["items"] == BOARDS * ADS_PER_BOARD and row["removed_ads"] == 0
        assert json.loads(row["errors"]) == {}
        assert row["flagged_ads"] == row["items"] and row["not_modified_ads"] == 0
    assert len((tmp_path / "ads.jsonl").read_text().splitlines()) >= BOARDS * ADS_PER_BOARD


@pytest.mark.parametrize("when", ["before_the_crawl", "while_crawling"])
def test_crawl_that_cannot_write_its_ads_exits_5_and_says_so(tmp_path, when):
    """Another process holds the write lock longer than the crawl retries: no silent loss, exit 5."""
    db = tmp_path / "locked.db"
    Store(db).close()
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)

    def take_lock():
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO meta VALUES ('held', 'x')")

    def listing(handler):
        if when == "while_crawling":
            take_lock()  # the crawls row exists by now; the ads cannot be stored
        return Page("<html><body>" + "".join(f'<a href="/ad/{n}">ad</a>' for n in range(3)) + "</body></html>")

    pages = {"/": listing, **{f"/ad/{n}": Page(ad_page(f"Agent {n}", f"Free visa {n}.")) for n in range(3)}}
    if when == "before_the_crawl":
        take_lock()
    try:
        with LocalSite(pages) as site:
            proc = run_cli("crawl", site.url("/"), "--db", str(db), *FAST,
                           "-s", "LUREWATCH_DB_BUSY_TIMEOUT=0.2", "-s", "LUREWATCH_DB_RETRY_FOR=1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 5, proc.stderr
    assert "database is locked" in proc.stderr
    assert db_rows(db, "SELECT count(*) n FROM ads")[0]["n"] == 0
