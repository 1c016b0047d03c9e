"""A hostile page or sitemap cannot flood the crawl: postings per page and sitemap entries are capped and counted."""
from __future__ import annotations

import gzip
import hashlib
import json

from conftest import db_rows, stored_body
from crawler.localsite import LocalSite, Page
from test_profiles import scrapy_crawl


def stat(stderr: str, key: str) -> int | None:
    marker = f"'lurewatch/{key}': "
    if marker not in stderr:
        return None
    return int(stderr.split(marker, 1)[1].split(",", 1)[0].split("}", 1)[0])


def posting(n: int) -> dict:
    return {"@context": "https://schema.org", "@type": "JobPosting", "identifier": f"flood-{n}",
            "title": f"Data entry clerk {n}", "description": f"Office work, posting number {n}."}


def test_postings_per_page_are_capped(tmp_path):
    blocks = "".join(f'<script type="application/ld+json">{json.dumps(posting(n))}</script>' for n in range(500))
    with LocalSite({"/": Page(f"<html><body>{blocks}</body></html>")}) as site:
        result = scrapy_crawl("jobposting", "-a", f"urls={site.url('/')}", "-s", "LUREWATCH_MAX_ADS_PER_PAGE=40",
                              db=tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-2000:]
    assert db_rows(tmp_path / "ads.db", "SELECT count(*) AS n FROM ads")[0]["n"] == 40
    assert stat(result.stderr, "ads/over_page_cap") == 460


def test_a_huge_sitemap_is_read_only_as_far_as_the_page_budget(tmp_path):
    site = LocalSite()
    urls = "".join(f"<url><loc>{{root}}/job/{n}</loc></url>" for n in range(60_000))
    with site:
        root = site.url("").rstrip("/")
        site.pages["/sitemap.xml"] = Page('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                          + urls.replace("{root}", root) + "</urlset>", content_type="application/xml")
        site.pages["/"] = Page("<html><body>home</body></html>")
        result = scrapy_crawl("jobposting", "-a", f"urls={site.url('/')}", "-a", "max_pages=5", db=tmp_path / "ads.db")
        job_requests = [p for p in site.requests if p.startswith("/job/")]
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(job_requests) <= 5
    assert stat(result.stderr, "sitemaps/stopped_at_max_pages") == 1
    assert (stat(result.stderr, "pages/over_budget") or 0) <= 1  # the other 59,995 entries were never walked


def test_sitemap_entries_are_capped(tmp_path):
    site = LocalSite()
    with site:
        root = site.url("").rstrip("/")
        index = "".join(f"<sitemap><loc>{root}/s/{n}.xml</loc></sitemap>" for n in range(5_000))
        site.pages["/sitemap.xml"] = Page('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                          + index + "</sitemapindex>", content_type="application/xml")
        site.pages["/"] = Page("<html><body>home</body></html>")
        result = scrapy_crawl("jobposting", "-a", f"urls={site.url('/')}", "-s", "LUREWATCH_SITEMAP_MAX_ENTRIES=30",
                              db=tmp_path / "ads.db")
        child_requests = [p for p in site.requests if p.startswith("/s/")]
    assert result.returncode == 0, result.stderr[-2000:]
    assert stat(result.stderr, "sitemaps/entries_over_cap") == 1
    assert len(child_requests) == 30


def db_bytes(db) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))  # the file, its -wal and -shm


def test_one_page_of_postings_stores_its_body_once(tmp_path):
    """Issue 11: 150 postings on one page are 150 ads and 150 snapshots rows sharing one stored body."""
    noise = " ".join(hashlib.sha256(str(n).encode()).hexdigest() for n in range(3000))  # ~190 KB, gzips badly
    blocks = "".join(f'<script type="application/ld+json">{json.dumps(posting(n))}</script>' for n in range(150))
    body = f"<html><body>{blocks}<p hidden>{noise}</p></body></html>".encode()
    db = tmp_path / "ads.db"
    with LocalSite({"/": Page(body)}) as site:
        result = scrapy_crawl("jobposting", "-a", f"urls={site.url('/')}", db=db)
    assert result.returncode == 0, result.stderr[-2000:]
    assert db_rows(db, "SELECT count(*) AS n FROM ads")[0]["n"] == 150
    one_copy = len(gzip.compress(body))
    assert db_bytes(db) < 10 * one_copy  # one copy plus the ads, not one copy per ad (150 copies before)
    assert db_rows(db, "SELECT count(*) AS n, count(DISTINCT sha1) AS bodies FROM snapshots")[0] == {"n": 150, "bodies": 1}
    [stored] = db_rows(db, "SELECT sha1, size FROM snapshot_bodies")
    assert (stored["sha1"], stored["size"]) == (hashlib.sha1(body).hexdigest(), len(body))
    assert stored_body(db, stored["sha1"]) == body


def test_a_2_mb_description_is_stored_cut_with_a_marker(tmp_path):
    """Issue 11: text fields are stored cut at LUREWATCH_MAX_FIELD_CHARS (default 50,000), saying so."""
    head = "Chat support in Bavet, free visa and flight. Telegram @flood_hr. "
    description = head + "".join(f"Shift {n} pays a bonus. " for n in range(100_000))  # ~2.3 MB
    job = {"@context": "https://schema.org", "@type": "JobPosting", "identifier": "big-1", "title": "Chat support",
           "description": description}
    db = tmp_path / "ads.db"
    with LocalSite({"/": Page(f'<html><body><script type="application/ld+json">{json.dumps(job)}</script></body></html>')}) as site:
        result = scrapy_crawl("jobposting", "-a", f"urls={site.url('/')}", db=db)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(description) > 2_000_000
    [ad] = db_rows(db, "SELECT description, title, summary FROM ads")
    assert ad["description"] == description[:50_000] + "\n\n[... cut at 50,000 characters]"
    assert ad["title"] == "Chat support"
    assert "Only the first 50,000 characters of description were assessed." in ad["summary"]
    assert stat(result.stderr, "ads/text_truncated") == 1
