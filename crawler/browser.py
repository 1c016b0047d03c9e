"""Find (and on request install) a Chromium that Playwright can drive.

Order: LUREWATCH_CHROMIUM env var, Playwright's own downloaded Chromium, the
system package (/usr/bin/chromium). `python -m crawler.browser ensure` installs
Debian's `chromium` with apt when none is found (Playwright's download needs
network access we do not have).
"""
from __future__ import annotations

import asyncio
import glob
import logging
import os
import re
import weakref
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")

# Flags that keep Chromium quiet on a closed network and runnable as root.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def playwright_chromium() -> str | None:
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-linux*/headless_shell"):
        hits = sorted(glob.glob(str(root / pattern)))
        if hits:
            return hits[-1]
    return None


def find_chromium() -> str | None:
    """Path of a Chromium executable, or None."""
    env = os.environ.get("LUREWATCH_CHROMIUM")
    if env and os.access(env, os.X_OK):
        return env
    own = playwright_chromium()
    if own:
        return own
    for path in SYSTEM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure() -> str:
    found = find_chromium()
    if found:
        print(f"chromium: {found}")
        return found
    print("chromium: none found; installing Debian's chromium package with apt-get", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    found = find_chromium()
    if not found:
        sys.exit("chromium: apt-get finished but no chromium executable was found")
    print(f"chromium: {found}")
    return found


# -- scrapy-playwright configuration ---------------------------------------------------------
# Only spiders that need a browser (a site profile with `browser: true`) install the playwright
# download handler, through BrowserConfig.apply(); every other crawl keeps Scrapy's plain HTTP
# handler and never starts Playwright or Chromium.

PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
# Resource types a browser page never loads: they cost bandwidth and tell us nothing about an ad.
ABORT_RESOURCE_TYPES = frozenset({"image", "media", "font"})


def abort_heavy_request(request) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: drop images, fonts, media (and anything that is not http(s))."""
    return request.resource_type in ABORT_RESOURCE_TYPES or not request.url.startswith(("http://", "https://", "data:"))


def guarded_abort_request(guard, crawler):
    """PLAYWRIGHT_ABORT_REQUEST for one crawl: heavy resources, plus the SSRF guard (crawler.netguard.NetGuard)
    on every request Chromium makes by itself (scripts, fetches, frames, redirects)."""

    async def abort(request) -> bool:
        if abort_heavy_request(request):
            return True
        if await guard.playwright_abort_request(request):
            crawler.stats.inc_value("lurewatch/ssrf_blocked")  # stats exist once the crawl runs
            crawler.stats.inc_value("lurewatch/ssrf_blocked/browser")
            return True
        return False

    return abort


# Browser contexts: no service workers (they fetch outside any page's control), no downloads to disk.
LOCKED_DOWN_CONTEXT = {"service_workers": "block", "accept_downloads": False}


def page_meta() -> dict:
    """Request meta for a browser page: a locked-down context, no WebSockets, popups closed."""
    return {"playwright": True, "playwright_context_kwargs": dict(LOCKED_DOWN_CONTEXT),
            "playwright_page_init_callback": "crawler.browser.lock_down_page"}


async def lock_down_page(page, request) -> None:
    """`playwright_page_init_callback`: before navigation, refuse WebSockets and close popups at once."""
    await page.route_web_socket(re.compile(r".*"), _refuse_websocket)
    page.on("popup", _close_popup)


async def _refuse_websocket(ws) -> None:
    await ws.close(code=1008, reason="WebSockets are blocked in Lurewatch crawls")


async def _close_popup(popup) -> None:
    await popup.close()


def start_egress_proxy(crawler, trusted) -> "EgressProxy":
    """Start this crawl's egress proxy (crawler/egress_proxy.py) and route Chromium through it.

    Every connection Chromium makes, after every redirect, is checked at connect time; refusals are
    counted as lurewatch/ssrf_blocked and lurewatch/ssrf_blocked/browser. (Requests lock their context down
    with `page_meta()`.) The proxy stops when the engine stops; keep the returned object referenced.
    """
    from scrapy import signals

    from .egress_proxy import EgressProxy
    from .netguard import NetGuard

    def count_block(target: str, reason: str) -> None:
        from twisted.internet import reactor  # imported late: from_crawler may run before Scrapy installs its reactor

        for key in ("lurewatch/ssrf_blocked", "lurewatch/ssrf_blocked/browser"):
            reactor.callFromThread(crawler.stats.inc_value, key)
        logger.warning("SSRF guard (browser proxy) blocked %s (%s)", target, reason)

    proxy = EgressProxy(NetGuard(trusted), on_block=count_block).start()
    settings = crawler.settings
    launch = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
    launch["args"] = [*launch.get("args", []), *proxy.chromium_args()]
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="spider")
    crawler.signals.connect(proxy.stop, signal=signals.engine_stopped)
    return proxy


@dataclass(frozen=True)
class BrowserConfig:
    """How browser pages are fetched, read once from the Scrapy settings."""

    executable_path: str | None
    headless: bool = True
    launch_args: tuple[str, ...] = tuple(LAUNCH_ARGS)
    navigation_timeout_ms: int = 30_000
    max_content_bytes: int = 10 * 1024 * 1024
    max_pages_per_context: int = 4
    wait_timeout_ms: int = 15_000  # per wait of a rendered page (wait_for, network idle, content after an action)

    @classmethod
    def from_settings(cls, settings) -> "BrowserConfig":
        timeout_ms = settings.getint("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", 0) or settings.getint("DOWNLOAD_TIMEOUT", 30) * 1000
        return cls(
            executable_path=settings.get("LUREWATCH_CHROMIUM") or find_chromium(),
            headless=settings.getbool("LUREWATCH_BROWSER_HEADLESS", True),
            navigation_timeout_ms=timeout_ms,
            max_content_bytes=settings.getint("LUREWATCH_BROWSER_MAXSIZE", 0) or settings.getint("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024),
            max_pages_per_context=settings.getint("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 4) or 4,
            wait_timeout_ms=int(settings.getfloat("LUREWATCH_BROWSER_WAIT_TIMEOUT", 15) * 1000) or 15_000,
        )

    def scrapy_settings(self) -> dict:
        """Settings that switch a crawl to scrapy-playwright (requests still opt in with meta playwright=True)."""
        if not self.executable_path:
            raise RuntimeError("no Chromium found: run `make browser` or set LUREWATCH_CHROMIUM=/path/to/chromium")
        return {
            "DOWNLOAD_HANDLERS": {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER},
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {
                "executable_path": self.executable_path,
                "headless": self.headless,
                "args": list(self.launch_args),
            },
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": self.navigation_timeout_ms,
            "PLAYWRIGHT_ABORT_REQUEST": "crawler.browser.abort_heavy_request",
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": self.max_pages_per_context,
        }

    def apply(self, settings, priority: str = "spider") -> None:
        """Install the browser settings on (unfrozen) crawler settings, e.g. in a spider's from_crawler."""
        for key, value in self.scrapy_settings().items():
            settings.set(key, value, priority=priority)


# -- what a rendered page does before it is read (site profiles: spiders/profile_browser.py) ----------------
# run_page_plan is the one PageMethod of a profile's browser request. It never raises on a wait that times
# out: it reports it, so the spider can say "stale profile" instead of the download failing as a timeout.

_CAPTURES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
POLL_SECONDS = 0.1


class _Capture:
    def __init__(self, pattern: str):
        self.pattern = re.compile(pattern)
        self.bodies: list[dict] = []
        self.pending: list[asyncio.Future] = []

    async def read(self, response) -> None:
        try:
            self.bodies.append({"url": response.url, "status": response.status, "body": await response.text()})
        except Exception as exc:  # the page navigated away or the body is gone
            self.bodies.append({"url": response.url, "status": response.status, "error": str(exc)})


async def capture_json_responses(page, request) -> None:
    """PLAYWRIGHT page init callback: keep the bodies of the page's own fetch/XHR responses whose URL matches
    request.meta["lurewatch_capture"] (a regex); run_page_plan hands them back."""
    await lock_down_page(page, request)
    capture = _Capture(request.meta["lurewatch_capture"])
    _CAPTURES[page] = capture

    def on_response(response) -> None:
        if response.request.resource_type in ("xhr", "fetch") and capture.pattern.search(response.url):
            capture.pending.append(asyncio.ensure_future(capture.read(response)))

    page.on("response", on_response)


async def _count(page, item: str | None) -> int:
    """How much the page holds: listing items when they can be counted, else DOM elements."""
    if item:
        return await page.locator(item).count()
    return await page.evaluate("document.getElementsByTagName('*').length")


async def _grew(page, item: str | None, before: int, timeout_ms: int) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    while loop.time() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        if await _count(page, item) > before:
            return True
    return False


async def _click_until_gone(page, action: dict, item: str | None, timeout_ms: int) -> tuple[int, str]:
    from playwright.async_api import Error as PlaywrightError

    clicks = 0
    while clicks < action["max"]:
        button = page.locator(action["selector"]).first
        if not await button.count() or not await button.is_visible():
            return clicks, "gone"
        before = await _count(page, item)
        try:
            await button.click(timeout=timeout_ms)
        except PlaywrightError as exc:
            return clicks, f"not clickable: {str(exc).splitlines()[0]}"
        clicks += 1
        if not await _grew(page, item, before, timeout_ms):
            return clicks, "nothing new appeared"
    button = page.locator(action["selector"]).first
    return clicks, "max" if await button.count() and await button.is_visible() else "gone"


async def _scroll_until_still(page, action: dict, item: str | None, timeout_ms: int) -> tuple[int, str]:
    scrolls = 0
    while scrolls < action["max"]:
        before = await _count(page, item)
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        scrolls += 1
        if not await _grew(page, item, before, timeout_ms):
            return scrolls, "end"
    return scrolls, "max"


async def run_page_plan(page, plan: dict) -> dict:
    """PageMethod callable: wait for network idle, then `wait_for`, run the actions, collect captured JSON.

    Returns a report: {"page_type", "network_idle", "wait_for": None|"ok"|"timeout", "actions": [{kind,
    done, stopped}], "json": [{url, status, body}]}.
    """
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    timeout = int(plan.get("timeout_ms") or 15_000)
    report: dict = {"page_type": plan.get("page_type"), "network_idle": True, "wait_for": None,
                    "wait_is_explicit": plan.get("wait_is_explicit", False), "wait_selector": plan.get("wait_for"),
                    "actions": [], "json": []}
    try:
        await page.wait_for_load_state("networkidle", timeout=timeout)
    except PlaywrightTimeout:
        report["network_idle"] = False
    if plan.get("wait_for"):
        try:
            await page.wait_for_selector(plan["wait_for"], state="attached", timeout=timeout)
            report["wait_for"] = "ok"
        except PlaywrightTimeout:
            report["wait_for"] = "timeout"
    for action in plan.get("actions") or ():
        run = _click_until_gone if action["kind"] == "click" else _scroll_until_still
        done, stopped = await run(page, action, plan.get("item"), timeout)
        report["actions"].append({"kind": action["kind"], "selector": action.get("selector"), "max": action["max"],
                                  "done": done, "stopped": stopped})
    if report["actions"]:
        try:
            await page.wait_for_load_state("networkidle", timeout=timeout)
        except PlaywrightTimeout:
            report["network_idle"] = False
    capture = _CAPTURES.pop(page, None)
    if capture is not None:
        if capture.pending:
            await asyncio.wait(capture.pending, timeout=timeout / 1000)
        report["json"] = list(capture.bodies)
    return report


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        ensure()
    else:
        print(find_chromium() or "not found")
