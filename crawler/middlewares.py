"""Downloader middlewares: politeness, safety, incremental fetching and error accounting.

Enabled in crawler/settings.py (DOWNLOADER_MIDDLEWARES). Order matters; process_request runs in
increasing priority, process_response/process_exception in decreasing priority:

     50 ErrorAccountingMiddleware      sees only final failures (after retries) -> lurewatch/errors/<kind>
     60 SSRFGuardMiddleware            every request, including robots.txt and redirect targets
    100 LurewatchRobotsTxtMiddleware   crawler/robots.py: fails closed, fixed for concurrent waiters
    500 UserAgentMiddleware (ours)     identifying UA built from LUREWATCH_CONTACT_URL
    560 RetryAfterMiddleware           429/503 + Retry-After: wait (capped), then retry
    570 ConditionalRequestMiddleware   If-None-Match / If-Modified-Since; 304 -> ad seen, not re-assessed;
                                       a page body hashed as at its last fetch -> its ads seen (crawler/pagehash.py)
    580 CharsetMiddleware              mislabelled / unlabelled legacy charsets
    590 HttpCompressionMiddleware (ours)  counts decompression bombs
    600 RedirectMiddleware (ours)      counts redirect loops
"""
from __future__ import annotations

import email.utils
import logging
import re
import sqlite3
import time

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.resolver import dnscache
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import task

from .netguard import NetGuard
from .pagehash import SHA1_META, response_sha1, unchanged_page_ads
from .sqlitetx import StoreError

logger = logging.getLogger(__name__)


class SSRFBlocked(IgnoreRequest):
    """The request targets a private/loopback/metadata address of a host the user did not name."""


class NotModified(IgnoreRequest):
    """The server answered 304 to our conditional request: the ad is unchanged and was marked seen."""


# -- identity ------------------------------------------------------------------------------------
def build_user_agent(settings) -> str:
    """USER_AGENT unless set on the command line/spider, else one built from LUREWATCH_CONTACT_URL."""
    from scrapy.settings import SETTINGS_PRIORITIES

    if settings.getpriority("USER_AGENT") > SETTINGS_PRIORITIES["project"]:
        return settings["USER_AGENT"]
    contact = settings.get("LUREWATCH_CONTACT_URL") or "https://github.com/lurewatch/lurewatch"
    return f"Lurewatch/0.1 (+{contact}; job-ad safety research)"


class LurewatchUserAgentMiddleware(UserAgentMiddleware):
    @classmethod
    def from_crawler(cls, crawler):
        mw = cls(build_user_agent(crawler.settings))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw


# -- SSRF ----------------------------------------------------------------------------------------
class SSRFGuardMiddleware:
    """Blocks private/loopback/link-local/CGNAT/multicast/metadata targets of hosts nobody trusted.

    Trusted: LUREWATCH_TRUSTED_HOSTS (list or comma-separated "host" / "host:port") plus
    spider.trusted_hosts. Redirect targets come back through process_request, so they are checked
    too. Resolved addresses are pinned in Scrapy's DNS cache, so the downloader connects to the
    address that was checked.
    """

    def __init__(self, crawler, trusted, enabled: bool):
        if not enabled:
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.guard = NetGuard(trusted)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(crawler, s.getlist("LUREWATCH_TRUSTED_HOSTS"), s.getbool("LUREWATCH_SSRF_GUARD", True))

    def spider_opened(self, spider):
        self.guard.trust(getattr(spider, "trusted_hosts", None) or ())

    async def process_request(self, request):
        reason = await self.guard.check(request.url)
        if reason:
            self.stats.inc_value("lurewatch/ssrf_blocked")
            if request.meta.get("redirect_urls"):
                self.stats.inc_value("lurewatch/ssrf_blocked/redirect")
            logger.warning("SSRF guard blocked %s (%s)", request.url, reason)
            raise SSRFBlocked(f"SSRF guard: {request.url}: {reason}")
        host = urlparse_cached(request).hostname or ""
        addrs = [a for a in self.guard.resolved(host) if ":" not in a]
        if addrs and host not in dnscache and host != addrs[0]:
            dnscache[host] = addrs[0]  # pin: the downloader connects to a checked address
        return None


# -- 429 / Retry-After ---------------------------------------------------------------------------
def parse_retry_after(value: str | bytes | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryAfterMiddleware:
    """Honours Retry-After on 429/503 within LUREWATCH_RETRY_AFTER_MAX seconds: waits, slows the
    whole download slot down, then retries (the retry counts against RETRY_TIMES)."""

    STATUSES = (429, 503)

    def __init__(self, crawler, cap: float, max_retry_times: int):
        self.crawler = crawler
        self.stats = crawler.stats
        self.cap = cap
        self.max_retry_times = max_retry_times

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("RETRY_ENABLED"):
            raise NotConfigured
        return cls(crawler, s.getfloat("LUREWATCH_RETRY_AFTER_MAX", 60.0), s.getint("RETRY_TIMES"))

    async def process_response(self, request, response):
        if response.status not in self.STATUSES or request.meta.get("dont_retry"):
            return response
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        if wait is None:
            return response  # the stock RetryMiddleware handles it
        wait = min(wait, self.cap)
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"retry_after_{response.status}",
                                  max_retry_times=request.meta.get("max_retry_times", self.max_retry_times))
        if retry is None:
            return response  # out of retries: ErrorAccountingMiddleware counts it
        self.stats.inc_value("lurewatch/retry_after/count")
        self.stats.inc_value("lurewatch/retry_after/waited_seconds", wait)
        from twisted.internet import reactor

        slot = self._slot(request)
        if slot is not None and wait > slot.delay:  # the whole host waits, then the old pace resumes
            previous, slot.delay = slot.delay, wait
            reactor.callLater(wait, lambda: setattr(slot, "delay", previous) if slot.delay == wait else None)
        await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))
        return retry

    def _slot(self, request):
        downloader = getattr(self.crawler.engine, "downloader", None)
        if downloader is None:
            return None
        return downloader.slots.get(downloader.get_slot_key(request))


# -- conditional requests ------------------------------------------------------------------------
class ConditionalRequestMiddleware:
    """Detail pages already stored are fetched with If-None-Match / If-Modified-Since.

    A 304 marks the ad seen in this crawl (last_seen) without re-fetching or re-assessing it and
    ends the request with NotModified (an IgnoreRequest; errbacks should let it pass quietly).
    A 404/410 on a known ad URL marks the ad removed (it keeps its snapshots).
    Conditional requests carry dont_cache, so HttpCacheMiddleware neither answers nor stores them.
    """

    def __init__(self, crawler, enabled: bool):
        if not enabled or not crawler.settings.get("LUREWATCH_DB"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.hash_first = crawler.settings.getbool("LUREWATCH_HASH_FIRST", True)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings.getbool("LUREWATCH_CONDITIONAL_REQUESTS", True))

    @property
    def store(self):
        from .crawlrecord import crawl_store

        return crawl_store(self.crawler)

    def process_request(self, request):
        request.meta.pop(SHA1_META, None)  # a copied request (a retry) gets the hash of its own body
        if request.method != "GET" or request.meta.get("lurewatch_unconditional"):
            return None
        known = self.store.known_ad(request.url)
        if not known:
            return None
        request.meta["lurewatch_ad_id"] = known["id"]
        if b"If-None-Match" in request.headers or b"If-Modified-Since" in request.headers:
            return None
        if known.get("etag"):
            request.headers[b"If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            request.headers[b"If-Modified-Since"] = known["last_modified"]
        if known.get("etag") or known.get("last_modified"):
            request.meta["lurewatch_conditional"] = True
            request.meta["dont_cache"] = True
            self.stats.inc_value("lurewatch/conditional/sent")
        return None

    def process_response(self, request, response):
        if (self.hash_first and response.status == 200 and request.method == "GET"
                and getattr(self.crawler.spider, "skips_unchanged_pages", False)):
            self.unchanged_by_hash(request, response)
        ad_id = request.meta.get("lurewatch_ad_id")
        if ad_id is None:
            return response
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        if response.status == 304 and request.meta.get("lurewatch_conditional"):
            written(self.crawler, crawl_writer(self.crawler).mark_seen(ad_id, crawl_id))  # batched, off this thread
            self.stats.inc_value("lurewatch/ads/not_modified")
            raise NotModified(f"not modified: {request.url}")
        if response.status in (404, 410):
            removed = crawl_writer(self.crawler).mark_removed(ad_id, crawl_id, reason=f"http_{response.status}")
            written(self.crawler, removed.addCallback(
                lambda marked: marked and self.stats.inc_value("lurewatch/ads/removed")))
            self.stats.inc_value("lurewatch/ads/gone")
            request.meta["lurewatch_gone"] = True
        return response


    def unchanged_by_hash(self, request, response) -> None:
        """A page whose body is that of its last fetch (crawler/pagehash.py): its ads are marked seen as on a 304
        and the spider skips the page's ads (meta lurewatch_unchanged_page); links are still followed."""
        try:
            ad_ids = self.store.retrying(lambda: unchanged_page_ads(self.store.db.conn, response.url,
                                                                   lambda: response_sha1(response, request.meta)))
        except (StoreError, sqlite3.Error):
            return  # extracted as usual
        if not ad_ids:
            return
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        for ad_id in ad_ids:
            written(self.crawler, crawl_writer(self.crawler).mark_seen(ad_id, crawl_id))
        request.meta["lurewatch_unchanged_page"] = True
        self.stats.inc_value("lurewatch/unchanged_by_hash")
        self.stats.inc_value("lurewatch/ads/unchanged_by_hash", len(ad_ids))


def written(crawler, d) -> None:
    """A failed seen/removed mark is a store error of the crawl (no take-downs are then marked)."""
    def failed(failure):
        crawler.stats.inc_value("lurewatch/errors/store")
        logger.error("cannot record a seen/removed mark: %s", failure.getErrorMessage())

    d.addErrback(failed)


def crawl_writer(crawler):
    from .crawlrecord import crawl_writer as writer

    return writer(crawler)


# -- charsets ------------------------------------------------------------------------------------
LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "cp1252", "windows-1252", "us-ascii", "ascii",
                 "iso-8859-15", "cp819"}
# Legacy encodings guessed from <html lang> when nothing declares a charset and the bytes are not UTF-8.
LANG_ENCODINGS = {"th": "cp874", "vi": "cp1258", "zh-tw": "big5", "zh-hk": "big5", "zh-hant": "big5", "zh": "gb18030",
                  "ja": "shift_jis", "ko": "euc-kr", "km": "utf-8", "my": "utf-8", "lo": "utf-8", "ru": "cp1251"}
_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(rb"""<html[^>]*\blang\s*=\s*["']?([A-Za-z-]+)""", re.I)


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def fix_encoding(body: bytes, content_type: str | bytes | None) -> str | None:
    """The encoding to use instead of the declared one, or None when the declaration is fine.

    - header says latin-1/cp1252 but the bytes are valid UTF-8 with non-ASCII -> utf-8
    - declared (header, else <meta>) encoding cannot decode the bytes but the other declaration can -> that one
    - nothing declared and not UTF-8 -> guess from <html lang> (th -> cp874, vi -> cp1258, zh-TW -> big5 ...)
    """
    if isinstance(content_type, str):
        content_type = content_type.encode("latin-1", "replace")
    m = _CHARSET.search(content_type or b"")
    header = m.group(1).decode("ascii").lower() if m else None
    m = _META_CHARSET.search(body[:4096])
    meta = m.group(1).decode("ascii").lower() if m else None
    declared = header or meta
    non_ascii = not body.isascii()  # C speed (a byte-by-byte any() was 13% of a crawl)
    if not non_ascii or body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    if declared in LATIN1_LABELS:
        if _decodes(body, "utf-8"):
            return "utf-8"
        if meta and meta != declared and meta not in LATIN1_LABELS and _decodes(body, meta):
            return meta
        return None
    if declared:
        if _decodes(body, declared):
            return None
        for other in (meta, header, "utf-8"):
            if other and other != declared and _decodes(body, other):
                return other
        return None
    if _decodes(body, "utf-8"):
        return "utf-8"
    m = _HTML_LANG.search(body[:4096])
    if m:
        lang = m.group(1).decode("ascii").lower()
        for key in (lang, lang.split("-")[0]):
            enc = LANG_ENCODINGS.get(key)
            if enc and _decodes(body, enc):
                return enc
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body).best()
        return best.encoding if best else None
    except ImportError:  # pragma: no cover
        return None


class CharsetMiddleware:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_response(self, request, response):
        if not isinstance(response, TextResponse) or not response.body:
            return response
        encoding = fix_encoding(response.body, response.headers.get(b"Content-Type"))
        if encoding and encoding.replace("_", "-") != (response.encoding or "").replace("_", "-"):
            self.stats.inc_value(f"lurewatch/charset/fixed/{encoding}")
            return response.replace(encoding=encoding)
        return response


# -- error accounting ----------------------------------------------------------------------------
_EXCEPTION_KINDS = {
    "DownloadTimeoutError": "timeout", "TimeoutError": "timeout", "UserTimeoutError": "timeout",
    "CannotResolveHostError": "dns", "DNSLookupError": "dns",
    "DownloadConnectionRefusedError": "connection_refused", "ConnectionRefusedError": "connection_refused",
    "ResponseDataLossError": "truncated", "_DataLoss": "truncated",
    "DownloadCancelledError": "too_large", "CancelledError": "too_large",
    "ConnectionDone": "connection_lost", "ConnectionLost": "connection_lost", "ResponseFailed": "connection_lost",
    "DownloadFailedError": "connection_lost", "ResponseNeverReceived": "connection_lost",
    "TunnelError": "proxy", "ConnectError": "connect", "SSLError": "tls",
}


def error_kind(exc: BaseException) -> str:
    if getattr(exc, "lurewatch_kind", None):
        return exc.lurewatch_kind
    name = type(exc).__name__
    if name in ("DownloadCancelledError", "CancelledError") and "size" not in str(exc).lower():
        return "cancelled"
    kind = _EXCEPTION_KINDS.get(name)
    if kind:
        return kind
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def count_error(crawler, kind: str, request) -> None:
    """Count one failed request, and charge it to its board (crawler.incremental.SourceLedger).
    The errback sees meta["lurewatch_error_kind"] and must not count it again."""
    from .incremental import request_source, source_ledger

    crawler.stats.inc_value(f"lurewatch/errors/{kind}")
    source_ledger(crawler).incomplete(request_source(crawler, request), kind, error=True)
    request.meta["lurewatch_error_kind"] = kind
    logger.warning("%s: %s", request.url, kind)


class ErrorAccountingMiddleware:
    """Counts every request that finally failed (after retries), by kind, in lurewatch/errors/<kind>.

    HTTP statuses count as http_<status> (404/410 of a known ad are removals, not errors;
    a missing robots.txt is not an error). Ignored requests (robots, SSRF, 304) are not errors.
    """

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _shutting_down(self) -> bool:
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(engine, "_slot", None)
        return engine is None or not engine.running or bool(getattr(slot, "closing", False))

    def process_response(self, request, response):
        if response.status >= 400 and not request.meta.get("lurewatch_gone") \
                and not request.meta.get("dont_obey_robotstxt") and response.status not in request.meta.get("handle_httpstatus_list", ()):
            count_error(self.crawler, f"http_{response.status}", request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, IgnoreRequest) and not request.meta.get("dont_obey_robotstxt"):
            kind = error_kind(exception)
            if kind == "cancelled" and not self._shutting_down():
                # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE without a message saying so
                kind = "too_large"
            count_error(self.crawler, kind, request)
        return None


class CountingHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Stock decompression (capped at DOWNLOAD_MAXSIZE) that also counts bombs as errors/too_large."""

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        mw.crawler = crawler
        return mw

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            count_error(self.crawler, "too_large", request)
            raise


class CountingRedirectMiddleware(RedirectMiddleware):
    """Stock redirects that count loops / too many hops as errors/redirect_loop."""

    def _redirect(self, redirected, request, reason):
        chain = {*(request.meta.get("redirect_urls") or []), request.url}
        if redirected.url in chain:  # a -> b -> a: the dupe filter would drop it without a word
            count_error(self.crawler, "redirect_loop", request)
            raise IgnoreRequest(f"redirect loop: {request.url} -> {redirected.url}")
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            count_error(self.crawler, "redirect_loop", request)
            raise
