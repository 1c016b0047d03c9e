"""Incremental crawling: 304s instead of full re-fetches, change history, removals only after complete crawls."""

import itertools
import re
import threading

import pytest

from conftest import run_cli, db_rows
from crawler.localsite import LocalSite, Page
from sites.hostile import ad_page

pytestmark = pytest.mark.slow
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "--no-progress"]


class Board:
    """A listing of ads with ETag validators; records every request with its conditional headers."""

    def __init__(self):
        self.ads = {n: (f"Customer service agent {n}, Sihanoukville", f"Free visa and flight, ad number {n}.")
                    for n in range(1, 5)}
        self.listed = set(self.ads)
        self.version = {n: 1 for n in self.ads}
        self.log: list[tuple[str, str | None, int]] = []  # (path, If-None-Match, status)
        self.site = LocalSite({"/": self.listing}, fallback=self.detail)

    def listing(self, handler):
        links = "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in sorted(self.listed))
        return Page(f"<html><body>{links}</body></html>")

    def detail(self, handler):
        if not handler.path.startswith("/ad/"):
            return None
        n = int(handler.path.rsplit("/", 1)[1])
        inm = handler.headers.get("If-None-Match")
        if n not in self.ads:
            self.log.append((handler.path, inm, 404))
            return None
        etag = f'"ad{n}-v{self.version[n]}"'
        if inm == etag:
            self.log.append((handler.path, inm, 304))
            return Page(b"", status=304, headers={"ETag": etag})
        self.log.append((handler.path, inm, 200))
        title, description = self.ads[n]
        return Page(ad_page(title, description), headers={"ETag": etag})

    def crawl(self, db, *extra):
        self.log.clear()
        proc = run_cli("crawl", self.site.url("/"), "--db", str(db), *FAST, *extra)
        return proc


@pytest.fixture
def board():
    b = Board()
    b.site.start()
    yield b
    b.site.stop()


rows = db_rows


def test_second_crawl_of_unchanged_board_sends_conditional_requests_and_reassesses_nothing(board, tmp_path):
    db = tmp_path / "ads.db"
    assert board.crawl(db).returncode == 0
    first = {r["url"]: r for r in rows(db, "SELECT url, assessed_at, last_seen, etag FROM ads")}
    assert len(first) == 4 and all(r["etag"] for r in first.values())

    proc = board.crawl(db)
    assert proc.returncode == 0, proc.stderr
    details = [(p, inm, status) for p, inm, status in board.log if p.startswith("/ad/")]
    assert sorted(p for p, _, _ in details) == [f"/ad/{n}" for n in range(1, 5)]
    assert all(inm and status == 304 for _, inm, status in details), details  # no full GET of an unchanged ad
    second = {r["url"]: r for r in rows(db, "SELECT url, assessed_at, removed_at FROM ads")}
    for url, row in second.items():
        assert row["assessed_at"] == first[url]["assessed_at"]
        assert row["removed_at"] is None
    crawl = rows(db, "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert (crawl["new_ads"], crawl["changed_ads"], crawl["removed_ads"]) == (0, 0, 0)
    assert rows(db, "SELECT count(*) n FROM ad_history WHERE event != 'new'")[0]["n"] == 0


def test_changed_ad_gets_history_and_removed_ads_keep_their_snapshot(board, tmp_path):
    db = tmp_path / "ads.db"
    assert board.crawl(db).returncode == 0
    board.ads[2] = (board.ads[2][0], "Now with a 3000 USD bonus. Contact on Telegram.")
    board.version[2] += 1
    del board.ads[3]  # taken down: off the listing and 404
    board.listed.discard(3)
    board.listed.discard(4)  # dropped from the listing, page still up

    proc = board.crawl(db)
    assert proc.returncode == 0, proc.stderr
    ads = {r["url"].rsplit("/", 1)[1]: r for r in rows(db, "SELECT id, url, removed_at FROM ads")}
    history = rows(db, "SELECT ad_id, event, changed_fields FROM ad_history WHERE event != 'new'")
    assert {(h["ad_id"], h["event"]) for h in history} == {
        (ads["2"]["id"], "changed"), (ads["3"]["id"], "removed"), (ads["4"]["id"], "removed")}
    assert "description" in next(h["changed_fields"] for h in history if h["event"] == "changed")
    assert ads["3"]["removed_at"] and ads["4"]["removed_at"]
    assert ads["1"]["removed_at"] is None and ads["2"]["removed_at"] is None
    snaps = rows(db, "SELECT ad_id FROM snapshots WHERE ad_id = ?", [ads["3"]["id"]])
    assert len(snaps) == 1
    crawl = rows(db, "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert (crawl["changed_ads"], crawl["removed_ads"], crawl["status"]) == (1, 2, "finished")
    assert "2 removed" in proc.stderr


@pytest.mark.parametrize("how", ["failed_request", "max_pages"])
def test_no_removals_after_a_partial_crawl(board, tmp_path, how):
    db = tmp_path / "ads.db"
    assert board.crawl(db).returncode == 0
    board.listed = {1, 2}  # 3 and 4 vanish from the listing ...
    extra = []
    if how == "failed_request":  # ... but one page failed, so the walk may have missed ads
        board.site.pages["/broken"] = Page("down", status=500, content_type="text/plain")
        board.listing = board.listing
        board.site.pages["/"] = lambda h: Page(board.listing(h).body.replace("</body>", '<a href="/broken">x</a></body>'))
    else:  # ... but the page budget cut the walk short
        extra = ["--max-pages", "2"]
    board.crawl(db, *extra)
    assert rows(db, "SELECT count(*) n FROM ads WHERE removed_at IS NOT NULL")[0]["n"] == 0
    assert rows(db, "SELECT count(*) n FROM ad_history WHERE event = 'removed'")[0]["n"] == 0


def test_unchanged_ads_from_a_server_without_validators_are_not_reassessed(tmp_path):
    """Each fetch of a page differs (a served-at stamp), so hash-first skipping (test_crawl_hashfirst.py) does not
    apply: the ads are extracted again and AssessPipeline keeps the stored assessment of those with the same text."""
    board = Board()
    served = itertools.count()
    board.site.fallback = lambda h: _stamped(_without_validators(board.detail(h)), next(served))
    board.site.start()
    try:
        db = tmp_path / "ads.db"
        assert board.crawl(db).returncode == 0
        first = {r["url"]: r["assessed_at"] for r in rows(db, "SELECT url, assessed_at FROM ads")}
        assert len(first) == 4 and not any(r["etag"] for r in rows(db, "SELECT etag FROM ads"))
        board.ads[2] = (board.ads[2][0], "Now with a 3000 USD bonus. Contact on Telegram.")

        proc = board.crawl(db)
        assert proc.returncode == 0, proc.stderr
        assert sorted(s for p, _, s in board.log if p.startswith("/ad/")) == [200] * 4  # fetched in full
        second = {r["url"]: r["assessed_at"] for r in rows(db, "SELECT url, assessed_at FROM ads")}
        changed = board.site.url("/ad/2")
        assert second[changed] != first[changed]
        assert {u: a for u, a in second.items() if u != changed} == {u: a for u, a in first.items() if u != changed}
        crawl = rows(db, "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")[0]
        assert (crawl["assessed_ads"], crawl["changed_ads"], crawl["unchanged_ads"]) == (1, 1, 3)
        assert "1 assessed" in proc.stderr
        assert rows(db, "SELECT count(*) n FROM evidence e JOIN ads a ON a.id = e.ad_id WHERE a.url = ?",
                    [board.site.url("/ad/1")])[0]["n"] > 0  # the kept assessment still has its evidence
    finally:
        board.site.stop()


def _without_validators(page):
    if page is not None:
        page.headers.pop("ETag", None)
    return page


def _stamped(page, n: int):
    if page is not None:
        page.body = page.encoded() + f"<!-- served {n} -->".encode()
    return page


def test_throttle_delay_falls_on_a_run_of_304s_but_not_below_download_delay(tmp_path):
    """Stock AutoThrottle only lowers its delay on 200s: after a slow listing raised it, a recrawl answered with
    304s stayed at that delay (the recrawl ended slower than the first crawl)."""
    board = Board()
    board.ads.update({n: (f"Packing worker {n}, Bavet", f"Visa on arrival, ad {n}.") for n in range(5, 11)})
    board.listed = set(board.ads)
    board.version = {n: 1 for n in board.ads}
    fast_listing = board.listing

    def slow_listing(handler):  # a slow server answer: AutoThrottle raises the delay to latency / 2
        threading.Event().wait(0.4)
        return fast_listing(handler)

    board.site.pages["/"] = slow_listing
    with board.site:
        db = tmp_path / "ads.db"
        assert board.crawl(db).returncode == 0
        proc = board.crawl(db, "-s", "AUTOTHROTTLE_ENABLED=True", "-s", "AUTOTHROTTLE_START_DELAY=0.05",
                           "-s", "DOWNLOAD_DELAY=0.01", "-s", "LOG_LEVEL=INFO")
    assert proc.returncode == 0, proc.stderr
    details = [status for path, _, status in board.log if path.startswith("/ad/")]
    assert details == [304] * 10
    delay_ms = float(re.search(r"'lurewatch/throttle/delay_ms': ([\d.]+)", proc.stderr).group(1))
    assert 10 <= delay_ms <= 50  # not above the start delay, not below DOWNLOAD_DELAY
    assert "'lurewatch/throttle/lowered_on_304':" in proc.stderr


RECRAWL_IN_PROCESS = """
import json, sys
from crawler.run import run_crawl
result = run_crawl("jobposting", db=sys.argv[2], spider_kwargs={"urls": sys.argv[1]},
                   settings={"AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING"}, progress=False)
print(json.dumps({"code": result.exit_code, "engine_loaded": "rules.engine" in sys.modules,
                  "extruct_loaded": "extruct" in sys.modules, "spider_modules": sorted(m for m in sys.modules if m.startswith("spiders.")),
                  "stats": {k: v for k, v in result.stats.items() if k.startswith("lurewatch/campaigns/")}}))
"""


def test_recrawl_answered_with_304s_loads_no_engine_and_still_links_campaigns(board, tmp_path):
    """A recrawl whose ads all answer 304 gives no item: the crawl process neither imports the detection engine nor
    any other spider's module (before: the engine was built and every spider module imported at start-up), and the
    end-of-crawl campaign linking still runs in the assess child with the same stats."""
    import json
    import subprocess
    import sys

    from conftest import REPO

    db = tmp_path / "ads.db"
    assert board.crawl(db).returncode == 0
    board.log.clear()
    proc = subprocess.run([sys.executable, "-c", RECRAWL_IN_PROCESS, board.site.url("/"), str(db)], cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [status for p, _, status in board.log if p.startswith("/ad/")] == [304] * 4
    assert out["code"] == 0
    assert not out["engine_loaded"] and not out["extruct_loaded"]
    assert out["spider_modules"] == ["spiders.base", "spiders.jobposting"]
    assert out["stats"]["lurewatch/campaigns/linked_in_child"] == 1
    assert out["stats"]["lurewatch/campaigns/links_added"] == 0
    assert rows(db, "SELECT count(*) n FROM ad_history WHERE event != 'new'")[0]["n"] == 0
