"""Site profiles: a job board described as YAML data, loaded and validated here.

The schema is documented in spiders/profiles/README.md. Every error names the
file, the line and the profile key, e.g.

    spiders/profiles/board.yaml:12: profile 'board': listing.next: give exactly one of css: or xpath:

This module extracts with parsel only (no Scrapy), so `lurewatch profiles check`
and tests can run a profile's selectors against a saved page. Its parts: profile_checker
(YAML with lines, the checks), profile_selectors (css/xpath/url selectors), profile_api
(JSON ads, paging, synthetic URLs), profile_browser (waits and actions of rendered pages).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from spiders.profile_api import ApiSpec, synthetic_url
from spiders.profile_browser import PageAction
from spiders.profile_checker import (  # noqa: F401 (constants re-exported)
    AD_FIELDS, LISTING_KEYS, LISTING_ONLY_FIELDS, POLITENESS_KEYS, TOP_KEYS, ProfileError, _Checker, _Doc,
)
from spiders.profile_selectors import FieldRule, FieldSelector, link_value, node_text  # noqa: F401 (re-exported)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


# -- profile ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Politeness:
    download_delay: float | None = None
    concurrency: int | None = None
    obey_robots: bool = True


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path
    start_urls: tuple[str, ...]
    description: str = ""
    source: str = ""
    allowed_domains: tuple[str, ...] = ()
    browser: bool = False
    wait_for: dict[str, str] = field(default_factory=dict)  # page type -> Playwright selector
    actions: tuple[PageAction, ...] = ()
    api: ApiSpec | None = None
    item: FieldRule | None = None
    link: FieldRule | None = None
    next_page: FieldRule | None = None
    listing_fields: dict[str, FieldRule] = field(default_factory=dict)
    detail: dict[str, FieldRule] = field(default_factory=dict)
    politeness: Politeness = Politeness()
    max_pages: int | None = None

    @property
    def source_name(self) -> str:
        return self.source or self.name

    @property
    def listing_only(self) -> bool:
        return bool(self.listing_fields or self.api) and not self.detail

    @property
    def has_cards(self) -> bool:
        """Listing pages (or API responses) give ads of their own, not only links."""
        return bool(self.listing_fields or self.api)

    def listing_items(self, html: str | Selector, url: str, identity_base: str | None = None) -> list[dict[str, Any]]:
        """Ads read from a listing page (listing_fields); each dict has `url` and the mapped fields.

        An ad without a link of its own gets a stable synthetic URL `<identity_base>#ad=<external_id or hash>`
        (identity_base: the listing's first page; default `url`).
        """
        sel = _as_selector(html, url)
        if not self.listing_fields or self.item is None:
            return []
        ads = []
        for item in self.item.select(sel):
            rules = self.listing_fields
            ad = {name: rule.extract(item) for name, rule in rules.items() if not rule.reads_url}
            link = ad.pop("url", None) or (self.link.extract(item) if self.link else None)
            ad["url"] = urljoin(url, link) if link else None
            for name, rule in rules.items():
                if rule.reads_url and name != "url":
                    ad[name] = rule.extract(item, ad["url"] or url)
            ad = {k: v for k, v in ad.items() if v is not None}
            if not ad.get("url"):
                ad["url"] = synthetic_url(identity_base or url, ad)
                ad["synthetic_url"] = True
            ads.append(ad)
        return ads

    def detail_links(self, html: str | Selector, url: str) -> list[str]:
        """Detail-page URLs on a listing page (absolute, de-duplicated, in page order)."""
        if self.link is None or not self.detail:
            return []
        sel = _as_selector(html, url)
        scopes = self.item.select(sel) if self.item is not None else [sel]
        links: list[str] = []
        for scope in scopes:
            for alt in self.link.alternatives:
                found = [link_value(n) for n in alt.select(scope)]
                found = [v for v in found if v and not v.startswith(("javascript:", "mailto:", "#"))]
                if found:
                    links.extend(urljoin(url, v) for v in (found[:1] if self.item is not None else found))
                    break
        return list(dict.fromkeys(links))

    def next_page_url(self, html: str | Selector, url: str) -> str | None:
        if self.next_page is None:
            return None
        sel = _as_selector(html, url)
        for alt in self.next_page.alternatives:
            for node in alt.select(sel):
                value = link_value(node)
                if value and not value.startswith(("javascript:", "#")):
                    nxt = urljoin(url, value)
                    return nxt if nxt != url else None
        return None

    def detail_fields(self, html: str | Selector, url: str) -> dict[str, str]:
        """Fields read from a detail page (None values left out)."""
        sel = _as_selector(html, url)
        ad = {name: rule.extract(sel, url) for name, rule in self.detail.items()}
        return {k: v for k, v in ad.items() if v is not None}

    def hosts(self) -> tuple[str, ...]:
        """Hosts the crawl may fetch: allowed_domains, else the start URLs' hosts."""
        if self.allowed_domains:
            return self.allowed_domains
        return tuple(dict.fromkeys(urlsplit(u).hostname or "" for u in self.start_urls))


def _as_selector(html: str | Selector, url: str) -> Selector:
    if isinstance(html, Selector):
        return html
    return Selector(text=html, base_url=url)


def parse_profile(text: str, path: str | Path = "<string>") -> Profile:
    """Validate profile YAML text; raises ProfileError naming file, line and key."""
    path = Path(path)
    doc = _Doc(path, text)
    c = _Checker(doc)
    data = c.keys(doc.data, (), TOP_KEYS)

    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        c.fail(("name",), "required: lower-case letters, digits, '_' or '-'")
    start_urls = data.get("start_urls")
    if isinstance(start_urls, str):
        start_urls = [start_urls]
    if not isinstance(start_urls, list) or not start_urls:
        c.fail(("start_urls",), "required: a list of http(s) URLs")
    for i, u in enumerate(start_urls):
        if not isinstance(u, str) or urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname:
            c.fail(("start_urls", i), f"not an http(s) URL: {u!r}")
    allowed = data.get("allowed_domains") or []
    if not isinstance(allowed, list) or not all(isinstance(d, str) and d for d in allowed):
        c.fail(("allowed_domains",), "expected a list of host names")
    for key in ("description", "source"):
        if key in data and not isinstance(data[key], str):
            c.fail((key,), "expected a string")

    browser = data.get("browser", False)
    if not isinstance(browser, bool):
        c.fail(("browser",), "expected true or false")
    wait_for = c.wait_for(data["wait_for"], browser) if "wait_for" in data else {}

    listing = c.keys(data.get("listing") or {}, ("listing",), LISTING_KEYS)
    item = c.selector(listing["item"], ("listing", "item")) if "item" in listing else None
    link = c.selector(listing["link"], ("listing", "link")) if "link" in listing else None
    next_page = c.selector(listing["next"], ("listing", "next")) if "next" in listing else None
    actions = c.actions(listing["actions"], browser) if "actions" in listing else ()
    api = c.api(data["api"], browser) if "api" in data else None
    listing_fields = (c.fields(data["listing_fields"], ("listing_fields",), AD_FIELDS + LISTING_ONLY_FIELDS)
                      if "listing_fields" in data else {})
    detail = c.fields(data["detail"], ("detail",), AD_FIELDS) if "detail" in data else {}
    if not listing_fields and not detail and api is None:
        c.fail(("detail",), "a profile needs detail: (fields on detail pages), listing_fields: (fields on listing "
                            "items) or api: (ads in JSON responses)")
    if api is not None and listing_fields:
        c.fail(("api",), "give either listing_fields: (ads in the HTML) or api: (ads in JSON), not both")
    if detail and link is None and not (api and "url" in api.fields):
        c.fail(("listing",) if "listing" in data else ("detail",), "detail fields need listing.link (the selector of links to detail pages)")
    if listing_fields and item is None:
        c.fail(("listing",) if "listing" in data else ("listing_fields",), "listing_fields need listing.item (one element per ad)")
    card_fields = set(listing_fields) | set(api.fields if api else ())
    if not ({"title", "description"} & card_fields | {"title", "description"} & set(detail)):
        c.fail(("detail",) if detail else ("api", "fields") if api else ("listing_fields",),
               "map at least title or description")

    pol = c.keys(data.get("politeness") or {}, ("politeness",), POLITENESS_KEYS)
    delay = pol.get("download_delay")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0):
        c.fail(("politeness", "download_delay"), "expected seconds >= 0")
    conc = pol.get("concurrency")
    if conc is not None and (isinstance(conc, bool) or not isinstance(conc, int) or conc < 1):
        c.fail(("politeness", "concurrency"), "expected an integer >= 1")
    obey = pol.get("obey_robots", True)
    if obey is not True:
        c.fail(("politeness", "obey_robots"), "can only be tightened: robots.txt is always obeyed")
    max_pages = data.get("max_pages")
    if max_pages is not None and (isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1):
        c.fail(("max_pages",), "expected an integer >= 1")

    return Profile(
        name=name, path=path, start_urls=tuple(start_urls), description=data.get("description", ""),
        source=data.get("source", ""), allowed_domains=tuple(allowed), browser=browser, wait_for=wait_for,
        actions=actions, api=api, item=item, link=link, next_page=next_page, listing_fields=listing_fields, detail=detail,
        politeness=Politeness(float(delay) if delay is not None else None, conc, True), max_pages=max_pages,
    )


def profile_path(name_or_path: str | Path) -> Path:
    """A profile name (spiders/profiles/NAME.yaml) or a path to a YAML file."""
    s = str(name_or_path)
    candidate = Path(s).expanduser()
    if s.endswith((".yaml", ".yml")) or "/" in s or candidate.is_file():
        if not candidate.is_file():
            raise ProfileError(f"{candidate}: profile file not found")
        return candidate
    for ext in (".yaml", ".yml"):
        p = PROFILES_DIR / f"{s}{ext}"
        if p.is_file():
            return p
    known = [p.stem for p in profile_files()]
    hint = difflib.get_close_matches(s, known, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else (f"; known: {', '.join(known)}" if known else "")
    raise ProfileError(f"no profile named {s!r} in {PROFILES_DIR}{extra}")


def load_profile(name_or_path: str | Path) -> Profile:
    path = profile_path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc}") from None
    return parse_profile(text, path)


def profile_files() -> list[Path]:
    return sorted(p for p in PROFILES_DIR.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def iter_profiles() -> Iterator[tuple[Path, Profile | ProfileError]]:
    """Every shipped profile, or the error that stops it loading."""
    for path in profile_files():
        try:
            yield path, load_profile(path)
        except ProfileError as exc:
            yield path, exc
