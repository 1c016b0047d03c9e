"""Profile crawls that need no browser: listing cards merged with their detail pages, a paged JSON API,
recrawls of unchanged boards (no churn), and the pure parts of `api:` (paging, identity)."""
from __future__ import annotations

import pytest

from conftest import db_rows, run_cli, serve_site
from crawler.localsite import LocalSite, Page
from spiders.profile_api import Paging, compile_path, synthetic_url
from test_profiles import ads

CARD_AND_DETAIL = """\
name: cards_and_details
start_urls: [{start}]
listing:
  item: {{css: 'li.ad'}}
  link: {{css: 'a.ad-link::attr(href)'}}
  next: {{css: 'a.next::attr(href)'}}
listing_fields:
  external_id: {{css: 'a.ad-link::attr(href)', re: '/ad/(\\d+)'}}
  title: {{css: 'a.ad-link'}}
  salary_text: {{css: '.teaser'}}
detail:
  title: {{css: 'h1.post-title'}}
  company: {{css: 'dd.company'}}
  description: {{css: 'div.body'}}
  contact: {{css: 'p.contact'}}
  country: {{url: '/ad/(\\d+)', default: 'unknown'}}
"""


def crawl(profile, url, db, *extra):
    result = run_cli("crawl", "--profile", str(profile), url, "--db", str(db), "--no-progress", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def counts(db) -> dict:
    return {
        "history": db_rows(db, "SELECT event, count(*) AS n FROM ad_history GROUP BY event"),
        "snapshots": db_rows(db, "SELECT count(*) AS n FROM snapshots")[0]["n"],
    }


@pytest.fixture
def classifieds():
    site = serve_site("profiles/classifieds")
    yield site
    site.stop()


def test_card_and_detail_merge_into_one_ad_and_recrawl_without_churn(classifieds, tmp_path):
    profile = tmp_path / "cards.yaml"
    profile.write_text(CARD_AND_DETAIL.format(start=classifieds.url("/")), encoding="utf-8")
    db = tmp_path / "ads.db"
    crawl(profile, classifieds.url("/"), db)
    rows = ads(db)
    assert len(rows) == 5
    first = rows[0]
    assert first["url"] == classifieds.url("/ad/101.html")
    assert first["external_id"] == "101"  # from the card: the detail page has no id field
    assert first["salary_text"] == "USD 1500+, free flight"  # card only
    assert first["company"] == "Golden Bay Recruitment"  # detail only
    assert first["contact"] == "Telegram: @goldenbay_hr"
    assert first["country"] == "101"  # url: selector over the detail page's URL
    assert rows[2]["url"] == classifieds.url("/ad/103.html") and rows[2]["external_id"] == "103"
    after_first = counts(db)
    assert after_first == {"history": [{"event": "new", "n": 5}], "snapshots": 5}

    second = crawl(profile, classifieds.url("/"), db)
    assert "0 new, 0 changed, 5 unchanged" in second.stderr, second.stderr[-2000:]
    assert counts(db) == after_first  # no changed events, no new snapshots
    crawls = db_rows(db, "SELECT new_ads, changed_ads, unchanged_ads, assessed_ads FROM crawls ORDER BY id")
    assert crawls[1] == {"new_ads": 0, "changed_ads": 0, "unchanged_ads": 5, "assessed_ads": 0}


def test_card_is_kept_when_its_detail_page_fails(tmp_path):
    listing = ('<ul><li class="ad"><a class="ad-link" href="/ad/1.html">Packer, Bavet</a> <span class="teaser">USD 900'
               '</span></li><li class="ad"><a class="ad-link" href="/ad/2.html">Driver, Klang</a></li></ul>')
    detail = '<h1 class="post-title">Driver, Klang</h1><dd class="company">Klang Haulage</dd><div class="body">Day shifts.</div>'
    with LocalSite({"/": Page(listing), "/ad/1.html": Page("down", status=503, content_type="text/plain"),
                    "/ad/2.html": Page(detail)}) as site:
        profile = tmp_path / "cards.yaml"
        profile.write_text(CARD_AND_DETAIL.format(start=site.url("/")), encoding="utf-8")
        result = run_cli("crawl", "--profile", str(profile), site.url("/"), "--db", str(tmp_path / "ads.db"),
                         "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["external_id"]: r for r in ads(tmp_path / "ads.db")}
    assert rows["1"]["title"] == "Packer, Bavet" and rows["1"]["salary_text"] == "USD 900"
    assert rows["1"]["url"] == site.url("/ad/1.html")
    assert rows["2"]["company"] == "Klang Haulage"
    assert "http_503" in result.stderr


@pytest.fixture
def jsonapi():
    site = serve_site("profiles/jsonapi")
    yield site
    site.stop()


def test_json_api_profile_pages_until_empty_and_recrawls_the_same_ads(jsonapi, tmp_path):
    db = tmp_path / "ads.db"
    crawl("demo_jsonapi", jsonapi.url("/api/jobs"), db)
    assert [p for p in jsonapi.requests if p.startswith("/api/")] == \
        ["/api/jobs", "/api/jobs?page=2", "/api/jobs?page=3", "/api/jobs?page=4"]
    rows = ads(db)
    assert len(rows) == 25
    by_id = {r["external_id"]: r for r in rows}
    assert by_id["7005"]["url"] == jsonapi.url("/api/jobs#ad=7005")
    assert by_id["7005"]["title"] == "Casino Customer Service 5"
    assert by_id["7005"]["company"] == "Sun City Group"
    assert by_id["7005"]["location"] == "Sihanoukville, Cambodia"
    assert by_id["7005"]["salary_text"] == "USD 2,000 + bonus"
    assert "passport kept safe" in by_id["7005"]["description"]
    assert by_id["7005"]["flagged"] == 1
    assert {r["source"] for r in rows} == {"demo_jsonapi"}
    before = counts(db)
    second = crawl("demo_jsonapi", jsonapi.url("/api/jobs"), db)
    assert "0 new, 0 changed, 25 unchanged" in second.stderr
    assert counts(db) == before


def test_json_api_that_is_not_json_is_a_stale_profile(tmp_path):
    with LocalSite({"/api/jobs": Page("<html>moved</html>")}) as site:
        result = run_cli("crawl", "--profile", "demo_jsonapi", site.url("/api/jobs"), "--db",
                         str(tmp_path / "ads.db"), "--no-progress")
    assert result.returncode == 6, result.stderr[-2000:]
    assert f"{site.url('/api/jobs')}: not JSON" in result.stderr


@pytest.mark.parametrize("paging, url, data, count, expected", [
    (Paging("page", "page", 1), "http://b.test/api?per=10", {}, 10, "http://b.test/api?per=10&page=2"),
    (Paging("page", "p", 0), "http://b.test/api?p=4", {}, 3, "http://b.test/api?p=5"),
    (Paging("page", "page", 1), "http://b.test/api?page=3", {}, 0, None),
    (Paging("offset", "offset", 0), "http://b.test/api", {}, 20, "http://b.test/api?offset=20"),
    (Paging("offset", "offset", 0), "http://b.test/api?offset=20", {}, 20, "http://b.test/api?offset=40"),
    (Paging("cursor", "after", 0, compile_path("meta.next")), "http://b.test/api", {"meta": {"next": "c2"}}, 5,
     "http://b.test/api?after=c2"),
    (Paging("cursor", "after", 0, compile_path("meta.next")), "http://b.test/api?after=c2", {"meta": {"next": None}},
     5, None),
])
def test_api_paging_next_url(paging, url, data, count, expected):
    assert paging.next_url(url, data, count) == expected


@pytest.mark.parametrize("fields, expected", [
    ({"external_id": "A 17", "title": "x"}, "http://b.test/jobs#ad=A-17"),
    ({"title": "Packer", "description": "Shift work"}, "http://b.test/jobs#ad=h"),
])
def test_synthetic_url_is_stable(fields, expected):
    url = synthetic_url("http://b.test/jobs#top", fields)
    assert url.startswith(expected) and url == synthetic_url("http://b.test/jobs", dict(fields))
