"""Hash-first skipping (crawler/pagehash.py): a board without ETag/Last-Modified crawled again. Pages whose body
is that of their last fetch are not extracted or assessed; their ads are marked seen as a 304 marks them."""
from __future__ import annotations

import json
import re

import pytest

from conftest import db_rows, run_cli
from crawler.localsite import LocalSite, Page

CLEAN = "Typing work in our Bangkok office, 5 days a week. Thai and English required. Monthly salary as per labour law."
LURE = ("No experience needed! Salary $3,000 per month. Free flight ticket and visa, free food and accommodation. "
        "Contact HR on Telegram @golden_hr_team")


def posting(title: str, description: str, ident: str) -> dict:
    return {"@context": "https://schema.org", "@type": "JobPosting", "identifier": ident, "title": title,
            "description": description, "hiringOrganization": {"@type": "Organization", "name": "Bright Data"},
            "jobLocation": {"@type": "Place", "address": {"addressLocality": "Bangkok"}}}


def page(*postings: dict) -> Page:
    blocks = "".join(f'<script type="application/ld+json">{json.dumps(p)}</script>' for p in postings)
    return Page(f"<html><body>{blocks}<a href='/'>home</a></body></html>")  # no ETag, no Last-Modified


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Three crawls of one board: the first, an identical one, one with /job/3 changed to a lure."""
    pages = {f"/job/{i}": page(posting(f"Data entry clerk {i}", f"{CLEAN} Team {i}.", f"J{i}")) for i in range(1, 5)}
    pages["/multi"] = page(posting("Receptionist", CLEAN, "M1"), posting("Driver", f"{CLEAN} Own licence.", "M2"))
    pages["/"] = Page("<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in pages) + "</body></html>")
    db = str(tmp_path_factory.mktemp("hashfirst") / "ads.db")
    outputs = []
    with LocalSite(pages) as site:
        for round_ in range(3):
            if round_ == 2:
                site.pages["/job/3"] = page(posting("Data entry clerk 3", LURE, "J3"))
            proc = run_cli("crawl", site.url("/"), "--db", db, "--no-progress")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            outputs.append(proc.stdout + proc.stderr)
    return db, outputs


def unchanged_pages(output: str) -> tuple[int, int]:
    m = re.search(r"(\d+) pages unchanged \((\d+) ads seen by page hash\)", output)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def test_unchanged_recrawl_skips_every_page_with_ads_and_stores_no_history(crawls):
    db, outputs = crawls
    assert unchanged_pages(outputs[0]) == (0, 0)
    assert unchanged_pages(outputs[1]) == (5, 6), outputs[1]  # the 5 pages with ads, their 6 ads
    assert "0 assessed" in outputs[1] and "ok: no ad changed since the last crawl" in outputs[1]
    second = db_rows(db, "SELECT id, not_modified_ads, items FROM crawls ORDER BY id")[1]
    assert db_rows(db, "SELECT * FROM ad_history WHERE crawl_id = ?", [second["id"]]) == []
    assert (second["not_modified_ads"], second["items"]) == (6, 0)


def test_ads_of_skipped_pages_are_marked_seen_like_a_304(crawls):
    db, _ = crawls
    ids = [r["id"] for r in db_rows(db, "SELECT id FROM crawls ORDER BY id")]
    ads = db_rows(db, "SELECT url, last_crawl_id, removed_at FROM ads ORDER BY url")
    assert len(ads) == 6
    assert all(a["last_crawl_id"] == ids[2] and a["removed_at"] is None for a in ads), ads


def test_changed_page_is_extracted_and_assessed_again(crawls):
    db, outputs = crawls
    assert unchanged_pages(outputs[2]) == (4, 5), outputs[2]
    assert "1 assessed" in outputs[2] and "1 changed" in outputs[2]
    changed = db_rows(db, "SELECT id, description, flagged FROM ads WHERE url LIKE '%/job/3'")[0]
    assert "Telegram" in changed["description"] and changed["flagged"] == 1
    assert db_rows(db, "SELECT count(*) n FROM evidence WHERE ad_id = ?", [changed["id"]])[0]["n"] > 0
    third = db_rows(db, "SELECT id FROM crawls ORDER BY id")[2]["id"]
    events = db_rows(db, "SELECT ad_id, event FROM ad_history WHERE crawl_id = ?", [third])
    assert events == [{"ad_id": changed["id"], "event": "changed"}]
