"""JavaScript boards crawled with real Chromium: "Load more" clicks, endless scroll, ads from the page's own XHR,
and how browser waits are reported (stale wait_for -> exit 6, no wait_for, wait_for per page type)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import REPO, db_rows, run_cli, serve_site
from test_browser import needs_chromium
from test_profiles import ads

pytestmark = [pytest.mark.browser, needs_chromium]
FAST = ("--set", "LUREWATCH_BROWSER_WAIT_TIMEOUT=3")


@pytest.fixture
def site(request):
    served = serve_site(f"profiles/{request.param}")
    yield served
    served.stop()


def crawl(profile, url, db, *extra):
    return run_cli("crawl", "--profile", str(profile), url, "--db", str(db), "--no-progress", *FAST, *extra)


@pytest.mark.parametrize("site", ["loadmore"], indirect=True)
def test_load_more_board_gives_all_45_ads_with_stable_synthetic_urls(site, tmp_path):
    db = tmp_path / "ads.db"
    result = crawl("demo_loadmore", site.url("/"), db, "-v")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(db)
    assert len(rows) == 45
    assert {r["url"] for r in rows} == {site.url(f"/#ad=hb-{n:03d}") for n in range(1, 46)}
    by_id = {r["external_id"]: r for r in rows}
    assert by_id["hb-009"]["title"] == "Warehouse Packer 009 - free visa, Bavet"
    assert by_id["hb-045"]["location"] == "Klang, Malaysia"
    assert "'lurewatch/browser/clicks': 4" in result.stderr
    second = crawl("demo_loadmore", site.url("/"), db)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "0 new, 0 changed, 45 unchanged" in second.stderr
    assert db_rows(db, "SELECT count(*) AS n FROM snapshots")[0]["n"] == 45


@pytest.mark.parametrize("site", ["loadmore"], indirect=True)
def test_load_more_cut_short_by_max_is_reported_and_marks_nothing_removed(site, tmp_path):
    db = tmp_path / "ads.db"
    assert crawl("demo_loadmore", site.url("/"), db).returncode == 0
    profile = tmp_path / "two_clicks.yaml"
    text = (REPO / "spiders/profiles/demo_loadmore.yaml").read_text(encoding="utf-8")
    profile.write_text(text.replace("max: 10}", "max: 2}").replace("name: demo_loadmore",
                                                                   "name: two_clicks\nsource: demo_loadmore"),
                       encoding="utf-8")
    result = crawl(profile, site.url("/"), db)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "stopped at max=2 with more to load" in result.stderr
    assert "30 unchanged" in result.stderr
    # the 15 ads behind the third click were not seen, but they are not gone
    assert db_rows(db, "SELECT count(*) AS n FROM ads WHERE removed_at IS NOT NULL")[0]["n"] == 0
    assert db_rows(db, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1")[0]["status"] == "partial"


@pytest.mark.parametrize("site", ["scroll"], indirect=True)
def test_scroll_board_gives_every_batch(site, tmp_path):
    result = crawl("demo_scroll", site.url("/"), tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(tmp_path / "ads.db")
    assert len(rows) == 45
    assert {"/feed/1.json", "/feed/2.json", "/feed/3.json"} <= set(site.requests)
    row = next(r for r in rows if r["external_id"] == "dc-007")
    assert row["url"] == site.url("/jobs/dc-007")  # url: selector over the ad's URL gave the id
    assert row["title"] == "Online Chat Agent 007 - Myawaddy, no experience"
    assert row["salary_text"] == "USD 1070 / month"


@pytest.mark.parametrize("site", ["xhrboard"], indirect=True)
def test_ads_from_the_pages_own_xhr(site, tmp_path):
    result = crawl("demo_xhr", site.url("/"), tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(tmp_path / "ads.db")
    assert len(rows) == 12
    row = next(r for r in rows if r["external_id"] == "x04")
    assert row["url"] == site.url("/jobs/x04")
    assert (row["title"], row["company"], row["location"]) == \
        ("Crypto Sales Agent 04 - Golden Triangle", "Lucky Dragon Tech", "Tachileik")
    assert "/api/search?q=all&sort=new" in site.requests


# -- how browser waits are reported (regressions) -----------------------------------------------

def jsboard_profile(tmp_path, extra: str, wait_for: str | None) -> str:
    text = (REPO / "spiders/profiles/demo_jsboard.yaml").read_text(encoding="utf-8").replace("name: demo_jsboard",
                                                                                       "name: jsboard_variant")
    text = text.replace("wait_for: {css: '#jobs-ready'}\n", f"wait_for: {wait_for}\n" if wait_for else "")
    path = tmp_path / "jsboard_variant.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("site", ["jsboard"], indirect=True)
def test_stale_wait_for_is_a_stale_profile_not_an_unreachable_host(site, tmp_path):
    """The board was redesigned: the class names of wait_for and of the cards changed."""
    profile = jsboard_profile(tmp_path, "", "{css: '#jobs-loaded-v2'}")
    Path(profile).write_text(Path(profile).read_text(encoding="utf-8").replace("div.job-card", "div.job-card-v2"),
                             encoding="utf-8")
    result = crawl(profile, site.url("/"), tmp_path / "ads.db")
    assert result.returncode == 6, result.stderr[-3000:]
    assert "unreachable" not in result.stderr
    assert "wait_for '#jobs-loaded-v2' (listing pages) did not appear within 3 s" in result.stderr
    assert "selectors matched nothing" in result.stderr


@pytest.mark.parametrize("site", ["jsboard"], indirect=True)
def test_stale_wait_for_alone_keeps_the_ads_and_reports_the_error(site, tmp_path):
    result = crawl(jsboard_profile(tmp_path, "", "{css: '#jobs-loaded-v2'}"), site.url("/"), tmp_path / "ads.db")
    # issue 11: the error makes the crawl partial: exit 7 (was 0), a warning; the ads are kept
    assert result.returncode == 7, result.stderr[-3000:]
    assert len(ads(tmp_path / "ads.db")) == 3
    assert "errors: wait_for_timeout=1" in result.stderr
    assert "is the profile stale?" in result.stderr


@pytest.mark.parametrize("site", ["jsboard"], indirect=True)
def test_without_wait_for_the_page_is_read_after_its_api_replied(site, tmp_path):
    api = site.pages["/api/jobs.json"]

    def slow_api(handler):
        time.sleep(1.5)
        return api

    site.pages["/api/jobs.json"] = slow_api
    result = crawl(jsboard_profile(tmp_path, "", None), site.url("/"), tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["external_id"] for r in ads(tmp_path / "ads.db")] == ["mk-501", "mk-502", "mk-503"]


DETAIL = """\
detail:
  contact: {css: '.detail-contact'}
  description: {css: '.detail-body'}
"""


@pytest.mark.parametrize("site", ["jsboard"], indirect=True)
@pytest.mark.parametrize("wait_for, timeouts", [
    ("{css: '#jobs-ready'}", 0),  # the old single wait_for: listing pages only
    ("{listing: {css: '#jobs-ready'}, detail: {css: '#job-detail'}}", 0),
    ("{listing: {css: '#jobs-ready'}, detail: {css: '#job-detail-v2'}}", 3),
])
def test_wait_for_per_page_type_with_detail_pages(site, tmp_path, wait_for, timeouts):
    result = crawl(jsboard_profile(tmp_path, DETAIL, wait_for), site.url("/"), tmp_path / "ads.db", "-v")
    # issue 11: wait_for timeouts are errors, so that crawl is partial: exit 7 (was 0)
    assert result.returncode == (7 if timeouts else 0), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    rows = ads(tmp_path / "ads.db")
    assert [r["external_id"] for r in rows] == ["mk-501", "mk-502", "mk-503"]  # card fields kept
    assert rows[0]["title"] == "Chat Support Agent - Bavet, Cambodia"
    assert rows[0]["contact"] == "Apply: hr-501@mekong-careers.example"  # merged from the detail page
    assert rows[0]["description"] == "Full description of job mk-501: duties, hours and benefits."
    assert {"/job/mk-501", "/job/mk-502", "/job/mk-503"} <= set(site.requests)
    if timeouts:
        assert f"'lurewatch/errors/wait_for_timeout': {timeouts}" in result.stderr
        assert "wait_for '#job-detail-v2' (detail pages) did not appear" in result.stderr
    else:
        assert "wait_for_timeout" not in result.stderr


@pytest.mark.parametrize("site", ["jsboard"], indirect=True)
def test_redesigned_detail_pages_are_a_stale_profile(site, tmp_path):
    """Detail pages whose wait_for and fields all went stale: nothing stored, exit 6 (not "no ads found", exit 0)."""
    profile = tmp_path / "details.yaml"
    profile.write_text(
        f"name: details\nstart_urls: [{site.url('/')}]\nbrowser: true\n"
        "wait_for: {listing: {css: '#jobs-ready'}, detail: {css: '#job-detail-v2'}}\n"
        "listing:\n  link: {css: 'h2.job-title a::attr(href)'}\n"
        "detail:\n  title: {css: 'h1.detail-title-v2'}\n  description: {css: '.detail-body-v2'}\n", encoding="utf-8")
    result = crawl(profile, site.url("/"), tmp_path / "ads.db")
    assert result.returncode == 6, result.stderr[-3000:]
    assert "wait_for '#job-detail-v2' (detail pages) did not appear" in result.stderr
    assert ads(tmp_path / "ads.db") == []
