"""The `profile` spider: crawls one job board described by a site profile (spiders/profiles/*.yaml).

    scrapy crawl profile -a name=jobsdb_hk
    scrapy crawl profile -a name=path/to/board.yaml -a urls=http://127.0.0.1:8000/ -a max_pages=5
    lurewatch crawl --profile jobsdb_hk

Listing pages (start URLs, then `listing.next`) give either the ads themselves (`listing_fields`) or links
to detail pages (`listing.link` -> `detail` fields). With `browser: true` every page of the profile is
rendered in headless Chromium through scrapy-playwright; otherwise Playwright is never started.
"""
from __future__ import annotations

from scrapy.http import Response

from crawler.browser import BrowserConfig, guarded_abort_request
from crawler.netguard import NetGuard
from crawler.extract import extract_jobpostings
from crawler.urls import canonicalize, host_of
from spiders.base import LurewatchSpider
from spiders.profiles_schema import Profile, ProfileError, load_profile


def apply_politeness(settings, profile: Profile) -> None:
    """A profile can only make a crawl gentler: longer delay, fewer concurrent requests, robots obeyed."""
    pol = profile.politeness
    if pol.download_delay is not None and pol.download_delay > settings.getfloat("DOWNLOAD_DELAY", 0):
        settings.set("DOWNLOAD_DELAY", pol.download_delay, priority="spider")
    if pol.concurrency is not None:
        for key in ("CONCURRENT_REQUESTS_PER_DOMAIN", "CONCURRENT_REQUESTS"):
            if pol.concurrency < settings.getint(key, 16):
                settings.set(key, pol.concurrency, priority="spider")
    settings.set("ROBOTSTXT_OBEY", True, priority="spider")


def browser_meta(profile: Profile, config: BrowserConfig | None) -> dict:
    """Request meta that sends a request through Chromium (empty for non-browser profiles)."""
    if not profile.browser:
        return {}
    from scrapy_playwright.page import PageMethod

    meta: dict = {"playwright": True}
    if profile.wait_for is not None:
        timeout = config.navigation_timeout_ms if config else 30_000
        meta["playwright_page_methods"] = [
            PageMethod("wait_for_selector", profile.wait_for.alternatives[0].query, state="attached", timeout=timeout)
        ]
    return meta


class ProfileSpider(LurewatchSpider):
    name = "profile"

    def __init__(self, *args, profile: str | None = None, urls=None, max_pages=None, **kwargs):
        # `-a name=NAME` names the profile; the spider itself stays "profile".
        profile_name = kwargs.pop("name", None) or profile
        if not profile_name:
            raise ValueError("which profile? use -a name=NAME (see `lurewatch profiles list`) or -a name=path/to/profile.yaml")
        self.profile = load_profile(profile_name)  # ProfileError names file, line and key
        super().__init__(*args, urls=urls or list(self.profile.start_urls), max_pages=max_pages, **kwargs)
        self.allowed_hosts = set(self.profile.hosts()) | {host_of(u) for u in self.start_urls}
        self.browser_config: BrowserConfig | None = None
        self.crawl_args.update(profile=self.profile.name, profile_path=str(self.profile.path))

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        profile = spider.profile
        if spider._max_pages_arg is None and profile.max_pages:
            spider.max_pages = min(profile.max_pages, spider.config.max_pages)
            spider.crawl_args["max_pages"] = spider.max_pages
        apply_politeness(crawler.settings, profile)
        if profile.browser:
            spider.browser_config = BrowserConfig.from_settings(crawler.settings)
            spider.browser_config.apply(crawler.settings)
            if crawler.settings.getbool("LUREWATCH_SSRF_GUARD", True):
                guard = NetGuard(spider.trusted_hosts)
                crawler.settings.set("PLAYWRIGHT_ABORT_REQUEST", guarded_abort_request(guard, crawler),
                                     priority="spider")
        return spider

    # -- requests -------------------------------------------------------------
    def source_of(self, url: str) -> str:
        return self.profile.source_name

    def start_request(self, url: str, **kwargs):
        return super().start_request(url, meta=browser_meta(self.profile, self.browser_config), **kwargs)

    def follow(self, url: str, callback):
        if host_of(url) not in self.allowed_hosts:
            self.stat("profile/offsite_links")
            return None
        return self.request_page(url, callback=callback, meta=browser_meta(self.profile, self.browser_config))

    def _too_large(self, response: Response) -> bool:
        cap = self.browser_config.max_content_bytes if self.browser_config else None
        if response.meta.get("playwright") and cap and len(response.body) > cap:
            self.page_error(response.url, "too_large")
            self.logger.warning("%s: rendered page is %d bytes, over the %d byte cap: skipped", response.url,
                                len(response.body), cap)
            return True
        return False

    # -- parsing --------------------------------------------------------------
    def parse(self, response: Response):
        """A listing page: ads from listing_fields, links to detail pages, the next listing page."""
        self.note_page(response)
        if self._too_large(response) or not hasattr(response, "selector"):
            return
        profile = self.profile
        ads = profile.listing_items(response.selector, response.url)
        links = profile.detail_links(response.selector, response.url)
        if not ads and not links:
            self.stat("profile/empty_listing")
            if response.meta.get("lurewatch_start"):
                self.page_error(response.url, "profile_no_match")
            self.logger.warning("%s: profile %s (%s) found no ads or links on this listing page; are its selectors stale?",
                                response.url, profile.name, profile.path)
        for fields in ads:
            if not fields.get("url"):
                self.stat("profile/ad_without_url")
                continue
            self.stat("profile/listing_ads")
            yield self.make_ad(response, {**fields, "url": canonicalize(fields["url"]), "source": profile.source_name})
        for link in links:
            request = self.follow(link, self.parse_detail)
            if request is not None:
                yield request
        next_url = profile.next_page_url(response.selector, response.url)
        if next_url:
            request = self.follow(next_url, self.parse)
            if request is not None:
                self.stat("profile/next_pages")
                yield request

    def parse_detail(self, response: Response):
        """A detail page: the profile's detail fields, gaps filled from JobPosting markup when present."""
        self.note_page(response)
        if self._too_large(response) or not hasattr(response, "selector"):
            return
        fields = self.profile.detail_fields(response.selector, response.url)
        postings = extract_jobpostings(response.text, response.url)
        if postings:
            for key, value in postings[0].items():
                if key != "url" and value and not fields.get(key):
                    fields[key] = value
        if not (fields.get("title") or fields.get("description")):
            self.stat("profile/empty_detail")
            self.logger.warning("%s: profile %s found no title or description on this detail page", response.url,
                                self.profile.name)
            return
        self.stat("profile/detail_ads")
        yield self.make_ad(response, {**fields, "source": self.profile.source_name})


__all__ = ["ProfileSpider", "ProfileError", "apply_politeness", "browser_meta"]
