"""A crawl with --job-dir killed with SIGKILL mid-crawl and restarted loses no ad and duplicates none."""
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import LUREWATCH, REPO, run_cli
from crawler.localsite import LocalSite, Page
from sites.hostile import ad_page

pytestmark = pytest.mark.slow
N_ADS = 30
RERUN_AGENT = "lurewatch-resume-test-rerun"


@pytest.fixture
def slow_board():
    ad_fetches: list[tuple[str, str]] = []  # (User-Agent, path): tells the killed run's late requests from the rerun's

    def detail(handler):
        if not handler.path.startswith("/ad/"):
            return None
        ad_fetches.append((handler.headers.get("User-Agent", ""), handler.path))
        n = int(handler.path.rsplit("/", 1)[1])
        time.sleep(0.3)  # slow enough that the kill lands mid-crawl
        return Page(ad_page(f"Chat support agent {n}, Myawaddy", f"High salary, free housing, ad {n}."))

    pages = {f"/list/{p}": Page("<html><body>" + "".join(
        f'<a href="/ad/{n}">ad {n}</a>' for n in range(p * 10, p * 10 + 10))
        + (f'<a href="/list/{p + 1}">next</a>' if p < N_ADS // 10 - 1 else "") + "</body></html>")
        for p in range(N_ADS // 10)}
    with LocalSite(pages, fallback=detail) as site:
        site.ad_fetches = ad_fetches
        yield site


def ad_count(db):
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM ads").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def test_sigkill_then_resume_loses_and_duplicates_nothing(slow_board, tmp_path):
    db, job = tmp_path / "ads.db", tmp_path / "job"
    args = ["crawl", slow_board.url("/list/0"), "--db", str(db), "--job-dir", str(job), "--no-progress",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
    proc = subprocess.Popen([str(LUREWATCH), *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done_file = job / "requests.done"
    # kill once 8 ads are stored and at least 2 pages are marked done: with the batched writer a page is marked
    # done on the reactor thread just after its batch commits, so the db may be ahead of the done log
    while (ad_count(db) < 8 or not done_file.exists() or len(done_file.read_text().split()) < 2) \
            and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored_before = ad_count(db)
    done_before = len((job / "requests.done").read_text().split())  # ad pages + sitemap.xml
    assert 0 < stored_before < N_ADS, "the kill should land mid-crawl"
    assert (job / "lurewatch.running").exists()  # unclean end noticed by the next run

    # The killed run's last requests may still reach the server after the kill (accept backlog), so the rerun
    # gets its own User-Agent and only its requests count as refetches.
    proc2 = run_cli(*args, "-s", f"USER_AGENT={RERUN_AGENT}")
    assert proc2.returncode == 0, proc2.stderr
    conn = sqlite3.connect(db)
    titles = [r[0] for r in conn.execute("SELECT title FROM ads")]
    assert sorted(titles) == sorted(f"Chat support agent {n}, Myawaddy" for n in range(N_ADS))
    assert conn.execute("SELECT count(*) FROM ad_history WHERE event = 'new'").fetchone()[0] == N_ADS
    # pages whose ads were stored before the kill were not fetched again
    # (a page is done once its items are stored and its callback ended: some stored ads are still in flight)
    refetched = [path for agent, path in slow_board.ad_fetches if agent == RERUN_AGENT]
    assert done_before >= 2
    assert len(refetched) <= N_ADS - (done_before - 1)
    assert not (job / "lurewatch.running").exists()
