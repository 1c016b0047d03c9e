"""The egress proxy in front of Chromium: a hostile page on a trusted port cannot reach any other local port,
whatever way the browser makes the connection (redirects, scripts, fetch, frames, WebSockets, popups, service
workers). Real Chromium, real servers on 127.0.0.1; the internal port is a raw TCP listener that counts every
connection it accepts."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest

from crawler.browser import LAUNCH_ARGS, find_chromium
from crawler.egress_proxy import EgressProxy
from crawler.localsite import LocalSite, Page
from crawler.netguard import NetGuard

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")


class TcpCounter:
    """An 'internal service': accepts TCP connections, counts them, answers a minimal HTTP 200."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            try:
                conn.settimeout(1)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nSECRET")
            except OSError:
                pass
            conn.close()

    def close(self):
        self._stop = True
        self.sock.close()


def hostile_pages(internal: int) -> dict:
    target = f"http://127.0.0.1:{internal}"
    return {
        "/hop": Page("", status=302, headers={"Location": f"{target}/admin"}),
        "/redirect-doc": Page("", status=302, headers={"Location": f"{target}/doc"}),
        "/sw.js": Page(f"self.addEventListener('install', e => {{ fetch('{target}/sw'); }});"
                       f"self.addEventListener('activate', e => {{ fetch('{target}/sw2'); }});",
                       content_type="text/javascript"),
        "/": Page(f"""<html><head>
<script src="/hop"></script>
<link rel="stylesheet" href="/hop">
</head><body>
<iframe src="/hop"></iframe>
<iframe src="{target}/frame"></iframe>
<a id="blank" href="/hop" target="_blank">x</a>
<script>
fetch('/hop').catch(() => {{}});
fetch('{target}/direct').catch(() => {{}});
var x = new XMLHttpRequest(); x.open('GET', '/hop'); x.send();
try {{ new WebSocket('ws://127.0.0.1:{internal}/ws'); }} catch (e) {{}}
try {{ new WebSocket('ws://' + location.host + '/ws-same-site'); }} catch (e) {{}}
try {{ window.open('{target}/popup'); }} catch (e) {{}}
try {{ window.open('/hop'); }} catch (e) {{}}
document.getElementById('blank').click();
if (navigator.serviceWorker) navigator.serviceWorker.register('/sw.js').catch(() => {{}});
setTimeout(() => {{ document.title = 'done'; }}, 1500);
</script>
<p id="ad">Chat support, Bavet</p></body></html>"""),
    }


@pytest.fixture
def internal():
    server = TcpCounter()
    yield server
    server.close()


def test_plain_http_through_the_proxy_reaches_trusted_and_blocks_internal(internal):
    with LocalSite({"/": Page("hello"), **hostile_pages(internal.port)}) as board, \
            EgressProxy(NetGuard([f"127.0.0.1:{board.port}"])) as proxy:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy.url}))
        assert opener.open(board.url("/sw.js"), timeout=10).read().startswith(b"self.addEventListener")
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(f"http://127.0.0.1:{internal.port}/", timeout=10)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as redirected:  # urllib follows the 302 through the proxy
            opener.open(board.url("/hop"), timeout=10)
        assert redirected.value.code == 403
    assert internal.connections == 0
    assert [t for t, _ in proxy.blocked] == [f"127.0.0.1:{internal.port}"] * 2


@pytest.mark.browser
@needs_chromium
def test_chromium_behind_the_proxy_never_reaches_an_internal_port(internal):
    from playwright.sync_api import sync_playwright

    blocked = []
    with LocalSite(hostile_pages(internal.port)) as board, \
            EgressProxy(NetGuard([f"127.0.0.1:{board.port}"]), on_block=lambda t, r: blocked.append(t)) as proxy, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS + proxy.chromium_args())
        context = browser.new_context()
        page = context.new_page()
        page.goto(board.url("/"))
        page.wait_for_function("document.title === 'done'", timeout=15_000)
        assert page.inner_text("#ad") == "Chat support, Bavet"
        time.sleep(1.5)  # popups, the service worker's install and activate
        for other in context.pages:
            try:
                other.goto(board.url("/redirect-doc"), timeout=5_000)
            except Exception:  # noqa: BLE001 - the blocked hop makes the navigation fail
                pass
        browser.close()
    assert internal.connections == 0
    assert f"127.0.0.1:{internal.port}" in blocked
    assert "/" in board.requests and "/hop" in board.requests  # the page and its same-site hops were fetched


@pytest.mark.browser
@needs_chromium
def test_browser_profile_crawl_cannot_reach_internal_ports_through_redirects(internal, tmp_path):
    """A `browser: true` crawl: scripts, frames, fetches, WebSockets, popups, a service worker and a detail link
    that go through a same-site 302 to another local port never reach it, and the internal page is not stored."""
    from test_profiles import ads, scrapy_crawl

    pages = hostile_pages(internal.port)
    pages["/"].body = pages["/"].body.replace(
        '<p id="ad">Chat support, Bavet</p>',
        '<div class="job-card" data-job-id="x1"><h2 class="job-title"><a href="/job/x1">Data entry, Bavet</a></h2>'
        '<p class="job-summary">Free visa and flight.</p></div>'
        '<div class="job-card" data-job-id="x2"><h2 class="job-title"><a href="/redirect-doc">Chat support</a></h2>'
        '<p class="job-summary">Telegram only.</p></div><div id="jobs-ready"></div>')
    pages["/job/x1"] = Page('<html><body><h1 class="title">Data entry, Bavet</h1>'
                            '<div class="desc">Free visa and flight, Telegram @hr_x1</div><div id="jobs-ready"></div></body></html>')
    with LocalSite(pages) as board:
        profile = tmp_path / "hostile.yaml"
        profile.write_text(
            "name: hostile\nstart_urls: [" + board.url("/") + "]\nbrowser: true\n"
            "wait_for: {css: '#jobs-ready'}\nlisting:\n  item: {css: 'div.job-card'}\n"
            "  link: {css: 'h2.job-title a::attr(href)'}\n"
            "detail:\n  title: {css: 'h1.title'}\n  description: {css: '.desc'}\n", encoding="utf-8")
        result = scrapy_crawl("profile", "-a", f"name={profile}", db=tmp_path / "ads.db")
    assert internal.connections == 0, result.stderr[-3000:]
    stored = ads(tmp_path / "ads.db")
    assert [r["title"] for r in stored] == ["Data entry, Bavet"]
    assert not any("SECRET" in (r["description"] or "") for r in stored)
    assert "'lurewatch/ssrf_blocked/browser'" in result.stderr
    # locked down by default: no WebSocket even to the board itself, no service worker, no popup page loads
    assert "/ws-same-site" not in board.requests and "/sw.js" not in board.requests
