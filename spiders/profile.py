"""The `profile` spider: crawls one job board described by a site profile (spiders/profiles/*.yaml).

    scrapy crawl profile -a name=jobsdb_hk
    scrapy crawl profile -a name=path/to/board.yaml -a urls=http://127.0.0.1:8000/ -a max_pages=5
    lurewatch crawl --profile jobsdb_hk

Listing pages (start URLs, then `listing.next`) give ads of their own ("cards": `listing_fields`, or JSON
ads with `api:`) and/or links to detail pages (`listing.link` -> `detail` fields). A card with a detail page
travels in the detail request's meta and is merged with the detail fields: one item per ad. With `api:`
and no `api.capture` the start URLs are JSON endpoints, paged by `api.paging`. With `browser: true` every
page is rendered in headless Chromium through scrapy-playwright (see spiders/profile_browser.py); otherwise
Playwright is never started.
"""
from __future__ import annotations

import lxml.etree
from typing import Any

from scrapy.http import Response

from crawler.browser import BrowserConfig, guarded_abort_request, start_egress_proxy
from crawler.contacts import join_contacts, link_contacts
from crawler.extract import extract_jobpostings
from crawler.netguard import NetGuard
from crawler.urls import canonicalize, host_of
from spiders.base import LurewatchSpider, error_kind
from spiders.profile_api import ApiDataError, parse_json, synthetic_url
from spiders.profile_browser import browser_meta, page_report
from spiders.profiles_schema import Profile, ProfileError, load_profile

# Detail-page failures after which the card alone is not stored: the ad is unchanged (304) or gone (404/410).
CARD_NOT_STORED_ON = frozenset({"not_modified", "http_404", "http_410"})


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


class ProfileSpider(LurewatchSpider):
    name = "profile"

    def __init__(self, *args, name: str | None = None, profile: str | None = None, urls=None, max_pages=None,
                 **kwargs):
        # `-a name=NAME` names the profile; the spider itself stays "profile".
        profile_name = name or profile
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
                trusted = spider.trusted_hosts | set(crawler.settings.getlist("LUREWATCH_TRUSTED_HOSTS"))
                guard = NetGuard(trusted)
                crawler.settings.set("PLAYWRIGHT_ABORT_REQUEST", guarded_abort_request(guard, crawler),
                                     priority="spider")
                spider.egress_proxy = start_egress_proxy(crawler, trusted)  # sees every connection Chromium makes
        return spider

    @property
    def api_endpoints(self) -> bool:
        """The start URLs are JSON endpoints (api: without capture)."""
        return self.profile.api is not None and self.profile.api.capture is None

    # -- requests -------------------------------------------------------------
    def source_of(self, url: str) -> str:
        return self.profile.source_name

    def start_request(self, url: str, **kwargs):
        root = self.profile.api.paging.first_url(url) if self.api_endpoints and self.profile.api.paging else url
        meta = {**browser_meta(self.profile, self.browser_config, "listing"), "lurewatch_listing_root": canonicalize(root)}
        return super().start_request(url, meta=meta, **kwargs)

    def _start_response(self, response: Response):
        self.stat("start/ok")
        return self.parse_api(response) if self.api_endpoints else self.parse(response)

    def follow(self, url: str, callback, page_type: str, meta: dict | None = None, errback=None):
        if host_of(url) not in self.allowed_hosts:
            self.stat("profile/offsite_links")
            return None
        meta = {**browser_meta(self.profile, self.browser_config, page_type), **(meta or {})}
        return self.request_page(url, callback=callback, meta=meta, errback=errback)

    def _too_large(self, response: Response) -> bool:
        cap = self.browser_config.max_content_bytes if self.browser_config else None
        if response.meta.get("playwright") and cap and len(response.body) > cap:
            self.page_error(response.url, "too_large")
            self.logger.warning("%s: rendered page is %d bytes, over the %d byte cap: skipped", response.url,
                                len(response.body), cap)
            return True
        return False

    # -- browser reports ------------------------------------------------------
    def _check_render(self, response: Response) -> dict[str, Any] | None:
        """Count and log what the rendered page's plan reported (waits that timed out, actions cut short)."""
        report = page_report(response)
        if report is None:
            return None
        if report.get("wait_for") == "timeout" and report.get("wait_is_explicit"):
            self.stat("errors/wait_for_timeout")
            self.logger.warning("%s: profile %s (%s): wait_for %r (%s pages) did not appear within %d s; "
                                "is the profile stale?", response.url, self.profile.name, self.profile.path,
                                report.get("wait_selector"), report.get("page_type"),
                                (self.browser_config.wait_timeout_ms if self.browser_config else 15_000) // 1000)
        for action in report.get("actions") or ():
            self.stat(f"browser/{action['kind']}s", action["done"])
            stopped = action["stopped"]
            if stopped in ("gone", "end"):
                continue
            # the page may hold ads this crawl did not see: it must not mark them removed
            self.complete_walk = False
            if stopped == "max":
                self.stat("browser/actions_cut_short")
                self.logger.warning("%s: listing.actions %s %s stopped at max=%d with more to load; raise max to "
                                    "get every ad", response.url, action["kind"], action.get("selector") or "",
                                    action["max"])
            else:
                self.stat("errors/action_failed")
                self.logger.warning("%s: listing.actions %s %s stopped: %s", response.url, action["kind"],
                                    action.get("selector") or "", stopped)
        return report

    # -- parsing --------------------------------------------------------------
    def parse(self, response: Response):
        """A listing page: ads from listing_fields (or captured JSON), links to detail pages, the next listing page."""
        self.note_page(response)
        if self._too_large(response) or not hasattr(response, "selector"):
            return
        profile = self.profile
        report = self._check_render(response)
        root = response.meta.get("lurewatch_listing_root") or canonicalize(response.url)
        cards = profile.listing_items(response.selector, response.url, identity_base=root)
        if profile.api is not None and report is not None:
            cards.extend(self._captured_cards(response, report, root))
        links = profile.detail_links(response.selector, response.url) if not profile.has_cards else []
        if not cards and not links:
            self.stat("profile/empty_listing")
            if response.meta.get("lurewatch_start"):
                self.page_error(response.url, "profile_no_match")
            self.logger.warning("%s: profile %s (%s) found no ads or links on this listing page; are its selectors stale?",
                                response.url, profile.name, profile.path)
        yield from self.emit_cards(response, cards)
        for link in links:
            request = self.follow(link, self.parse_detail, "detail")
            if request is not None:
                yield request
        next_url = profile.next_page_url(response.selector, response.url)
        if next_url:
            request = self.follow(next_url, self.parse, "listing", meta={"lurewatch_listing_root": root})
            if request is not None:
                self.stat("profile/next_pages")
                yield request

    def _captured_cards(self, response: Response, report: dict, root: str) -> list[dict]:
        """Ads in the JSON responses the rendered page fetched itself (api.capture)."""
        api = self.profile.api
        captured = report.get("json") or []
        self.stat("profile/api_captured", len(captured))
        if not captured:
            self.logger.warning("%s: the page fetched no JSON matching api.capture %r", response.url,
                                api.capture.pattern)
        cards: list[dict] = []
        for body in captured:
            try:
                if "body" not in body:
                    raise ApiDataError(f"{body['url']}: cannot read the response: {body.get('error')}")
                cards.extend(api.ads(parse_json(body["body"], body["url"]), body["url"]))
            except ApiDataError as exc:
                self.stat("errors/api_data")
                self.logger.warning("profile %s (%s): %s", self.profile.name, self.profile.path, exc)
        return self.with_identity(cards, root)

    @staticmethod
    def with_identity(cards: list[dict], root: str) -> list[dict]:
        """Cards without a URL of their own get `<root>#ad=<external_id or hash>` (spiders.profile_api.synthetic_url)."""
        for card in cards:
            if not card.get("url"):
                card["url"] = synthetic_url(root, card)
                card["synthetic_url"] = True
        return cards

    def parse_api(self, response: Response):
        """A JSON endpoint (api: without capture): its ads, then the next page (api.paging) until one is empty."""
        self.note_page(response)
        api = self.profile.api
        root = response.meta.get("lurewatch_listing_root") or canonicalize(response.url)
        try:
            data = parse_json(response.body, response.url)
            cards = self.with_identity(api.ads(data, response.url), root)
            next_url = api.paging.next_url(response.url, data, len(cards)) if api.paging else None
        except ApiDataError as exc:
            self.stat("errors/api_data")
            if response.meta.get("lurewatch_start"):
                self.stat("errors/profile_no_match")
            self.logger.warning("profile %s (%s): %s", self.profile.name, self.profile.path, exc)
            return
        self.stat("profile/api_pages")
        if not cards and response.meta.get("lurewatch_start"):
            self.stat("errors/profile_no_match")
            self.logger.warning("%s: profile %s (%s): api.items %r found no ads in the first response; is the "
                                "profile stale?", response.url, self.profile.name, self.profile.path,
                                api.items.expression)
        yield from self.emit_cards(response, cards)
        if next_url:
            request = self.request_page(next_url, callback=self.parse_api, meta={"lurewatch_listing_root": root})
            if request is not None:
                yield request

    def emit_cards(self, response: Response, cards: list[dict]):
        """Each card becomes one item: merged with its detail page when the profile has `detail`, else alone."""
        for card in cards:
            card = {**card, "source": self.profile.source_name}
            synthetic = card.pop("synthetic_url", False)
            if card.get("url") and not synthetic:
                card["url"] = canonicalize(card["url"])
            if self.profile.detail and not synthetic:
                if self.already_requested(card["url"]):
                    self.stat("profile/duplicate_cards")
                    continue
                request = self.follow(card["url"], self.parse_detail, "detail", meta={"lurewatch_card": card},
                                      errback=self.on_detail_error)
                if request is not None:
                    yield request
                    continue
            self.stat("profile/listing_ads")
            yield self.make_ad(response, card)

    def parse_detail(self, response: Response):
        """A detail page: the profile's detail fields over its card's fields, gaps filled from JobPosting markup."""
        self.note_page(response)
        card = dict(response.meta.get("lurewatch_card") or {})
        card.pop("url", None)  # the detail page names the ad (its URL, redirects and rel=canonical)
        if self._too_large(response) or not hasattr(response, "selector"):
            if card:
                yield from self._card_alone(response.url, card, "detail page unusable")
            return
        report = self._check_render(response)
        fields = self.profile.detail_fields(response.selector, response.url)
        postings = extract_jobpostings(response.text, response.url)
        # contacts add up: the mapped text, links it hides ("Chat with us"), the JobPosting's contacts
        contact = join_contacts(fields.get("contact"), *self._hidden_contacts(response),
                                postings[0].get("contact") if postings else None)
        if contact:
            fields["contact"] = contact
        if postings:
            for key, value in postings[0].items():
                if key != "url" and value and not fields.get(key):
                    fields[key] = value
        merged = {**card, **{k: v for k, v in fields.items() if v}}
        if not (merged.get("title") or merged.get("description")):
            self.stat("profile/empty_detail")
            if report and report.get("wait_for") == "timeout":
                self.stat("errors/profile_no_match")  # the page never got what wait_for.detail names
            self.logger.warning("%s: profile %s found no title or description on this detail page", response.url,
                                self.profile.name)
            return
        self.stat("profile/detail_ads")
        yield self.make_ad(response, {**merged, "source": self.profile.source_name})

    def on_detail_error(self, failure):
        """A card's detail page failed: the card is stored alone (no data lost), unless the ad is unchanged or gone."""
        self.on_error(failure)
        kind = failure.request.meta.get("lurewatch_error_kind") or error_kind(failure)
        card = failure.request.meta.get("lurewatch_card")
        if card and kind not in CARD_NOT_STORED_ON and not failure.request.meta.get("lurewatch_gone"):
            yield from self._card_alone(failure.request.url, card, kind)

    def _card_alone(self, url: str, card: dict, why: str):
        self.stat("profile/cards_without_detail")
        self.logger.warning("%s: %s; storing the listing card's fields only", url, why)
        yield self.make_ad(None, {**card, "url": canonicalize(url)})

    def _hidden_contacts(self, response: Response) -> list[str]:
        """Link targets in the mapped contact element (any link) and description (messenger, tel:, mailto:)."""
        found: list[str] = []
        for name, every_link in (("contact", True), ("description", False)):
            rule = self.profile.detail.get(name)
            for node in rule.select(response.selector) if rule else []:
                if isinstance(node.root, lxml.etree._Element):
                    found.extend(link_contacts(node.root, every_link=every_link))
        return found


__all__ = ["ProfileSpider", "ProfileError", "apply_politeness", "browser_meta"]
