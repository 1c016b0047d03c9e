"""Browser pages of site profiles (`browser: true`): what to wait for and which actions to run, per page type.

`browser_meta(profile, config, page_type)` gives the request meta that sends a page through Chromium with one
`crawler.browser.run_page_plan` step; its report (waits, clicks, scrolls, captured JSON) comes back in
`response.meta["playwright_page_methods"][0].result` (see `page_report`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spiders.profile_selectors import FieldRule, FieldSelector

if TYPE_CHECKING:
    from crawler.browser import BrowserConfig
    from spiders.profiles_schema import Profile

ACTION_KINDS = ("click", "scroll")
DEFAULT_MAX_ACTIONS = 20


@dataclass(frozen=True)
class PageAction:
    """Click `selector` until it is gone, or scroll to the bottom while the page grows; at most `max` times."""

    kind: str  # click | scroll
    selector: str | None = None  # Playwright selector of the element to click
    max: int = DEFAULT_MAX_ACTIONS

    def plan(self) -> dict[str, Any]:
        return {"kind": self.kind, "selector": self.selector, "max": self.max}


def playwright_selector(alt: FieldSelector) -> str:
    """The Playwright form of a css:/xpath: selector (css as is, xpath as `xpath=...`)."""
    return alt.query if alt.kind == "css" else f"xpath={alt.query}"


def item_selector(rule: FieldRule | None) -> str | None:
    """A Playwright selector for counting listing items, when the item selector can be one."""
    if rule is None:
        return None
    alt = rule.alternatives[0]
    if alt.kind == "css" and "::" in alt.query:
        return None
    return playwright_selector(alt) if alt.kind in ("css", "xpath") else None


def browser_meta(profile: "Profile", config: "BrowserConfig | None", page_type: str = "listing") -> dict:
    """Request meta that sends a request through Chromium (empty for non-browser profiles).

    Every page waits for the network to go quiet; a listing page then waits for `wait_for` (or, without one,
    for its first listing item), runs `listing.actions` and hands back the JSON that `api.capture` matched;
    a detail page waits for `wait_for.detail`.
    """
    if not profile.browser:
        return {}
    from scrapy_playwright.page import PageMethod

    from crawler.browser import page_meta, run_page_plan

    listing = page_type == "listing"
    wait = profile.wait_for.get(page_type)
    plan: dict[str, Any] = {
        "page_type": page_type,
        "timeout_ms": config.wait_timeout_ms if config else 15_000,
        "wait_for": wait,
        "wait_is_explicit": wait is not None,
        "item": item_selector(profile.item) if listing else None,
        "actions": [a.plan() for a in profile.actions] if listing else [],
    }
    if listing and wait is None and plan["item"] and not (profile.api and profile.api.capture):
        plan["wait_for"] = plan["item"]  # no explicit wait: the listing items, once the page's scripts ran
    meta: dict = {**page_meta(), "playwright_page_methods": [PageMethod(run_page_plan, plan)]}
    if listing and profile.api is not None and profile.api.capture is not None:
        meta["lurewatch_capture"] = profile.api.capture.pattern
        meta["playwright_page_init_callback"] = "crawler.browser.capture_json_responses"
    return meta


def page_report(response) -> dict[str, Any] | None:
    """What run_page_plan reported for a rendered page (None for plain HTTP responses)."""
    for method in response.meta.get("playwright_page_methods") or ():
        if isinstance(getattr(method, "result", None), dict) and "page_type" in method.result:
            return method.result
    return None
