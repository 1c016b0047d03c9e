"""Browser pages: BrowserConfig, and a JavaScript-built board crawled with real Chromium (scrapy-playwright)."""
from __future__ import annotations

import urllib.request

import pytest
from scrapy.settings import Settings

from conftest import serve_site
from crawler.browser import PLAYWRIGHT_HANDLER, BrowserConfig, abort_heavy_request, find_chromium
from spiders.profiles_schema import load_profile
from test_profiles import ads, scrapy_crawl

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")


@pytest.fixture
def jsboard():
    site = serve_site("profiles/jsboard")
    yield site
    site.stop()


def test_browser_config_from_settings():
    settings = Settings({"PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 12_000, "LUREWATCH_BROWSER_MAXSIZE": 1000,
                         "LUREWATCH_CHROMIUM": "/opt/chromium/chrome"})
    config = BrowserConfig.from_settings(settings)
    assert config.executable_path == "/opt/chromium/chrome"
    assert config.navigation_timeout_ms == 12_000 and config.max_content_bytes == 1000 and config.headless
    out = config.scrapy_settings()
    assert out["DOWNLOAD_HANDLERS"] == {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER}
    assert out["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == "/opt/chromium/chrome"
    assert "--no-sandbox" in out["PLAYWRIGHT_LAUNCH_OPTIONS"]["args"]
    assert out["PLAYWRIGHT_ABORT_REQUEST"] == "crawler.browser.abort_heavy_request"


def test_browser_config_without_chromium_says_how_to_fix():
    with pytest.raises(RuntimeError, match="make browser"):
        BrowserConfig(executable_path=None).scrapy_settings()


class FakeRequest:  # the two attributes abort_heavy_request reads from a playwright Request
    def __init__(self, resource_type, url="http://127.0.0.1/x"):
        self.resource_type, self.url = resource_type, url


@pytest.mark.parametrize("resource_type, url, aborted", [
    ("image", "http://127.0.0.1/a.png", True),
    ("font", "http://127.0.0.1/a.woff2", True),
    ("media", "http://127.0.0.1/a.mp4", True),
    ("document", "http://127.0.0.1/", False),
    ("script", "http://127.0.0.1/app.js", False),
    ("fetch", "http://127.0.0.1/api/jobs.json", False),
    ("other", "ws://127.0.0.1/socket", True),
])
def test_abort_heavy_request(resource_type, url, aborted):
    assert abort_heavy_request(FakeRequest(resource_type, url)) is aborted


def test_plain_http_sees_no_ads_on_the_js_board(jsboard):
    html = urllib.request.urlopen(jsboard.url("/"), timeout=10).read().decode()
    assert "Loading jobs" in html
    assert load_profile("demo_jsboard").listing_items(html, jsboard.url("/")) == []


@pytest.mark.browser
@needs_chromium
def test_browser_profile_crawl_finds_the_js_built_ads(jsboard, tmp_path):
    db = tmp_path / "ads.db"
    result = scrapy_crawl("profile", "-a", "name=demo_jsboard", "-a", f"urls={jsboard.url('/')}", db=db)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = ads(db)
    assert [r["external_id"] for r in rows] == ["mk-501", "mk-502", "mk-503"]
    assert rows[0]["title"] == "Chat Support Agent - Bavet, Cambodia"
    assert rows[0]["url"] == jsboard.url("/job/mk-501")
    assert rows[1]["location"] == "Tachileik, Myanmar"
    assert rows[2]["salary_text"] == "USD 450 / month"
    assert "'playwright/browser_count': 1" in result.stderr
    assert "/api/jobs.json" in jsboard.requests  # the page's own script fetched the list
    # images (banner, logos) and the stylesheet's fonts are never downloaded
    assert "'playwright/request_count/aborted'" in result.stderr
    assert not any(p.endswith(".png") for p in jsboard.requests)


@pytest.mark.browser
@needs_chromium
def test_browser_crawl_never_reaches_untrusted_local_addresses(tmp_path):
    """Requests Chromium makes on its own (a script on another loopback port) go through the SSRF guard."""
    from crawler.localsite import LocalSite, Page

    with LocalSite({"/beacon.js": Page("window.beacon = 1;", content_type="text/javascript")}) as other, \
            LocalSite() as board:
        board.pages["/"] = Page(
            f'<html><body><script src="{other.url("/beacon.js")}"></script>'
            '<div class="job-card" data-job-id="x1"><h2 class="job-title"><a href="/job/x1">Data entry, Bavet</a></h2>'
            '<p class="job-summary">Free visa and flight.</p></div><div id="jobs-ready"></div></body></html>')
        profile = tmp_path / "guarded.yaml"
        profile.write_text(
            "name: guarded\nstart_urls: [" + board.url("/") + "]\nbrowser: true\n"
            "wait_for: {css: '#jobs-ready'}\nlisting:\n  item: {css: 'div.job-card'}\n"
            "  link: {css: 'h2.job-title a::attr(href)'}\n"
            "listing_fields:\n  external_id: {css: '::attr(data-job-id)'}\n  title: {css: 'h2.job-title'}\n"
            "  description: {css: '.job-summary'}\n", encoding="utf-8")
        result = scrapy_crawl("profile", "-a", f"name={profile}", db=tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["external_id"] for r in ads(tmp_path / "ads.db")] == ["x1"]
    assert other.requests == []  # the untrusted port was never contacted
    assert "'lurewatch/ssrf_blocked/browser': 1" in result.stderr
