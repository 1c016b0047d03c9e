"""`sitemap`: ads from the pages a site's sitemap(s) list, nothing else.

    scrapy crawl sitemap -a urls=https://board.example/sitemap.xml
    scrapy crawl sitemap -a urls=https://board.example/ -a match=/jobs/      # robots.txt Sitemap: lines
    scrapy crawl sitemap -a urls=https://board.example/robots.txt -a profile=demo_classifieds

A start URL is a sitemap (or sitemap index, .gz too), a robots.txt, or a site root (its robots.txt
`Sitemap:` lines, else /sitemap.xml). Every listed page on the same site whose URL matches `match`
(a regular expression, optional) is fetched, within max_pages; its ads come from schema.org JobPosting
markup and, with `-a profile=NAME`, that profile's detail selectors (they win over the markup).
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from scrapy.http import Request, Response, TextResponse
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.extract import extract
from crawler.urls import same_site

from .jobposting import JobPostingSpider
from .profiles_schema import load_profile


class SitemapSpider(JobPostingSpider):
    name = "sitemap"

    def __init__(self, *args, match: str | None = None, profile: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            self.match = re.compile(match) if match else None
        except re.error as exc:
            raise ValueError(f"match: invalid regular expression {match!r}: {exc}") from None
        self.profile = load_profile(profile) if profile else None
        self.crawl_args.update(match=match, profile=self.profile.name if self.profile else None)

    async def start(self):
        for url in self.start_urls:
            path = urlsplit(url).path
            if path.endswith("robots.txt"):
                yield Request(url, callback=self.parse_robots, errback=self.on_sitemap_error,
                              meta={"dont_obey_robotstxt": True, "lurewatch_root": url[: -len("/robots.txt")]})
            elif path in ("", "/"):
                root = url.rstrip("/")
                yield Request(f"{root}/robots.txt", callback=self.parse_robots, errback=self.on_sitemap_error,
                              meta={"dont_obey_robotstxt": True, "lurewatch_root": root})
            else:
                request = self.sitemap_request(url)
                if request is not None:
                    yield request

    def parse_robots(self, response: Response):
        sitemaps = list(sitemap_urls_from_robots(response.body, base_url=response.url)) if isinstance(response, TextResponse) else []
        if not sitemaps:
            sitemaps = [f"{response.meta['lurewatch_root']}/sitemap.xml"]
        for url in sitemaps:
            request = self.sitemap_request(url)
            if request is not None:
                yield request

    def parse_sitemap(self, response: Response):
        body = self.sitemap_body(response)
        try:
            sitemap = Sitemap(body) if body is not None else None
        except Exception:  # lxml raises on documents that are not XML at all
            sitemap = None
        if sitemap is None:
            self.page_error(response.url, "not_a_sitemap")
            self.logger.warning("%s: not a sitemap", response.url)
            return
        self.stat("sitemaps/parsed")
        for entry in self.sitemap_entries(sitemap, response):
            loc = urljoin(response.url, (entry.get("loc") or "").strip())
            if not loc or loc == response.url:
                continue
            if sitemap.type == "sitemapindex":
                request = self.sitemap_request(loc)
            elif not same_site(loc, response.url):
                self.stat("sitemaps/offsite_urls")
                request = None
            elif self.match is not None and not self.match.search(loc):
                self.stat("sitemaps/unmatched_urls")
                request = None
            else:
                request = self.request_page(loc, callback=self.parse)
            if request is not None:
                yield request

    def source_of(self, url: str) -> str:
        return self.profile.source_name if self.profile is not None and self.profile.detail else super().source_of(url)

    def parse(self, response: Response):
        """A page listed in a sitemap: its JobPosting(s), or the profile's detail fields."""
        if not isinstance(response, TextResponse) or not hasattr(response, "xpath"):
            self.stat("pages/not_html")
            return
        self.note_page(response)
        if self.profile is None or not self.profile.detail:
            found = list(self.ads_from_page(response))
            if not found:
                self.stat("sitemaps/pages_without_ads")
            yield from found
            return
        fields = self.profile.detail_fields(response.selector, response.url)
        postings = extract(response.text, response.url).postings
        if len(postings) == 1:
            for key, value in postings[0].items():
                if key != "url" and value and not fields.get(key):
                    fields[key] = value
        if not (fields.get("title") or fields.get("description")):
            self.stat("sitemaps/pages_without_ads")
            return
        self.stat("ads/extracted")
        yield self.make_ad(response, {**fields, "source": self.profile.source_name})
