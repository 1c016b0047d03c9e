"""Issue 16: ads written in batched transactions (Store.add_many, the crawl's writer thread), FTS kept in sync,
snapshots zstd with a dictionary per board, retention (first, each change), gzip bodies of older databases."""
import gzip
import hashlib
import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli, stored_body
from crawler.batchwriter import BatchWriter
from crawler.crawlrecord import record_progress
from crawler.localsite import LocalSite, Page
from crawler.snapcodec import TRAIN_AFTER
from crawler.store import SCHEMA_VERSION, Store
from output.review.casepage import latest_snapshot
from sites.hostile import ad_page

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0", "--no-progress"]
ASSESSMENT = {"score": 80, "level": "high", "flagged": True, "categories": ["destination"], "summary": "s",
              "evidence": [{"rule_id": "r1", "category": "destination", "weight": 0.5, "matched_text": "visa"},
                           {"rule_id": "r2", "category": "pay", "weight": 0.3, "matched_text": "salary"}],
              "contacts": [{"kind": "telegram", "value": "@hr", "raw": "@hr", "field": "contact"}]}


def entry(n: int, source: str = "board.test", body: bytes | None = None, **fields):
    ad = {"url": f"http://{source}/jobs/{n}", "source": source, "spider": "test", "title": f"Chat support {n}",
          "description": f"Free visa and housing, posting {n}", **fields}
    snapshot = {"url": ad["url"], "status": 200, "content_type": "text/html", "body": body or f"<p>{n}</p>".encode()}
    return {"ad": ad, "assessment": ASSESSMENT, "aliases": [f"http://{source}/j/{n}"], "snapshot": snapshot}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ads.db")
    yield s
    s.close()


def count(store, sql, params=()):
    return store.db.execute(sql, params).fetchone()[0]


def test_add_many_writes_every_part_of_each_ad_in_one_batch(store):
    first = entry(1)
    saved = store.add_many([first, entry(2), first, entry(3, description="Now with food")], crawl_id=None)
    assert [status for _, status in saved] == ["new", "new", "unchanged", "new"]  # a later entry sees the earlier
    assert saved[0][0] == saved[2][0] and store.count() == 3
    assert count(store, "SELECT count(*) FROM ad_urls") == 6
    assert count(store, "SELECT count(*) FROM evidence") == 6 and count(store, "SELECT count(*) FROM contacts") == 3
    assert [r[0] for r in store.db.execute("SELECT event FROM ad_history ORDER BY id")] == ["new"] * 3
    assert [s["body"] for s in store.snapshots(saved[1][0])] == [b"<p>2</p>"]


def test_add_many_writes_nothing_when_an_ad_has_no_url(store):
    with pytest.raises(ValueError, match="no url"):
        store.add_many([entry(1), {"ad": {"title": "no url"}}])
    assert store.count() == 0 and count(store, "SELECT count(*) FROM snapshots") == 0


def test_full_text_index_follows_text_changes_but_not_other_updates(store):
    (ad_id, _), = store.add_many([entry(1, description="Hiring in Sihanoukville")])
    match = "SELECT rowid FROM ads_fts WHERE ads_fts MATCH ?"
    assert [r[0] for r in store.db.execute(match, ["Sihanoukville"])] == [ad_id]
    trigger = count(store, "SELECT sql FROM sqlite_master WHERE name = 'ads_au'")
    assert "AFTER UPDATE OF" in trigger  # before: on every update (last_seen bumps re-indexed the ad)
    store.add_many([entry(1, description="Hiring in Bavet")])
    assert [r[0] for r in store.db.execute(match, ["Bavet"])] == [ad_id]
    assert list(store.db.execute(match, ["Sihanoukville"])) == []
    store.mark_seen(ad_id, None)
    assert [r[0] for r in store.db.execute(match, ["Bavet"])] == [ad_id]


def test_opening_a_schema_4_database_narrows_its_fts_trigger(tmp_path):
    path = tmp_path / "old.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER ads_au")
    conn.execute('CREATE TRIGGER "ads_au" AFTER UPDATE ON "ads" BEGIN INSERT INTO "ads_fts" ("ads_fts", rowid, title, '
                 "description, company) VALUES('delete', old.rowid, old.title, old.description, old.company); INSERT "
                 'INTO "ads_fts" (rowid, title, description, company) VALUES (new.rowid, new.title, new.description, '
                 "new.company); END")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert "AFTER UPDATE OF" in count(store, "SELECT sql FROM sqlite_master WHERE name = 'ads_au'")
        assert count(store, "SELECT value FROM meta WHERE key = 'schema_version'") == str(SCHEMA_VERSION)
    finally:
        store.close()


MENU = "".join(f'<li><a href="/c/{hashlib.md5(str(c).encode()).hexdigest()[:12]}">{c}</a></li>' for c in range(300))


def board_page(n: int) -> bytes:
    """One board's page: a shared template (~13 KB that gzip gets to ~5 KB) around a small posting of its own."""
    return (f"<html><body><ul>{MENU}</ul><h1>Posting {n}: {hashlib.sha1(str(n).encode()).hexdigest()}</h1>"
            "</body></html>").encode()


def test_each_board_gets_a_dictionary_once_it_has_enough_pages(store):
    pages = {n: board_page(n) for n in range(TRAIN_AFTER + 12)}
    store.add_many([entry(n, body=body) for n, body in pages.items()])
    store.add_many([entry(n, source="other.test", body=board_page(1000 + n)) for n in range(3)])
    dicts = list(store.db.execute("SELECT id, source FROM snapshot_dicts"))
    assert [source for _, source in dicts] == ["board.test"]  # not other.test: too few pages yet
    by_source = dict(store.db.execute("SELECT source, group_concat(DISTINCT coalesce(dict_id, 'none'))"
                                      " FROM snapshot_bodies GROUP BY source"))
    assert by_source == {"board.test": str(dicts[0][0]), "other.test": "none"}  # the first pages recompressed too
    for n, body in pages.items():
        [snap] = store.snapshots(store.find_ad_id([f"http://board.test/jobs/{n}"]))
        assert snap["body"] == body
    stored = count(store, "SELECT avg(length(body_zstd)) FROM snapshot_bodies WHERE source = 'board.test'")
    assert stored < len(gzip.compress(pages[5])) / 4


def test_bodies_written_before_schema_6_are_still_read(store):
    """Before schema 6 a body was gzip in snapshot_bodies.body_gz: the store and the case page read it."""
    body = "<html>客服 Sihanoukville</html>".encode()
    (ad_id, _), = store.add_many([{"ad": entry(1)["ad"]}])
    sha1 = hashlib.sha1(body).hexdigest()
    store.write(lambda: store.db.execute("INSERT INTO snapshot_bodies (sha1, body_gz, size) VALUES (?, ?, ?)",
                                         [sha1, gzip.compress(body), len(body)]))
    store.write(lambda: store.db.execute("INSERT INTO snapshots (ad_id, fetched_at, url, status, content_type, sha1)"
                                         " VALUES (?, '2026-01-01', 'u', 200, 'text/html', ?)", [ad_id, sha1]))
    assert [s["body"] for s in store.snapshots(ad_id)] == [body]
    page = latest_snapshot(sqlite3.connect(store.path), ad_id)
    assert "Sihanoukville" in page["text"] and not page.get("error")


def test_writer_thread_stores_a_batch_and_fails_only_the_bad_ad(store):
    crawl_id = store.start_crawl("test")
    writer = BatchWriter(lambda: Store(store.path), batch=50, interval=5, call_in_reactor=lambda f, *a: f(*a),
                         progress=record_progress)
    bad = entry(7)
    bad["ad"]["posted_at"] = object()  # cannot be stored
    results = []
    for d in [writer.save(entry(n) if n != 7 else bad, crawl_id) for n in range(12)]:
        d.addBoth(results.append)
    writer.close_now()
    failed = [n for n, r in enumerate(results) if not isinstance(r, tuple)]
    assert failed == [7] and store.count() == 11
    crawl = store.crawl(crawl_id)
    assert (crawl["items"], crawl["new_ads"]) == (11, 11)  # the committed ads, counted in their transaction


# -- real crawls ----------------------------------------------------------------------------------
class Board:
    def __init__(self, ads: int):
        self.text = {n: f"Free visa and flight, ad number {n}." for n in range(ads)}
        self.site = LocalSite({"/": self.listing}, fallback=self.detail)

    def listing(self, handler):
        return Page("<html><body>" + "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in self.text) + "</body></html>")

    def page(self, n: int) -> bytes:
        return ad_page(f"Customer service agent {n}, Sihanoukville", self.text[n]).encode()

    def detail(self, handler):
        n = int(handler.path.rsplit("/", 1)[1]) if handler.path.startswith("/ad/") else -1
        return Page(self.page(n)) if n in self.text else None


@pytest.fixture(scope="module")
def recrawled(tmp_path_factory):
    """A board crawled, then crawled again after one ad's text changed (pages served without validators)."""
    board = Board(6)
    db = tmp_path_factory.mktemp("batches") / "ads.db"
    with board.site:
        first = run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST)
        first_pages = {n: board.page(n) for n in board.text}
        board.text[2] = "Free visa, flight and food, ad number 2."
        second = run_cli("crawl", board.site.url("/"), "--db", str(db), *FAST)
    return board, db, first, second, first_pages


@pytest.mark.slow
def test_a_crawl_stores_every_ad_with_its_page_and_history(recrawled):
    board, db, first, _, first_pages = recrawled
    assert first.returncode == 0, first.stderr[-2000:]
    ads = {r["url"].rsplit("/", 1)[1]: r for r in db_rows(db, "SELECT * FROM ads")}
    assert set(ads) == {str(n) for n in board.text}
    for n, page in first_pages.items():
        [snap] = db_rows(db, "SELECT * FROM snapshots WHERE ad_id = ? ORDER BY id LIMIT 1", [ads[str(n)]["id"]])
        assert stored_body(db, snap["sha1"]) == page and snap["status"] == 200
    crawl = db_rows(db, "SELECT * FROM crawls ORDER BY id")[0]
    assert (crawl["status"], crawl["items"], crawl["new_ads"]) == ("finished", 6, 6)
    events = db_rows(db, "SELECT ad_id, event FROM ad_history WHERE crawl_id = ?", [crawl["id"]])
    assert sorted(e["ad_id"] for e in events if e["event"] == "new") == sorted(a["id"] for a in ads.values())


@pytest.mark.slow
def test_a_recrawl_keeps_a_snapshot_only_for_the_changed_page(recrawled):
    board, db, _, second, first_pages = recrawled
    assert second.returncode == 0, second.stderr[-2000:]
    # the 5 unchanged pages have the body of their last fetch: hash-first skipping marks their ads seen
    assert "0 new, 1 changed, 0 unchanged" in second.stderr and "5 pages unchanged (5 ads seen by page hash)" in second.stderr
    snaps = db_rows(db, "SELECT a.url, s.sha1 FROM snapshots s JOIN ads a ON a.id = s.ad_id ORDER BY s.id")
    per_ad = {}
    for s in snaps:
        per_ad.setdefault(s["url"].rsplit("/", 1)[1], []).append(s["sha1"])
    assert {n: len(v) for n, v in per_ad.items()} == {str(n): 2 if n == 2 else 1 for n in board.text}
    assert [stored_body(db, sha1) for sha1 in per_ad["2"]] == [first_pages[2], board.page(2)]
    assert db_rows(db, "SELECT count(*) AS n FROM snapshot_bodies")[0]["n"] == 7  # unchanged pages: no new body
    crawl = db_rows(db, "SELECT * FROM crawls ORDER BY id DESC LIMIT 1")[0]
    assert (crawl["items"], crawl["changed_ads"], crawl["unchanged_ads"], crawl["not_modified_ads"]) == (1, 1, 0, 5)


@pytest.mark.slow
def test_a_crawl_killed_mid_batch_leaves_a_consistent_db_and_says_what_it_stored(tmp_path):
    """Batches of 4, the rest held 60 s: 10 ads fetched, 8 committed, then SIGKILL. The database holds exactly
    the committed ads, each whole; the crawls row counted them and, once the process is gone, says interrupted."""
    served, gate = [], threading.Event()

    def detail(handler):
        if not handler.path.startswith("/ad/"):
            return None
        n = int(handler.path.rsplit("/", 1)[1])
        if n >= 10:
            gate.wait(30)  # the crawl stays busy here until it is killed
        served.append(n)
        return Page(ad_page(f"Chat support agent {n}, Bavet", f"Free visa and flight, ad {n}."))

    listing = Page("<html><body>" + "".join(f'<a href="/ad/{n}">ad {n}</a>' for n in range(14)) + "</body></html>")
    db = tmp_path / "ads.db"
    with LocalSite({"/": listing}, fallback=detail) as site:
        proc = subprocess.Popen([str(LUREWATCH), "crawl", site.url("/"), "--db", str(db), *FAST,
                                 "-s", "LUREWATCH_WRITE_BATCH=4", "-s", "LUREWATCH_WRITE_INTERVAL=60",
                                 "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not (len(served) >= 10 and db.exists() and stored_ads(db) >= 8):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr and proc.stderr.read()[-2000:]
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            gate.set()
            proc.stderr.close()
    assert db_rows(db, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    ads = db_rows(db, "SELECT id FROM ads")
    assert len(ads) == 8  # two batches of 4; the last 2 ads were in the open batch
    ids = {a["id"] for a in ads}
    for table in ("ad_urls", "ad_history", "snapshots"):  # each stored ad whole, nothing of the lost ones
        assert {r["ad_id"] for r in db_rows(db, f"SELECT ad_id FROM {table}")} == ids, table
    assert {r["ad_id"] for r in db_rows(db, "SELECT ad_id FROM evidence")} <= ids
    crawl = db_rows(db, "SELECT * FROM crawls")[0]
    assert (crawl["status"], crawl["items"], crawl["new_ads"]) == ("running", 8, 8)
    with LocalSite({"/": Page("<html><body>no ads</body></html>")}) as empty:
        assert run_cli("crawl", empty.url("/"), "--db", str(db), *FAST).returncode == 0
    crawl = db_rows(db, "SELECT * FROM crawls WHERE id = ?", [crawl["id"]])[0]
    assert crawl["status"] == "interrupted" and "8 ads stored before" in crawl["message"]


def stored_ads(db) -> int:
    try:
        return db_rows(db, "SELECT count(*) AS n FROM ads")[0]["n"]
    except sqlite3.OperationalError:  # the crawl is still creating its tables
        return 0
