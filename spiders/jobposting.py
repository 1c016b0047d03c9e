"""`jobposting`: generic crawl of a recruitment site that marks its ads up as schema.org JobPosting.

    scrapy crawl jobposting -a urls=https://board.example/jobs -a max_pages=200 -s LUREWATCH_DB=ads.db

From the start URLs it reads each site's robots.txt `Sitemap:` lines and /sitemap.xml (sitemap
indexes and .gz included), follows same-site links breadth-first within `max_pages`, and yields a
JobAd per JobPosting (JSON-LD or microdata). robots.txt rules are obeyed (ROBOTSTXT_OBEY).
"""
from __future__ import annotations

import gzip
import io
import re
from urllib.parse import urljoin, urlsplit

import lxml.etree
from scrapy.http import Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.extract import extract
from crawler.items import JobAd
from crawler.pagehash import page_record, response_sha1
from crawler.urls import canonicalize, is_http_url, same_site

from .base import LurewatchSpider

# Links that never lead to an HTML page.
SKIP_EXTENSIONS = re.compile(
    r"\.(?:pdf|jpe?g|png|gif|webp|svg|ico|css|js|json|zip|gz|rar|7z|mp[34]|avi|mov|docx?|xlsx?|pptx?|woff2?|ttf)$", re.I
)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_LINK_HREFS = lxml.etree.XPath("//a[@href]/@href | //link[@rel='next']/@href", smart_strings=False)


class JobPostingSpider(LurewatchSpider):
    name = "jobposting"
    skips_unchanged_pages = True  # a page fetched with the body of its last fetch is not extracted again
    max_sitemaps = 100  # sitemap documents fetched per crawl (indexes included)
    custom_settings = {
        # breadth-first: listing pages and their ads before deep archives, so max_pages keeps the useful part
        "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.start_urls:
            raise ValueError("jobposting: no start URLs; pass -a urls=URL1,URL2")
        self.sitemaps_requested: set[str] = set()
        self._link_targets: dict[tuple, str | None] = {}  # link_target's memo
        self._followed: set[str] = set()  # link URLs already requested (follow_links skips them at once)

    async def start(self):
        sites = {}
        for url in self.start_urls:
            parts = urlsplit(url)
            sites.setdefault(f"{parts.scheme}://{parts.netloc}", url)
        for url in self.start_urls:
            request = self.start_request(url)
            if request is not None:
                yield request
        for root in sites:
            yield Request(f"{root}/robots.txt", callback=self.parse_robots, errback=self.on_sitemap_error,
                          meta={"dont_obey_robotstxt": True, "lurewatch_root": root}, priority=-1)

    # -- robots.txt and sitemaps -------------------------------------------------
    def parse_robots(self, response: Response):
        sitemaps = list(sitemap_urls_from_robots(response.body, base_url=response.url)) if isinstance(response, TextResponse) else []
        root = response.meta["lurewatch_root"]
        sitemaps.append(f"{root}/sitemap.xml")
        for url in sitemaps:
            request = self.sitemap_request(url)
            if request is not None:
                yield request

    def on_sitemap_error(self, failure):
        request = failure.request
        if "lurewatch_root" in request.meta and isinstance(failure.value, HttpError):
            # no robots.txt (but the host answers): still try the conventional sitemap location
            self.stat("sitemaps/no_robots")
            request_ = self.sitemap_request(f"{request.meta['lurewatch_root']}/sitemap.xml")
            return [request_] if request_ is not None else []
        self.stat("sitemaps/missing")
        self.logger.debug("no sitemap at %s", request.url)
        return []

    def sitemap_request(self, url: str) -> Request | None:
        if not is_http_url(url) or url in self.sitemaps_requested:
            return None
        if len(self.sitemaps_requested) >= self.max_sitemaps:
            self.stat("sitemaps/over_budget")
            return None
        if not any(same_site(url, start) for start in self.start_urls):
            self.stat("sitemaps/offsite")
            return None
        self.sitemaps_requested.add(url)
        # a missing sitemap is normal: handled here, not counted as an HTTP error
        return Request(url, callback=self.parse_sitemap, errback=self.on_sitemap_error, priority=-1,
                       meta={"handle_httpstatus_list": [404, 410]})

    def parse_sitemap(self, response: Response):
        if response.status in (404, 410):
            self.stat("sitemaps/missing")
            return
        body = self.sitemap_body(response)
        if body is None:
            self.stat("sitemaps/invalid")
            return
        try:
            sitemap = Sitemap(body)
        except Exception:  # lxml raises on documents that are not XML at all
            self.stat("sitemaps/invalid")
            self.logger.warning("%s: not a sitemap", response.url)
            return
        self.stat("sitemaps/parsed")
        for entry in self.sitemap_entries(sitemap, response):
            loc = (entry.get("loc") or "").strip()
            if not loc:
                continue
            loc = urljoin(response.url, loc)
            if sitemap.type == "sitemapindex":
                request = self.sitemap_request(loc)
            elif same_site(loc, response.url):
                request = self.request_page(loc)
            else:
                request = None
            if request is not None:
                yield request

    def sitemap_entries(self, sitemap: Sitemap, response: Response):
        """A sitemap's entries, at most LUREWATCH_SITEMAP_MAX_ENTRIES, and none once the page budget is spent."""
        cap = self.config.max_sitemap_entries
        for n, entry in enumerate(sitemap):
            if n >= cap:
                self.stat("sitemaps/entries_over_cap")
                self.logger.warning("%s: more than %d entries, the rest is ignored (LUREWATCH_SITEMAP_MAX_ENTRIES)",
                                    response.url, cap)
                return
            if sitemap.type != "sitemapindex" and self.pages_scheduled >= self.max_pages:
                self.stat("sitemaps/stopped_at_max_pages")
                return
            yield entry

    @staticmethod
    def sitemap_body(response: Response) -> bytes | None:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
                    body = f.read(MAX_SITEMAP_BYTES + 1)
            except OSError:
                return None
            if len(body) > MAX_SITEMAP_BYTES:
                return None
        head = body[:512].lstrip().lower()
        if not (head.startswith(b"<?xml") or b"<urlset" in head or b"<sitemapindex" in head):
            return None
        return body

    # -- pages -----------------------------------------------------------------
    def parse(self, response: Response):
        if not isinstance(response, TextResponse) or not hasattr(response, "xpath"):
            self.stat("pages/not_html")
            return
        self.note_page(response)
        if not response.meta.get("lurewatch_unchanged_page"):  # else its ads were marked seen (crawler/pagehash.py)
            yield from self.ads_from_page(response)
        yield from self.follow_links(response)

    def ads_from_page(self, response: TextResponse):
        found = extract(response.text, response.url, tree=response.selector.root)  # the page parsed once
        items = list(self.page_items(response, found))
        ads = [item for item in items if isinstance(item, JobAd)]
        if ads and len(ads) == len(items) and not found.errors:  # the page gives exactly these ads: skip it next time
            page = page_record(response.url, response_sha1(response), len(ads))
            for ad in ads:
                ad["page"] = page
                if ad.get("snapshot") and ad["snapshot"].get("body") is response.body:
                    ad["snapshot"]["sha1"] = page["sha1"]  # the store does not hash the body again
        yield from items

    def page_items(self, response: TextResponse, found):
        for problem in found.errors:
            self.stat("extract/errors")
            self.note_incomplete(response.url, "extract")  # an ad on this page may be missed
            self.logger.warning("%s: %s", response.url, problem)
        if not found.postings:
            return
        self.stat("pages/with_jobposting")
        page_url = self.page_url(response)
        several = len(found.postings) > 1
        postings = found.postings
        cap = self.config.max_ads_per_page
        if len(postings) > cap:  # a hostile page can mark up thousands of postings
            self.stat("ads/over_page_cap", len(postings) - cap)
            self.logger.warning("%s: %d postings on one page, keeping the first %d (LUREWATCH_MAX_ADS_PER_PAGE)",
                                response.url, len(postings), cap)
            postings = postings[:cap]
        for n, fields in enumerate(postings, 1):
            posting_url = fields.pop("url", None)
            if several:
                own = canonicalize(posting_url) if posting_url and same_site(posting_url, response.url) else None
                if own and own != page_url:
                    # a listing that marks up ads with their own pages: the ad is stored from its page
                    request = self.request_page(own)
                    if request is not None:
                        yield request
                    self.stat("ads/deferred_to_own_page")
                    continue
                # several ads on one page, none with a page of its own: tell them apart by id or position
                fields["url"] = f"{page_url}#job-{fields.get('external_id') or n}"
            self.stat("ads/extracted")
            yield self.make_ad(response, fields)

    def follow_links(self, response: TextResponse):
        hrefs = _LINK_HREFS(response.selector.root)  # plain strings, no parsel Selector per link
        page_url = response.url
        parts = urlsplit(page_url)
        site = (parts.scheme, parts.netloc)  # once per page, not per link
        followed = self._followed
        for href in dict.fromkeys(hrefs):  # a page's menus repeat the same links
            url = self.link_target(page_url, href, site)
            if url is None:
                continue
            if url == OFFSITE:
                self.stat("links/offsite")
                continue
            if url in followed:  # requested already: request_page would say so, at more cost
                continue
            request = self.request_page(url)
            if request is not None or self.already_requested(url):
                if len(followed) > 200_000:
                    followed.clear()
                followed.add(url)
            if request is not None:
                yield request

    def link_target(self, page_url: str, href: str, site: tuple[str, str] | None = None):
        """The page URL a link leads to (no fragment), OFFSITE, or None when it is not a page link. Memoised per
        crawl: a root-relative href gives the same answer on every page of a site (`site`: the page's (scheme,
        netloc), when the caller has it)."""
        href = href.strip()
        if href.startswith("/") and not href.startswith("//"):
            if site is None:
                parts = urlsplit(page_url)
                site = (parts.scheme, parts.netloc)
            key = (*site, href)
        else:
            key = (page_url, href)
        try:
            return self._link_targets[key]
        except KeyError:
            pass
        if len(self._link_targets) > 200_000:
            self._link_targets.clear()
        target = self._link_targets[key] = _link_target(page_url, href)
        return target


OFFSITE = "offsite"  # link_target: a link to another site


def _link_target(page_url: str, href: str) -> str | None:
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    url = urljoin(page_url, href)
    if not is_http_url(url) or SKIP_EXTENSIONS.search(urlsplit(url).path):
        return None
    if not same_site(url, page_url):
        return OFFSITE
    return url.split("#", 1)[0]
