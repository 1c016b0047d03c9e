"""Assessing in a child process (crawler/assessproc.py, LUREWATCH_ASSESS_PROCESS): the same stored verdicts as
in the reactor thread; a child that dies fails the crawl with a clear error and loses no ad."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli, serve_site
from crawler.localsite import LocalSite, Page

VERDICT_SQL = ("SELECT url, risk_score, risk_level, flagged, fraud_score, categories, summary, nearest_lure, language"
               " FROM ads ORDER BY url")
EVIDENCE_SQL = ("SELECT a.url, e.rule_id, e.category, e.weight, e.matched_text, e.field, e.start, e.end, e.explanation"
                " FROM evidence e JOIN ads a ON a.id = e.ad_id ORDER BY a.url, e.rule_id, e.start, e.field")
CONTACT_SQL = "SELECT a.url, c.kind, c.value, c.field FROM contacts c JOIN ads a ON a.id = c.ad_id ORDER BY 1, 2, 3, 4"


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    site = serve_site("unseen_board")
    tmp = tmp_path_factory.mktemp("assessproc")
    runs = {}
    try:
        for in_child in (True, False):
            db = str(tmp / f"{in_child}.db")
            proc = run_cli("crawl", site.url("/"), "--db", db, "--no-progress", "-s", f"LUREWATCH_ASSESS_PROCESS={in_child}")
            runs[in_child] = (db, proc)
    finally:
        site.stop()
    return runs


def test_verdicts_are_the_same_in_the_child_and_in_the_reactor_thread(both_ways):
    (child_db, child), (here_db, here) = both_ways[True], both_ways[False]
    assert child.returncode == 0 and here.returncode == 0, child.stderr + here.stderr
    verdicts = db_rows(child_db, VERDICT_SQL)
    assert len(verdicts) >= 10 and any(v["flagged"] for v in verdicts)
    assert verdicts == db_rows(here_db, VERDICT_SQL)
    evidence = db_rows(child_db, EVIDENCE_SQL)
    assert evidence and evidence == db_rows(here_db, EVIDENCE_SQL)
    assert db_rows(child_db, CONTACT_SQL) == db_rows(here_db, CONTACT_SQL)


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
    row = db_rows(db, "SELECT status, message FROM crawls")[0]
    assert row["status"] == "failed" and "assess process died" in (row["message"] or ""), row
