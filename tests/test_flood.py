"""A hostile page or sitemap cannot flood the crawl: postings per page and sitemap entries are capped and counted."""
from __future__ import annotations

import json

from conftest import db_rows
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
