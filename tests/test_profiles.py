"""Site profiles: schema errors, shipped profiles, `lurewatch profiles`, profile crawls against local servers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, db_rows, run_cli, serve_site
from crawler.localsite import LocalSite, Page
from spiders.profiles_schema import ProfileError, iter_profiles, load_profile, parse_profile

REAL_PAGES = REPO.parent / "shared" / "fixtures" / "real-pages"
JOBSDB_PAGES = ("jobsdb_hk_search_results_2020.html", "jobsdb_hk_index_2020.html")


def scrapy_crawl(*args: str, db: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    """`scrapy crawl ARGS` in a subprocess from the repo root (INFO log, so the stats dump is in stderr)."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", *args, "-s", f"LUREWATCH_DB={db}", "-s", "LOG_LEVEL=INFO"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))


def ads(db: Path) -> list[dict]:
    return db_rows(db, "SELECT * FROM ads ORDER BY url")


# -- schema -------------------------------------------------------------------------------------

GOOD = """\
name: board
start_urls: [http://127.0.0.1:1/]
listing:
  link: {css: 'a.job::attr(href)'}
detail:
  title: {css: h1}
"""


@pytest.mark.parametrize("text, line, expected", [
    (GOOD.replace("name: board", "name: Bad Name"), 1, "name: required"),
    (GOOD.replace("[http://127.0.0.1:1/]", "[ftp://x/]"), 2, "start_urls.0: not an http(s) URL"),
    (GOOD.replace("  title: {css: h1}", "  title: {css: h1, xpath: //h1}"), 6, "detail.title: give exactly one of css: or xpath:"),
    (GOOD.replace("  title: {css: h1}", "  title: {css: 'h1[['}"), 6, "detail.title.css: invalid css selector"),
    (GOOD.replace("  title: {css: h1}", "  title: {xpath: '//h1[@'}"), 6, "detail.title.xpath: invalid xpath selector"),
    (GOOD.replace("  title: {css: h1}", "  titel: {css: h1}"), 6, "detail.titel: unknown key (did you mean 'title'?)"),
    (GOOD.replace("  title: {css: h1}", "  title: h1"), 6, "detail.title: a selector is a mapping"),
    (GOOD.replace("  title: {css: h1}", "  title: {css: h1, re: '(a'}"), 6, "detail.title.re: invalid regular expression"),
    (GOOD + "politeness:\n  obey_robots: false\n", 8, "politeness.obey_robots: can only be tightened"),
    (GOOD + "politeness:\n  download_delay: -1\n", 8, "politeness.download_delay: expected seconds >= 0"),
    (GOOD + "max_pages: 0\n", 7, "max_pages: expected an integer >= 1"),
    (GOOD + "wait_for: {css: '#x'}\n", 7, "wait_for: only meaningful with browser: true"),
    (GOOD + "listing_fields:\n  title: {css: h2}\n", 3, "listing: listing_fields need listing.item"),
    (GOOD.replace("listing:\n  link: {css: 'a.job::attr(href)'}\n", ""), 3, "detail: detail fields need listing.link"),
    (GOOD + "colour: red\n", 7, "colour: unknown key"),
    ("name: board\nstart_urls: [http://a/\n", 3, "invalid YAML"),
])
def test_profile_errors_name_file_line_and_key(text, line, expected):
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "profiles/board.yaml")
    message = str(err.value)
    assert message.startswith(f"profiles/board.yaml:{line}: "), message
    assert expected in message


def test_good_profile_parses_with_defaults():
    profile = parse_profile(GOOD, "board.yaml")
    assert profile.name == "board" and profile.source_name == "board"
    assert not profile.browser and profile.politeness.obey_robots
    assert profile.hosts() == ("127.0.0.1",)


def test_unknown_profile_name_suggests_close_match():
    with pytest.raises(ProfileError, match="did you mean 'jobsdb_hk'"):
        load_profile("jobsdb_h")


def test_every_shipped_profile_is_valid():
    loaded = dict(iter_profiles())
    assert {p.stem for p in loaded} >= {"jobsdb_hk", "demo_classifieds", "demo_jsboard"}
    bad = [str(v) for v in loaded.values() if isinstance(v, ProfileError)]
    assert not bad


# -- jobsdb_hk against the real captured markup -------------------------------------------------

needs_real_pages = pytest.mark.skipif(not all((REAL_PAGES / f).is_file() for f in JOBSDB_PAGES),
                                      reason="../shared/fixtures/real-pages (real JobsDB markup) not available")


@needs_real_pages
@pytest.mark.parametrize("page", JOBSDB_PAGES)
def test_jobsdb_profile_extracts_every_card(page):
    html = (REAL_PAGES / page).read_text(encoding="utf-8")
    profile = load_profile("jobsdb_hk")
    found = profile.listing_items(html, "https://hk.jobsdb.com/hk/jobs/information-technology/1")
    assert len(found) == 30
    first = found[0]
    assert first["title"] == "QA Engineer (Virtual Bank)"
    assert first["company"] == "Welab Bank Limited"
    assert first["location"] == "Quarry Bay"
    assert first["external_id"] == "100003007946839"
    assert first["url"] == "https://hk.jobsdb.com/hk/en/job/qa-engineer-100003007946839"
    assert first["posted_at"] == "2020-09-01T06:33:33Z"
    assert "Ensure proper development of test plans" in first["description"]
    by_title = {a["title"]: a for a in found}
    assert by_title["Quality Assurance Engineer/ Software Test Engineer (IT background)"]["salary_text"] == "HK$20K - 25K /month"
    assert by_title["Mobile Game QA Tester / 遊戲測試員"]["company"] == "Qookia Limited"
    assert all(a.get("title") and a.get("company") and a.get("url") for a in found)
    assert len({a["external_id"] for a in found}) == 30
    assert profile.next_page_url(html, "https://hk.jobsdb.com/x") == \
        "https://hk.jobsdb.com/hk/jobs/information-technology/2?Key=quality%20assurance"


@needs_real_pages
def test_jobsdb_profile_crawl_stores_the_cards(tmp_path):
    """The real pages served from 127.0.0.1: page 1, its Next link -> page 2; `lurewatch crawl --profile`."""
    page1 = (REAL_PAGES / JOBSDB_PAGES[0]).read_text(encoding="utf-8")
    page2 = (REAL_PAGES / JOBSDB_PAGES[1]).read_text(encoding="utf-8")
    with LocalSite({"/hk/jobs/information-technology/1": Page(page1),
                    "/hk/jobs/information-technology/2?Key=quality%20assurance": Page(page2)}) as site:
        db = tmp_path / "ads.db"
        result = run_cli("crawl", "--profile", "jobsdb_hk", site.url("/hk/jobs/information-technology/1"),
                         "--db", str(db), "--no-progress")
        requested = list(site.requests)
    assert result.returncode == 0, result.stderr
    assert "/hk/jobs/information-technology/2?Key=quality%20assurance" in requested
    rows = ads(db)
    # both pages list the same 30 ads (their links differ only in a search token)
    assert len(rows) == 30
    assert {r["source"] for r in rows} == {"hk.jobsdb.com"}
    assert {r["spider"] for r in rows} == {"profile"}
    row = next(r for r in rows if r["external_id"] == "100003007946839")
    assert (row["title"], row["company"], row["location"]) == ("QA Engineer (Virtual Bank)", "Welab Bank Limited", "Quarry Bay")
    assert row["url"] == "https://hk.jobsdb.com/hk/en/job/qa-engineer-100003007946839"
    assert "AEON CREDIT SERVICE (ASIA) CO., LTD." in {r["company"] for r in rows}


@needs_real_pages
def test_profiles_check_against_saved_page_json():
    result = run_cli("profiles", "check", "jobsdb_hk", "--against", str(REAL_PAGES / JOBSDB_PAGES[0]), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["listing_ads"]) == 30
    assert out["listing_ads"][1]["title"] == "QA Officer"
    assert out["next_page"].endswith("/hk/jobs/information-technology/2?Key=quality%20assurance")


# -- a classifieds board without JobPosting markup ----------------------------------------------

@pytest.fixture
def classifieds():
    site = serve_site("profiles/classifieds")
    yield site
    site.stop()


def test_classifieds_profile_crawl_follows_listing_and_detail_pages(classifieds, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("profile", "-a", "name=demo_classifieds", "-a", f"urls={classifieds.url('/')}", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(db)
    assert [r["external_id"] for r in rows] == ["AJC-101", "AJC-102", "AJC-103", "AJC-104", "AJC-105"]
    first = rows[0]
    assert first["url"] == classifieds.url("/ad/101.html")
    assert first["title"] == "Customer Service Staff (English) - Cambodia"
    assert first["company"] == "Golden Bay Recruitment"
    assert first["salary_text"] == "USD 1,500 - 2,500 / month"
    assert first["contact"] == "Telegram: @goldenbay_hr"
    assert "Free flight ticket, visa, food and accommodation" in first["description"]
    assert {r["source"] for r in rows} == {"demo_classifieds"}
    assert rows[2]["url"] == classifieds.url("/ad/103.html")  # utm_source dropped
    assert "/page/2.html" in classifieds.requests
    # a non-browser profile never starts Playwright
    assert "playwright" not in result.stderr.lower()


def test_lurewatch_crawl_profile_respects_max_pages(classifieds, tmp_path):
    db = tmp_path / "ads.db"
    result = run_cli("crawl", "--profile", "demo_classifieds", classifieds.url("/"), "--db", str(db),
                     "--max-pages", "3", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert len(ads(db)) == 2  # listing page + 2 detail pages
    assert "/page/2.html" not in classifieds.requests


def test_profile_with_stale_selectors_reports_no_match(classifieds, tmp_path):
    stale = tmp_path / "stale.yaml"
    stale.write_text(GOOD.replace("a.job", "a.no-such-class"), encoding="utf-8")
    db = tmp_path / "ads.db"
    result = scrapy_crawl("profile", "-a", f"name={stale}", "-a", f"urls={classifieds.url('/')}", db=db)
    assert "'lurewatch/errors/profile_no_match': 1" in result.stderr
    assert "found no ads or links on this listing page" in result.stderr
    assert ads(db) == []


def test_lurewatch_crawl_with_stale_profile_exits_non_zero(classifieds, tmp_path):
    stale = tmp_path / "stale.yaml"
    stale.write_text(GOOD.replace("a.job", "a.no-such-class"), encoding="utf-8")
    result = run_cli("crawl", "--profile", str(stale), "--db", str(tmp_path / "ads.db"), classifieds.url("/"),
                     "--no-progress")
    assert result.returncode == 6, result.stderr[-2000:]
    assert "selectors matched nothing" in result.stderr + result.stdout
    assert str(stale) in result.stderr + result.stdout


def test_crawl_with_invalid_profile_fails_with_location(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("{css: h1}", "{css: h1, xpath: //h1}"), encoding="utf-8")
    result = run_cli("crawl", "--profile", str(bad), "--db", str(tmp_path / "ads.db"))
    assert result.returncode != 0
    assert f"{bad}:6: profile 'board': detail.title: give exactly one of css: or xpath:" in result.stderr
    assert not (tmp_path / "ads.db").exists()


# -- the CLI ------------------------------------------------------------------------------------

def test_profiles_list_shows_shipped_profiles():
    result = run_cli("profiles", "list")
    assert result.returncode == 0, result.stderr
    for name in ("jobsdb_hk", "demo_classifieds", "demo_jsboard"):
        assert name in result.stdout


def test_profiles_check_all_and_one(tmp_path):
    result = run_cli("profiles", "check")
    assert result.returncode == 0, result.stderr
    assert "ok      jobsdb_hk" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD + "max_pages: lots\n", encoding="utf-8")
    result = run_cli("profiles", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:7: profile 'board': max_pages: expected an integer >= 1" in result.stderr


def test_profiles_check_against_detail_page():
    page = REPO / "tests/sites/profiles/classifieds/ad/104.html"
    result = run_cli("profiles", "check", "demo_classifieds", "--against", str(page), "--json")
    assert result.returncode == 0, result.stderr
    fields = json.loads(result.stdout)["detail_fields"]
    assert fields["title"] == "Data Entry, Myawaddy - no experience"
    assert fields["external_id"] == "AJC-104"
    assert fields["location"] == "Myawaddy, Myanmar"
