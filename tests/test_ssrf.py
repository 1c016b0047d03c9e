"""SSRF guard: a trusted local board cannot lead the crawler (or the browser) to other local addresses."""
import asyncio
import json
import socket
import subprocess
import sys

import pytest

from conftest import REPO
from crawler.localsite import LocalSite, Page
from crawler.netguard import NetGuard, blocked_reason


@pytest.mark.parametrize("ip, blocked", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("10.1.2.3", True), ("172.16.0.1", True),
    ("192.168.1.1", True), ("169.254.169.254", True), ("169.254.1.1", True), ("100.64.0.1", True),
    ("224.0.0.1", True), ("0.0.0.0", True), ("fd00:ec2::254", True), ("fe80::1", True), ("::ffff:127.0.0.1", True),
    ("8.8.8.8", False), ("93.184.216.34", False), ("2606:4700::1111", False),
])
def test_address_classes(ip, blocked):
    assert (blocked_reason(ip) is not None) == blocked


@pytest.mark.parametrize("url, allowed", [
    ("http://127.0.0.1:8000/jobs", True),  # trusted host:port
    ("http://127.0.0.1:8001/", False),  # another port
    ("http://127.0.0.2:8000/", False),
    ("http://localhost:8000/", False),  # an alias the user did not give
    ("http://169.254.169.254/latest/meta-data/", False),
    ("http://[fd00:ec2::254]/", False),
    ("http://metadata.google.internal/", False),
    ("file:///etc/passwd", False),
])
def test_guard_trusts_exactly_the_hosts_given(url, allowed):
    guard = NetGuard(["127.0.0.1:8000"])
    assert (asyncio.run(guard.check(url)) is None) == allowed


@pytest.mark.parametrize("trusted, url, allowed", [
    ("http://127.0.0.1", "http://127.0.0.1/", True),  # a port-less start URL trusts its default port...
    ("http://127.0.0.1", "http://127.0.0.1:8001/", False),  # ...and no other port of that host
    ("http://127.0.0.1", "https://127.0.0.1/", False),  # nor another scheme's port
    ("127.0.0.1", "http://127.0.0.1:6379/", False),  # a bare host: ports 80 and 443 only
    ("127.0.0.1", "https://127.0.0.1/", True),
    ("http://localhost:8000", "http://localhost:8000/", True),  # a local name the user gave on purpose
    ("http://{name}", "http://{name}/", False),  # a trusted *name* is still resolved and checked
])
def test_guard_trusts_exact_scheme_host_and_port(trusted, url, allowed):
    name = socket.gethostname().lower()  # a real name whose DNS answer is a loopback address, as a rebinding attacker's is
    if "{name}" in url and (name == "localhost" or not any(blocked_reason(a[4][0]) for a in socket.getaddrinfo(name, None))):
        pytest.skip("this machine's host name does not resolve to a local address")
    guard = NetGuard([trusted.format(name=name)])
    assert (asyncio.run(guard.check(url.format(name=name))) is None) == allowed


@pytest.fixture
def sites():
    with LocalSite({"/secret": Page("<p>internal</p>")}) as other:
        pages = {
            "/": Page(f'<a href="{other.url("/secret")}">other port</a>'
                      f'<a href="http://127.0.0.2:{other.port}/secret">127.0.0.2</a>'
                      f'<a href="http://localhost:{other.port}/secret">localhost</a>'
                      '<a href="/jump">redirect</a><a href="/ok">ok</a>'),
            "/jump": Page("", status=302, content_type="text/plain", headers={"Location": other.url("/secret?via=jump")}),
            "/ok": Page("<p>fine</p>"),
        }
        with LocalSite(pages) as board:
            yield board, other


def test_crawl_of_trusted_board_never_reaches_other_local_addresses(sites, tmp_path):
    board, other = sites
    stats_file = tmp_path / "stats.json"
    cmd = [sys.executable, "-m", "scrapy", "runspider", "tests/sites/probe_spider.py", "-a", f"urls={board.url('/')}",
           "-a", "follow=1", "-a", f"trusted=127.0.0.1:{board.port}", "-s", f"PROBE_STATS_FILE={stats_file}",
           "-s", f"LUREWATCH_DB={tmp_path / 'x.db'}", "-s", "ITEM_PIPELINES={}", "-s", "LOG_LEVEL=WARNING"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(stats_file.read_text())
    assert other.requests == []  # not the other port, not 127.0.0.2, not localhost, not after the redirect
    assert "/ok" in board.requests and "/jump" in board.requests
    assert stats["lurewatch/ssrf_blocked"] == 4
    assert stats["lurewatch/ssrf_blocked/redirect"] == 1


@pytest.mark.browser
def test_playwright_route_hook_blocks_subresources(sites):
    from playwright.async_api import async_playwright

    from crawler.browser import LAUNCH_ARGS, find_chromium

    chromium = find_chromium()
    if not chromium:
        pytest.skip("no Chromium")
    board, other = sites
    board.pages["/page"] = Page(f'<img src="{other.url("/secret")}"><script src="http://localhost:{other.port}/secret"></script><p>x</p>')

    async def run():
        guard = NetGuard([f"127.0.0.1:{board.port}"])
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            page = await browser.new_page()
            await page.route("**/*", guard.playwright_route)
            await page.goto(board.url("/page"))
            await browser.close()
        return guard.blocked

    blocked = asyncio.run(run())
    assert other.requests == []
    assert "/page" in board.requests
    assert len(blocked) == 2
