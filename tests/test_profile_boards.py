"""Profile crawls that need no browser: listing cards merged with their detail pages, a paged JSON API,
recrawls of unchanged boards (no churn), and the pure parts of `api:` (paging, identity)."""
from __future__ import annotations

import json

import pytest

from conftest import SITES, db_rows, run_cli, serve_site
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
    # issue 11: the failed detail page makes the crawl partial: exit 7 (was 0); the card is still stored
    assert result.returncode == 7, result.stderr[-3000:]
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


# -- schema of the new keys -----------------------------------------------------------------------

API = """\
name: board
start_urls: [http://127.0.0.1:1/api]
api:
  items: data.jobs
  fields:
    title: title
"""
BROWSER = """\
name: board
start_urls: [http://127.0.0.1:1/]
browser: true
listing:
  item: {css: 'div.ad'}
listing_fields:
  title: {css: h2}
"""


@pytest.mark.parametrize("text, line, expected", [
    (API.replace("  items: data.jobs\n", ""), 3, "api: api.items is required"),
    (API.replace("title: title", "title: 'title[?'"), 6, "api.fields.title: invalid JMESPath"),
    (API.replace("title: title", "titel: title"), 6, "api.fields.titel: unknown key (did you mean 'title'?)"),
    (API.replace("title: title", "title: {path: t, format: '/job/'}"), 6, "api.fields.title.format: expected a string with {}"),
    (API + "  capture: '/api'\n", 7, "api.capture: needs browser: true"),
    (API + "  paging: {page: p, offset: o}\n", 7, "api.paging: give exactly one of page: PARAM, offset: PARAM or cursor"),
    (API + "  paging: {cursor: after}\n", 7, "api.paging: cursor paging needs next:"),
    (API + "  paging: {page: p, next: x}\n", 7, "api.paging.next: only for cursor: paging"),
    (API + "listing:\n  item: {css: li}\nlisting_fields:\n  title: {css: h2}\n", 3, "api: give either listing_fields"),
    (API.replace("name: board", "name: board\nbrowser: true"), 4, "api: with browser: true give api.capture"),
    (BROWSER.replace("browser: true\n", "") + "wait_for: {listing: {css: '#x'}}\n", 7,
     "wait_for: only meaningful with browser: true"),
    (BROWSER.replace("browser: true\n", "").replace("  item: {css: 'div.ad'}\n",
                                                    "  item: {css: 'div.ad'}\n  actions: [{scroll: true}]\n"),
     5, "listing.actions: only meaningful with browser: true"),
    (BROWSER.replace("  item: {css: 'div.ad'}\n", "  item: {css: 'div.ad'}\n  actions: [{click: {css: b}, scroll: true}]\n"),
     6, "listing.actions.0: give exactly one of click: (a selector) or scroll: true"),
    (BROWSER.replace("  item: {css: 'div.ad'}\n", "  item: {css: 'div.ad'}\n  actions: [{scroll: true, max: 0}]\n"),
     6, "listing.actions.0.max: expected an integer from 1 to 500"),
    (BROWSER.replace("  item: {css: 'div.ad'}\n", "  item: {css: 'div.ad'}\n  actions: [{click: {css: 'b::text'}}]\n"),
     6, "listing.actions.0.click: give one css: or xpath: selector of an element"),
    (BROWSER + "wait_for: {listing: {css: '#x'}, detali: {css: '#y'}}\n", 8, "wait_for.detali: unknown key (did you mean 'detail'?)"),
    (BROWSER + "  external_id: {url: 'a(b'}\n", 8, "listing_fields.external_id.url: invalid regular expression"),
    (BROWSER + "  external_id: {url: 'a', re: b}\n", 8, "listing_fields.external_id.re: url: is already a regular expression"),
    (BROWSER + "  external_id: {url: '/(a)(b)'}\n", 8, "listing_fields.external_id.url: use at most one capture group"),
    (BROWSER + "  url: {url: '.*'}\n", 8, "listing_fields.url: give exactly one of css: or xpath:"),
])
def test_new_profile_keys_errors_name_file_line_and_key(text, line, expected):
    from spiders.profiles_schema import ProfileError, parse_profile

    with pytest.raises(ProfileError) as err:
        parse_profile(text, "profiles/board.yaml")
    message = str(err.value)
    assert message.startswith(f"profiles/board.yaml:{line}: "), message
    assert expected in message


def test_profiles_check_runs_api_field_paths_on_a_saved_json_response():
    page = SITES / "profiles/jsonapi/api/page3.json"
    result = run_cli("profiles", "check", "demo_jsonapi", "--against", str(page), "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["listing_ads"]
    assert [a["external_id"] for a in found] == ["7021", "7022", "7023", "7024", "7025"]
    assert found[4]["location"] == "Sihanoukville, Cambodia"
