"""Assessing and writing in a child process (crawler/assessproc.py, LUREWATCH_ASSESS_PROCESS,
LUREWATCH_WRITE_PROCESS): the same stored verdicts and rows as the writer thread and as the reactor thread; a child
that dies fails the crawl with a clear error and loses no ad."""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli, serve_site
from crawler.localsite import LocalSite, Page
from crawler.store import Store

VERDICT_SQL = ("SELECT url, risk_score, risk_level, flagged, fraud_score, categories, summary, nearest_lure, language"
               " FROM ads ORDER BY url")
EVIDENCE_SQL = ("SELECT a.url, e.rule_id, e.category, e.weight, e.matched_text, e.field, e.start, e.end, e.explanation"
                " FROM evidence e JOIN ads a ON a.id = e.ad_id ORDER BY a.url, e.rule_id, e.start, e.field")
CONTACT_SQL = "SELECT a.url, c.kind, c.value, c.field FROM contacts c JOIN ads a ON a.id = c.ad_id ORDER BY 1, 2, 3, 4"


# Three ways: assess and write in the child (default); assess in the child, write on the writer thread; both here.
WAYS = {"child writes": (), "writer thread": ("-s", "LUREWATCH_WRITE_PROCESS=False"),
        "reactor thread": ("-s", "LUREWATCH_ASSESS_PROCESS=False")}
AD_SQL = ("SELECT url, source, spider, external_id, title, company, location, country, salary_text, salary_usd_month,"
          " description, contact, language, posted_at, content_hash, removed_at, last_crawl_id, etag, last_modified,"
          " risk_score, risk_level, flagged, fraud_score, fraud_flagged, categories, summary, nearest_lure,"
          " ruleset_version, review_status, campaign_id, first_seen IS NOT NULL AS has_first_seen FROM ads ORDER BY url")
STORED_SQL = {
    "ads": AD_SQL,
    "evidence": EVIDENCE_SQL,
    "contacts": CONTACT_SQL,
    "urls": "SELECT u.url, a.url AS ad, u.kind FROM ad_urls u JOIN ads a ON a.id = u.ad_id ORDER BY 1",
    "history": ("SELECT a.url, h.crawl_id, h.event, h.content_hash, h.changed_fields FROM ad_history h"
                " JOIN ads a ON a.id = h.ad_id ORDER BY a.url, h.id"),
    "snapshots": ("SELECT a.url, s.crawl_id, s.url AS page, s.status, s.content_type, s.sha1, b.size FROM snapshots s"
                  " JOIN ads a ON a.id = s.ad_id JOIN snapshot_bodies b ON b.sha1 = s.sha1 ORDER BY a.url, s.id"),
    "page_ads": "SELECT p.url, a.url AS ad, p.sha1, p.ads FROM page_ads p JOIN ads a ON a.id = p.ad_id ORDER BY 1, 2",
    # not assessed_ads: an ad reached twice in one crawl is assessed twice unless its first copy was stored already
    "crawls": ("SELECT id, status, items, new_ads, changed_ads, unchanged_ads, flagged_ads, not_modified_ads"
               " FROM crawls ORDER BY id"),
}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    """Each way crawls the board into its own database, then again without hash-first skipping (every ad is
    extracted and found stored with the same text: not assessed again)."""
    site = serve_site("unseen_board")
    tmp = tmp_path_factory.mktemp("assessproc")
    runs = {}
    try:
        for n, (way, settings) in enumerate(WAYS.items()):
            db = str(tmp / f"{n}.db")
            first = run_cli("crawl", site.url("/"), "--db", db, "--no-progress", "-s", "LOG_LEVEL=INFO", *settings)
            again = run_cli("crawl", site.url("/"), "--db", db, "--no-progress", "-s", "LOG_LEVEL=INFO",
                            "-s", "LUREWATCH_HASH_FIRST=False", *settings)
            runs[way] = (db, first, again)
    finally:
        site.stop()
    return runs


def test_verdicts_are_the_same_in_the_child_and_in_the_reactor_thread(both_ways):
    (child_db, child, _), (here_db, here, _) = both_ways["child writes"], both_ways["reactor thread"]
    assert child.returncode == 0 and here.returncode == 0, child.stderr + here.stderr
    verdicts = db_rows(child_db, VERDICT_SQL)
    assert len(verdicts) >= 10 and any(v["flagged"] for v in verdicts)
    assert verdicts == db_rows(here_db, VERDICT_SQL)
    evidence = db_rows(child_db, EVIDENCE_SQL)
    assert evidence and evidence == db_rows(here_db, EVIDENCE_SQL)
    assert db_rows(child_db, CONTACT_SQL) == db_rows(here_db, CONTACT_SQL)


@pytest.mark.parametrize("table", sorted(STORED_SQL))
def test_the_child_stores_the_same_rows_as_the_writer_thread(both_ways, table):
    """Two crawls each way (new ads, then the same ads unchanged): every stored row is the same."""
    for _way, (_db, first, again) in both_ways.items():
        assert first.returncode == 0 and again.returncode == 0, first.stderr[-2000:] + again.stderr[-2000:]
    rows = {way: db_rows(db, STORED_SQL[table]) for way, (db, _first, _again) in both_ways.items()}
    assert rows["child writes"], table
    assert rows["child writes"] == rows["writer thread"] == rows["reactor thread"]


def stat(output: str, name: str) -> int | None:
    """A counter from the crawl's stats dump (LOG_LEVEL=INFO), None when it is not there."""
    found = re.search(rf"'lurewatch/{name}': (\d+)", output)
    return int(found.group(1)) if found else None


def test_the_child_writes_the_ads_and_the_reactor_process_does_not(both_ways):
    db, first, again = both_ways["child writes"]
    ads = len(db_rows(db, "SELECT id FROM ads"))
    for crawl in (first, again):  # every stored item written by the child
        assert stat(crawl.stderr, "stored") >= ads and stat(crawl.stderr, "store/by_assess_process") == stat(crawl.stderr, "stored")
    # the second crawl: every ad found unchanged (same text) in the child, not assessed again
    assert stat(again.stderr, "assess_skipped/unchanged") == stat(again.stderr, "stored") == stat(again.stderr, "ads/unchanged")
    assert stat(again.stderr, "assessed") is None and stat(again.stderr, "ads/new") is None
    # the snapshot's sha1 is the spider's hash of the page body (hashed once, crawler/pagehash.py), and right
    store = Store(db)
    try:
        snapshots = [snap for ad_id in (r["id"] for r in db_rows(db, "SELECT id FROM ads")) for snap in store.snapshots(ad_id)]
    finally:
        store.close()
    assert snapshots and all(hashlib.sha1(snap["body"]).hexdigest() == snap["sha1"] for snap in snapshots)
    for way in ("writer thread", "reactor thread"):
        assert "by_assess_process" not in both_ways[way][1].stderr + both_ways[way][2].stderr
        assert stat(both_ways[way][1].stderr, "stored") == stat(first.stderr, "stored")


def descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def ad_page(n: int) -> Page:
    posting = {"@context": "https://schema.org", "@type": "JobPosting", "identifier": f"A{n}", "title": f"Clerk {n}",
               "description": f"Office work number {n}, Bangkok. Free visa and flight, Telegram @hr_team{n}."}
    return Page(f'<html><body><script type="application/ld+json">{json.dumps(posting)}</script></body></html>')


def test_dead_assess_process_fails_the_crawl_and_loses_no_ad(tmp_path):
    """The child is killed while the crawl waits for its last page; that page's ad is still stored."""
    entered, release = threading.Event(), threading.Event()

    def gate(handler):
        entered.set()
        release.wait(60)
        return ad_page(99)

    pages = {f"/job/{n}": ad_page(n) for n in range(1, 6)}
    pages["/"] = Page('<html><body>' + "".join(f'<a href="/job/{n}">{n}</a>' for n in range(1, 6))
                      + '<a href="/job/gate">gate</a></body></html>')
    pages["/job/gate"] = gate
    db = str(tmp_path / "ads.db")
    with LocalSite(pages) as site:
        env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
        crawl = subprocess.Popen([str(LUREWATCH), "crawl", site.url("/"), "--db", db, "--no-progress"], cwd=REPO,
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert entered.wait(120), "the crawl never asked for the gate page"
            deadline = time.monotonic() + 30
            while not (children := descendants(crawl.pid)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(children) == 1, children  # the assess process
            os.kill(children[0], signal.SIGKILL)
        finally:
            release.set()
            output, _ = crawl.communicate(timeout=120)
    assert crawl.returncode == 1, output
    assert "the assess process died" in output
    stored = {r["url"].rsplit("/", 1)[1]: r for r in db_rows(db, "SELECT url, assessed_at, risk_score FROM ads")}
    assert set(stored) == {"1", "2", "3", "4", "5", "gate"}
    assert all(r["assessed_at"] and r["risk_score"] is not None for r in stored.values())
    row = db_rows(db, "SELECT status, message, items, new_ads FROM crawls")[0]
    assert row["status"] == "failed" and "assess process died" in (row["message"] or ""), row
    # every ad acknowledged as stored is there, written once, with its evidence, contacts and snapshot
    assert row["items"] == row["new_ads"] == 6, row
    history = db_rows(db, "SELECT a.url, h.event FROM ad_history h JOIN ads a ON a.id = h.ad_id")
    assert sorted(h["url"].rsplit("/", 1)[1] for h in history if h["event"] == "new") == ["1", "2", "3", "4", "5", "gate"]
    for table in ("evidence", "contacts", "snapshots"):
        holders = {r["url"].rsplit("/", 1)[1] for r in db_rows(db, f"SELECT DISTINCT a.url FROM {table} t JOIN ads a ON a.id = t.ad_id")}
        assert holders == set(stored), table
