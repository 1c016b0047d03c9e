"""A full disk mid-crawl (issue 11): the crawl stops at the first failed write, exits 5, its summary
counts only what was stored, and its crawls row does not stay `running`. A REAL full disk: a small
tmpfs holds the database (needs root to mount; skipped otherwise)."""
import random
import re
import shutil
import subprocess

import pytest

from conftest import db_rows, run_cli
from crawler.localsite import LocalSite, Page
from crawler.store import Store
from sites.hostile import ad_page

pytestmark = pytest.mark.slow
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "--no-progress"]
ADS = 400  # enough that a crawl stopped by the first failed write has not fetched them all (assess runs ahead)
WORDS = [f"w{n}" for n in range(5000)]


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs with room for an empty store twice (its WAL holds every page until the checkpoint) and 64 KB more,
    unmounted afterwards: the first batches of ads fill it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command")
    Store(tmp_path / "empty.db").close()
    size_k = (2 * (tmp_path / "empty.db").stat().st_size // 1024 + 64 + 63) // 64 * 64
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_k}k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def big_board():
    rng = random.Random(11)
    bodies = {n: " ".join(rng.choice(WORDS) for _ in range(1500)) for n in range(1, ADS + 1)}  # ~10 KB each

    def detail(handler):
        if not handler.path.startswith("/ad/"):
            return None
        n = int(handler.path.rsplit("/", 1)[1])
        return Page(ad_page(f"Chat support agent {n}, Sihanoukville", f"Free visa, no experience. {bodies[n]}"))

    links = "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in range(1, ADS + 1))
    with LocalSite({"/": Page(f"<html><body>{links}</body></html>")}, fallback=detail) as site:
        yield site


def test_full_disk_stops_the_crawl_with_a_true_summary(small_disk, big_board, tmp_path):
    db = small_disk / "ads.db"
    result = run_cli("crawl", big_board.url("/"), "--db", str(db), *FAST, "--max-pages", "500")
    assert result.returncode == 5, result.stderr[-3000:]  # before issue 11: exit 0
    assert "error: crawl stopped:" in result.stderr and "could not be stored" in result.stderr
    summary = next(ln for ln in result.stderr.splitlines() if re.match(r"crawl \d+: ", ln))
    stored = db_rows(db, "SELECT count(*) AS n, coalesce(sum(flagged), 0) AS flagged FROM ads")[0]
    assert 0 < stored["n"] < ADS
    # the summary says what is in the database, and how many ads were not stored
    assert f" {stored['n']} ads (" in summary and f" {stored['flagged']} flagged" in summary, summary
    not_stored = int(re.search(r"(\d+) ads NOT stored", summary).group(1))
    assert not_stored >= 1
    # the crawl stopped promptly: it did not go on fetching every ad page into a full disk
    assert len([p for p in big_board.requests if p.startswith("/ad/")]) < ADS

    crawl = db_rows(db, "SELECT * FROM crawls")[0]
    if crawl["status"] == "running":  # the final write failed too: the next crawl on more disk marks it
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
        with LocalSite({"/": Page("<html><body>no ads</body></html>")}) as empty:
            assert run_cli("crawl", empty.url("/"), "--db", str(db), *FAST).returncode == 0
        crawl = db_rows(db, "SELECT * FROM crawls WHERE id = ?", [crawl["id"]])[0]
        assert crawl["status"] == "interrupted" and crawl["finished_at"]
    else:
        assert crawl["status"] == "failed" and crawl["items"] == stored["n"] and crawl["finished_at"]
        assert crawl["flagged_ads"] == stored["flagged"]
