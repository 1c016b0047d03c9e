"""`feed` (RSS 2.0, Atom) and `sitemap` spiders against local servers."""
from __future__ import annotations

import pytest

from conftest import serve_site
from spiders.feed import parse_feed
from test_profiles import ads, scrapy_crawl


@pytest.fixture
def feeds():
    site = serve_site("profiles/feeds")
    yield site
    site.stop()


@pytest.fixture
def sitemap_site():
    site = serve_site("profiles/sitemap")
    yield site
    site.stop()


def test_parse_feed_rss_and_atom(feeds):
    from conftest import load_site

    pages = load_site("profiles/feeds", "http://h")
    kind, entries = parse_feed(pages["/rss.xml"].encoded(), "http://h/rss.xml")
    assert kind == "rss" and len(entries) == 3
    assert entries[0]["link"] == "http://h/jobs/1.html" and entries[0]["id"] == "ojb-1"
    assert entries[2]["link"] == ""  # guid isPermaLink=false is not a link
    kind, entries = parse_feed(pages["/atom.xml"].encoded(), "http://h/atom.xml")
    assert kind == "atom" and [e["id"] for e in entries] == ["urn:mekong:job:77", "urn:mekong:job:78"]
    assert entries[1]["title"] == "Typing Job &amp; Chat Support, Myanmar"
    assert "USD 2,000 monthly" in entries[1]["summary"]


@pytest.mark.parametrize("body", [b"<html><body>not a feed</body></html>", b"", b"\x00\x01garbage"])
def test_parse_feed_rejects_non_feeds(body):
    assert parse_feed(body, "http://h/x") is None


def test_feed_crawl_uses_jobposting_pages_else_entries(feeds, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("feed", "-a", f"urls={feeds.url('/rss.xml')},{feeds.url('/atom.xml')}", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["url"]: r for r in ads(db)}
    assert sorted(rows) == sorted([feeds.url("/jobs/1.html"), feeds.url("/jobs/2.html"), feeds.url("/rss.xml#ojb-3"),
                                   feeds.url("/jobs/77.html"), feeds.url("/jobs/78.html")])
    # JobPosting on the linked page: the posting's fields
    one = rows[feeds.url("/jobs/1.html")]
    assert one["company"] == "Blue Ocean HR Co." and one["external_id"] == "BO-1"
    assert "Free flight, visa, food and accommodation" in one["description"]
    # linked page without JobPosting: the entry's title and summary
    two = rows[feeds.url("/jobs/2.html")]
    assert two["title"] == "Data Entry Operator, Laos - no experience"
    assert "Free visa and flight" in two["description"] and two["external_id"] == "ojb-2"
    # no link at all: the entry, addressed inside the feed
    assert rows[feeds.url("/rss.xml#ojb-3")]["title"] == "Bookkeeper (part-time) - Wan Chai"
    # linked page missing (404): the entry is still stored, the error counted
    assert "USD 2,000 monthly" in rows[feeds.url("/jobs/78.html")]["description"]
    assert "'lurewatch/errors/http_404': 1" in result.stderr


def test_feed_crawl_without_following_links(feeds, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("feed", "-a", f"urls={feeds.url('/rss.xml')}", "-a", "follow=false", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(db)
    assert len(rows) == 3
    assert not any(p.startswith("/jobs/") for p in feeds.requests)
    assert "'lurewatch/feed/ads_from_entry': 3" in result.stderr


def test_feed_crawl_of_a_non_feed_fails(feeds, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("feed", "-a", f"urls={feeds.url('/jobs/2.html')}", db=db)
    assert "'lurewatch/errors/not_a_feed': 1" in result.stderr
    assert ads(db) == []


def test_sitemap_crawl_from_site_root(sitemap_site, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("sitemap", "-a", f"urls={sitemap_site.url('/')}", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(db)
    assert [r["external_id"] for r in rows] == ["RC-11", "EH-12"]
    assert rows[0]["url"] == sitemap_site.url("/post/11.html")
    assert "/robots.txt" in sitemap_site.requests and "/sitemap-posts.xml" in sitemap_site.requests
    assert "/post/13.html" in sitemap_site.requests  # fetched, but it has no JobPosting markup


def test_sitemap_crawl_with_profile_and_match(sitemap_site, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("sitemap", "-a", f"urls={sitemap_site.url('/sitemap_index.xml')}", "-a", "match=/post/",
                          "-a", "profile=demo_classifieds", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["external_id"]: r for r in ads(db)}
    assert sorted(rows) == ["AJC-13", "EH-12", "RC-11"]  # profile selectors + JobPosting markup
    assert rows["AJC-13"]["title"] == "Typing job - Myawaddy"
    assert rows["AJC-13"]["company"] == "Shwe Kokko Staffing"
    assert "/about.html" not in sitemap_site.requests  # filtered out by match
