"""robots.txt must be obeyed for every request, also when several wait for one slow robots.txt.

Scrapy 2.14+'s stock RobotsTxtMiddleware parks concurrent requests on one shared Deferred; only the
first waiter gets the parser, the rest get None and are let through. Our middleware fixes it.
"""
import json
import subprocess
import sys
import time

import pytest

from conftest import REPO
from crawler.localsite import LocalSite, Page

STOCK = ('{"crawler.robots.LurewatchRobotsTxtMiddleware": null, '
         '"scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100}')


@pytest.fixture
def slow_robots_site():
    def robots(handler):
        time.sleep(1.0)  # every start request arrives while robots.txt is still downloading
        return Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    pages = {"/robots.txt": robots}
    for i in range(6):
        pages[f"/public/{i}"] = Page(f"<p>public {i}</p>")
        pages[f"/private/{i}"] = Page(f"<p>private {i}</p>")
    with LocalSite(pages) as site:
        yield site


def crawl_probe(site, tmp_path, *extra):
    urls = ",".join(site.url(f"/{kind}/{i}") for i in range(6) for kind in ("public", "private"))
    stats_file = tmp_path / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "runspider", "tests/sites/probe_spider.py", "-a", f"urls={urls}",
           "-s", f"PROBE_STATS_FILE={stats_file}", "-s", f"LUREWATCH_DB={tmp_path / 'probe.db'}",
           "-s", f"LUREWATCH_TRUSTED_HOSTS=127.0.0.1:{site.port}", "-s", "LOG_LEVEL=WARNING",
           "-s", "ITEM_PIPELINES={}", *extra]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(stats_file.read_text())


def fetched(site, prefix):
    return sorted(p for p in site.requests if p.startswith(prefix))


def test_stock_robots_middleware_lets_concurrent_disallowed_requests_through(slow_robots_site, tmp_path):
    """Documents the upstream bug; if this starts failing, Scrapy fixed it and our subclass can go."""
    crawl_probe(slow_robots_site, tmp_path, "-s", f"DOWNLOADER_MIDDLEWARES={STOCK}")
    assert slow_robots_site.requests.count("/robots.txt") == 1
    assert fetched(slow_robots_site, "/private/"), "stock middleware obeyed robots.txt: upstream bug fixed?"


def test_our_robots_middleware_blocks_every_disallowed_request(slow_robots_site, tmp_path):
    stats = crawl_probe(slow_robots_site, tmp_path)
    assert fetched(slow_robots_site, "/private/") == []
    assert fetched(slow_robots_site, "/public/") == [f"/public/{i}" for i in range(6)]
    assert slow_robots_site.requests.count("/robots.txt") == 1
    assert stats["robotstxt/forbidden"] == 6


def test_user_agent_is_built_from_contact_url(slow_robots_site, tmp_path):
    seen = []
    slow_robots_site.pages["/public/0"] = lambda h: seen.append(h.headers["User-Agent"]) or Page("<p>ok</p>")
    crawl_probe(slow_robots_site, tmp_path, "-s", "LUREWATCH_CONTACT_URL=https://ngo.example/crawler")
    assert seen == ["Lurewatch/0.1 (+https://ngo.example/crawler; job-ad safety research)"]


# -- fail closed: when robots.txt cannot be read, the host's pages are not fetched ----------------
def unreadable_robots(how):
    def robots(handler):
        if how == "timeout":
            time.sleep(3)  # longer than DOWNLOAD_TIMEOUT=1
        if how == "http_503":
            return Page("down for maintenance", status=503, content_type="text/plain")
        if how == "too_large":  # over DOWNLOAD_MAXSIZE: Scrapy cancels the download
            return Page("User-agent: *\nDisallow: /private/\n" + "# padding\n" * 2000, content_type="text/plain")
        return Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    return robots


@pytest.mark.parametrize("how, kind", [
    ("timeout", "timeout"),
    ("http_503", "robots_unavailable"),
    ("too_large", "robots_unavailable"),
])
def test_robots_txt_that_cannot_be_read_fails_closed(tmp_path, how, kind):
    pages = {"/robots.txt": unreadable_robots(how)}
    for i in range(6):
        pages[f"/public/{i}"] = Page(f"<p>public {i}</p>")
        pages[f"/private/{i}"] = Page(f"<p>private {i}</p>")
    with LocalSite(pages) as site:
        stats = crawl_probe(site, tmp_path, "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0",
                            "-s", "DOWNLOAD_MAXSIZE=4000")
        assert fetched(site, "/private/") == [] and fetched(site, "/public/") == []
    assert stats[f"lurewatch/errors/{kind}"] == 12  # every page refused, each counted as an error
    assert stats["lurewatch/robots/unavailable"] == 12
    assert "probe/parsed" not in stats
