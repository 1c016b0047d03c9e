"""LurewatchSpider: what every Lurewatch spider shares.

- start URLs (`-a urls=URL1,URL2` or a list) and `trusted_hosts` (hosts given by the user, which a
  later SSRF guard lets through even when they are loopback/private);
- a page budget (`max_pages`, from `-a max_pages=N` or LUREWATCH_MAX_PAGES): `request_page()` stops
  scheduling past it and counts what it skipped;
- outcome bookkeeping in crawl stats under `lurewatch/...`: start URLs ok/failed by kind, errors by kind
  (dns, connection, timeout, http_404, ...), pages parsed;
- `make_ad(response, fields)`: a JobAd with canonical URL, aliases, source, fetch metadata and snapshot.

Subclasses implement `parse(response)`; start requests go through `start_request(url)`.
"""
from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

import lxml.etree
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.items import JobAd
from crawler.urls import canonical_url, canonicalize, is_http_url, site_key

_CANONICAL_HREF = lxml.etree.XPath(
    '//link[contains(concat(" ", normalize-space(translate(@rel, "CANONICAL", "canonical")), " "), " canonical ")]/@href',
    smart_strings=False)


def _split(value: Any) -> list[str]:
    """A comma/whitespace separated string or a list -> list of non-empty strings."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [str(v).strip() for v in value if str(v).strip()]


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, got {number}")
    return number


@dataclass(frozen=True)
class CrawlConfig:
    """Crawl bounds read once from the settings."""

    max_pages: int = 500
    trusted_hosts: frozenset[str] = frozenset()
    max_ads_per_page: int = 200
    max_sitemap_entries: int = 50_000

    @classmethod
    def from_settings(cls, settings) -> "CrawlConfig":
        return cls(
            max_pages=_positive_int(settings.get("LUREWATCH_MAX_PAGES", 500), "LUREWATCH_MAX_PAGES"),
            max_ads_per_page=_positive_int(settings.get("LUREWATCH_MAX_ADS_PER_PAGE", 200), "LUREWATCH_MAX_ADS_PER_PAGE"),
            max_sitemap_entries=_positive_int(settings.get("LUREWATCH_SITEMAP_MAX_ENTRIES", 50_000),
                                              "LUREWATCH_SITEMAP_MAX_ENTRIES"),
            trusted_hosts=frozenset(h.lower() for h in _split(settings.get("LUREWATCH_TRUSTED_HOSTS"))),
        )


# Exception class name -> kind; the same names crawler.middlewares.ErrorAccountingMiddleware counts.
EXCEPTION_KINDS = {
    "DownloadTimeoutError": "timeout", "TimeoutError": "timeout", "UserTimeoutError": "timeout", "TCPTimedOutError": "timeout",
    "CannotResolveHostError": "dns", "DNSLookupError": "dns",
    "DownloadConnectionRefusedError": "connection_refused", "ConnectionRefusedError": "connection_refused",
    "ConnectionDone": "connection_lost", "ConnectionLost": "connection_lost", "ResponseFailed": "connection_lost",
    "DownloadFailedError": "connection_lost", "ResponseNeverReceived": "connection_lost",
    "ConnectError": "connect", "NoRouteError": "connect", "SSLError": "tls",
}


def error_kind(failure) -> str:
    """Short name of why a request failed: dns, connection_refused, timeout, http_404, robots, ..."""
    exc = failure.value
    if getattr(exc, "lurewatch_kind", None):  # e.g. crawler.robots.RobotsUnavailable
        return exc.lurewatch_kind
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    name = type(exc).__name__
    if isinstance(exc, IgnoreRequest):
        if name == "NotModified":
            return "not_modified"
        if name == "SSRFBlocked":
            return "ssrf_blocked"
        return "robots" if "robots.txt" in str(exc).lower() else "ignored"
    return EXCEPTION_KINDS.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class LurewatchSpider(scrapy.Spider):
    """Base of all Lurewatch spiders (see module docstring). It has no `name`: Scrapy does not list or crawl it."""

    @classmethod
    def accepted_arguments(cls) -> list[str]:
        """Names of the `-a NAME=VALUE` arguments this spider takes (from the __init__ signatures)."""
        names: list[str] = []
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is not None:
                names.extend(p.name for p in inspect.signature(init).parameters.values()
                             if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
            if klass is LurewatchSpider:
                break
        return list(dict.fromkeys(names))

    def __new__(cls, *args, **kwargs):
        # before any __init__ runs, so a misspelt argument is named as such (not as a missing one)
        cls.check_arguments(kwargs)
        return super().__new__(cls, *args, **kwargs)

    @classmethod
    def check_arguments(cls, kwargs: dict) -> None:
        """Scrapy sets unknown `-a` arguments as attributes without a word: refuse them, naming the accepted ones
        (names starting with "_", such as scrapyd's _job, are let through)."""
        accepted = cls.accepted_arguments()
        unknown = [k for k in kwargs if k not in accepted and not k.startswith("_")]
        if not unknown:
            return
        hints = [f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, accepted, n=1)) else ""
                 for k in unknown]
        listed = ", ".join(f"-a {k}=...{h}" for k, h in zip(unknown, hints))
        raise ValueError(f"spider {cls.name!r}: unknown argument {listed}; it accepts: "
                         + ", ".join(f"-a {a}=" for a in accepted))

    def __init__(self, urls: str | Iterable[str] | None = None, max_pages: int | str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_urls = list(dict.fromkeys(_split(urls) or list(getattr(self, "start_urls", []) or [])))
        bad = [u for u in self.start_urls if not is_http_url(u)]
        if bad:
            raise ValueError(f"not an http(s) URL: {bad[0]}")
        self._max_pages_arg = _positive_int(max_pages, "max_pages") if max_pages not in (None, "") else None
        self.config = CrawlConfig()
        self.max_pages = self._max_pages_arg or self.config.max_pages
        # scheme://host:port of each start URL: the SSRF guard trusts exactly the sites given, not other ports
        self.trusted_hosts: set[str] = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc.lower()}" for u in self.start_urls}
        self.pages_scheduled = 0
        self.start_failures: dict[str, str] = {}  # start URL -> error kind
        self._seen: set[str] = set()
        self.crawl_args = {"urls": self.start_urls, "max_pages": self._max_pages_arg}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = CrawlConfig.from_settings(crawler.settings)
        spider.max_pages = spider._max_pages_arg or spider.config.max_pages
        spider.trusted_hosts |= set(spider.config.trusted_hosts)
        spider.crawl_args["max_pages"] = spider.max_pages
        return spider

    # -- stats ----------------------------------------------------------------
    def stat(self, key: str, count: int = 1) -> None:
        if getattr(self, "crawler", None) is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"lurewatch/{key}", count)

    # -- requests -------------------------------------------------------------
    async def start(self):
        for url in self.start_urls:
            request = self.start_request(url)
            if request is not None:
                yield request

    def start_request(self, url: str, **kwargs) -> Request | None:
        """A request for a start URL: counted in the page budget, outcome recorded in stats."""
        meta = {**kwargs.pop("meta", {}), "lurewatch_start": True}
        return self.request_page(url, callback=self._start_response, meta=meta, **kwargs)

    def request_page(self, url: str, callback=None, *, meta: dict | None = None, errback=None,
                     **kwargs) -> Request | None:
        """A request for a page, or None when it was already scheduled or the page budget is spent."""
        key = canonicalize(url)
        if key in self._seen:
            return None
        if self.pages_scheduled >= self.max_pages:
            self.stat("pages/over_budget")
            self.note_incomplete(url, "max_pages")
            if self.crawler.stats.get_value("lurewatch/max_pages_reached") is None:
                self.crawler.stats.set_value("lurewatch/max_pages_reached", self.max_pages)
                self.logger.info("max_pages=%d reached: not following more links", self.max_pages)
            return None
        self._seen.add(key)
        self.pages_scheduled += 1
        self.stat("pages/scheduled")
        return Request(url, callback=callback or self.parse, errback=errback or self.on_error, meta=meta or {},
                       **kwargs)

    def already_requested(self, url: str) -> bool:
        return canonicalize(url) in self._seen

    def source_of(self, url: str) -> str:
        """The board (the `source` of its ads) a URL of this crawl belongs to: its site, unless the
        spider names its ads' source otherwise (profiles, Telegram channels)."""
        return site_key(url)

    def note_incomplete(self, url: str, why: str) -> None:
        """This URL's board was not walked completely (no take-downs on it in this crawl)."""
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            from crawler.incremental import source_ledger

            source_ledger(crawler).incomplete(self.source_of(url), why)

    def page_error(self, url: str, kind: str) -> None:
        """A page of this crawl failed in the spider: counted in lurewatch/errors/<kind>, charged to its board."""
        self.stat(f"errors/{kind}")
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            from crawler.incremental import source_ledger

            source_ledger(crawler).incomplete(self.source_of(url), kind, error=True)

    def _start_response(self, response: Response):
        self.stat("start/ok")
        return self.parse(response)

    def on_error(self, failure):
        """Errback of page requests: records why start URLs failed.

        Errors by kind are counted (once) by crawler.middlewares.ErrorAccountingMiddleware.
        """
        request = failure.request
        kind = error_kind(failure)
        if kind == "robots":
            self.stat("skipped/robots")
        if not request.meta.get("lurewatch_start"):
            return
        if kind == "not_modified":  # answered 304: the page is there and unchanged
            self.stat("start/ok")
            return
        self.start_failures[request.url] = kind
        self.stat(f"start/failed/{kind}")
        self.logger.warning("start URL %s failed: %s", request.url, kind)

    def note_page(self, response: Response) -> None:
        """Call once per page parsed."""
        self.stat("pages/parsed")

    # -- items ----------------------------------------------------------------
    def page_url(self, response: Response) -> str:
        """Canonical URL of a page: same-site rel=canonical, else its final URL, canonicalised (the last page's
        answer is kept: a page's items ask again)."""
        memo = getattr(self, "_page_url_memo", None)
        if memo is not None and memo[0] is response:
            return memo[1]
        href = None
        if hasattr(response, "xpath") and getattr(response.selector, "type", None) in ("html", "xml"):
            hrefs = _CANONICAL_HREF(response.selector.root)  # compiled once, on the page parsed once
            href = hrefs[0] if hrefs else None
        url = canonical_url(response.url, href)
        self._page_url_memo = (response, url)
        return url

    def page_aliases(self, response: Response) -> list[str]:
        """Every URL this page was reached through: request URL, redirect sources, final URL, and their canonical forms."""
        raw = [
            *(response.meta.get("redirect_urls") or []),
            response.request.url if response.request is not None else None,
            response.url,
        ]
        out: list[str] = []
        for u in raw:
            if u:
                out.extend((u, canonicalize(u)))
        return list(dict.fromkeys(out))

    def make_ad(self, response: Response | None, fields: dict[str, Any]) -> JobAd:
        """A JobAd from extracted fields plus what the response tells (URL identity, headers, snapshot).

        If `fields` has a "url", that is the ad's URL (e.g. one of several postings on a listing page)
        and the page's own URLs are not aliases of it; otherwise the ad is the page. Without a response
        (its page could not be fetched) the ad needs its "url" and has no snapshot.
        """
        fields = dict(fields)
        explicit_url = fields.pop("url", None)
        extra_aliases = list(fields.pop("aliases", None) or [])
        if explicit_url:
            url = explicit_url
            aliases = extra_aliases
        else:
            url = self.page_url(response)
            aliases = [*self.page_aliases(response), *extra_aliases]
        ad = JobAd()
        for key, value in fields.items():
            if key in JobAd.fields and value not in (None, ""):
                ad[key] = value
        ad["url"] = url
        ad["aliases"] = [a for a in dict.fromkeys(aliases) if a and a != url]
        ad["source"] = fields.get("source") or site_key(url)
        ad["spider"] = self.name
        if response is None:
            return ad
        for header, key in ((b"ETag", "etag"), (b"Last-Modified", "last_modified")):
            value = response.headers.get(header)
            if value:
                ad[key] = value.decode("latin-1")
        content_type = response.headers.get(b"Content-Type")
        ad["snapshot"] = {
            "url": response.url,
            "status": response.status,
            "content_type": content_type.decode("latin-1") if content_type else None,
            "body": response.body,
        }
        return ad
