"""Reading profile YAML: a document that remembers the line of every key, and the checks of each part
(selectors, browser waits and actions, JSON API). Every failure is a ProfileError naming file, line and key.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from lxml import etree
from parsel.csstranslator import HTMLTranslator

from rules.yamldoc import LinedYaml

from spiders.profile_api import PAGING_KINDS, ApiSpec, JsonField, Paging, compile_path
from spiders.profile_browser import ACTION_KINDS, DEFAULT_MAX_ACTIONS, PageAction, playwright_selector
from spiders.profile_selectors import FieldRule, FieldSelector

# JobAd fields a profile may fill. `url` only makes sense on listing items.
AD_FIELDS = ("title", "company", "location", "country", "salary_text", "description", "contact", "posted_at",
             "external_id")
LISTING_ONLY_FIELDS = ("url",)
TOP_KEYS = ("name", "description", "source", "start_urls", "allowed_domains", "browser", "wait_for", "listing",
            "listing_fields", "detail", "api", "politeness", "max_pages")
LISTING_KEYS = ("item", "link", "next", "actions")
POLITENESS_KEYS = ("download_delay", "concurrency", "obey_robots")
SELECTOR_KEYS = ("css", "xpath", "url", "re", "join", "first", "default")
PAGE_TYPES = ("listing", "detail")
API_KEYS = ("capture", "items", "fields", "paging")
JSON_FIELD_KEYS = ("path", "format", "join")
PAGING_KEYS = (*PAGING_KINDS, "start", "next")
ACTION_KEYS = (*ACTION_KINDS, "max")
MAX_ACTIONS = 500

_css = HTMLTranslator()


class ProfileError(ValueError):
    """A profile file is missing, unreadable or invalid. The message names file, line and key."""


class _Doc(LinedYaml):
    """A profile file that remembers the line of every key."""

    def __init__(self, path: Path, text: str):
        super().__init__(path, text, error=ProfileError, unknown_line=0)
        if self.empty:
            raise ProfileError(f"{path}:1: empty profile")


class _Checker:
    def __init__(self, doc: _Doc):
        self.doc = doc
        self.name = doc.data.get("name") if isinstance(doc.data, dict) else None

    def fail(self, path: tuple, message: str) -> None:
        line = self.doc.line(path)
        key = ".".join(str(p) for p in path) or "(top)"
        who = f"profile {self.name!r}: " if isinstance(self.name, str) else ""
        raise ProfileError(f"{self.doc.path}:{line}: {who}{key}: {message}")

    def keys(self, value: Any, path: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(allowed)})"
                self.fail(path + (key,), f"unknown key{extra}")
        return value

    def selector(self, value: Any, path: tuple, allow_url: bool = False) -> FieldRule:
        if isinstance(value, str):
            self.fail(path, "a selector is a mapping with css: or xpath:, e.g. {css: 'h1::text'}")
        alternatives = value if isinstance(value, list) else [value]
        if not alternatives:
            self.fail(path, "empty list of selectors")
        out = []
        for i, spec in enumerate(alternatives):
            p = path + (i,) if isinstance(value, list) else path
            spec = self.keys(spec, p, SELECTOR_KEYS)
            kinds = [k for k in ("css", "xpath", "url") if k in spec]
            if len(kinds) != 1 or (kinds == ["url"] and not allow_url):
                self.fail(p, "give exactly one of css: or xpath:" + (" (or url: REGEX, read from the page's URL)"
                                                                     if allow_url else ""))
            kind = kinds[0]
            query = spec[kind]
            if not isinstance(query, str) or not query.strip():
                self.fail(p + (kind,), "expected a non-empty string")
            regex = None
            try:
                if kind == "css":
                    _css.css_to_xpath(query)
                elif kind == "xpath":
                    etree.XPath(query)
                else:
                    regex = re.compile(query)
            except re.error as exc:
                self.fail(p + (kind,), f"invalid regular expression: {exc}")
            except Exception as exc:  # cssselect and lxml raise several kinds
                self.fail(p + (kind,), f"invalid {kind} selector {query!r}: {exc}")
            if kind == "url":
                if "re" in spec:
                    self.fail(p + ("re",), "url: is already a regular expression (over the URL)")
                if regex.groups > 1:
                    self.fail(p + ("url",), "use at most one capture group")
            if "re" in spec:
                try:
                    regex = re.compile(str(spec["re"]))
                except re.error as exc:
                    self.fail(p + ("re",), f"invalid regular expression: {exc}")
                if regex.groups > 1:
                    self.fail(p + ("re",), "use at most one capture group")
            first = spec.get("first", False)
            if not isinstance(first, bool):
                self.fail(p + ("first",), "expected true or false")
            join = spec.get("join", " ")
            if not isinstance(join, str):
                self.fail(p + ("join",), "expected a string")
            default = spec.get("default")
            if default is not None and not isinstance(default, str):
                self.fail(p + ("default",), "expected a string")
            out.append(FieldSelector(kind, query, regex, join, first, default))
        return FieldRule(tuple(out))

    def fields(self, value: Any, path: tuple, allowed: tuple[str, ...]) -> dict[str, FieldRule]:
        value = self.keys(value, path, allowed)
        if not value:
            self.fail(path, "no fields mapped")
        return {k: self.selector(v, path + (k,), allow_url=k != "url") for k, v in value.items()}

    def browser_selector(self, value: Any, path: tuple) -> str:
        """One css: (no ::text / ::attr) or xpath: selector, as Playwright takes it."""
        rule = self.selector(value, path)
        alt = rule.alternatives[0]
        if len(rule.alternatives) > 1 or alt.regex is not None or "::" in (alt.query if alt.kind == "css" else ""):
            self.fail(path, "give one css: or xpath: selector of an element (the browser waits for it / clicks it)")
        return playwright_selector(alt)

    def wait_for(self, value: Any, browser: bool) -> dict[str, str]:
        """`wait_for: {css: ...}` (listing pages) or `wait_for: {listing: {css: ...}, detail: {css: ...}}`."""
        if not browser:
            self.fail(("wait_for",), "only meaningful with browser: true")
        if isinstance(value, dict) and set(value) & set(PAGE_TYPES):
            value = self.keys(value, ("wait_for",), PAGE_TYPES)
            return {t: self.browser_selector(v, ("wait_for", t)) for t, v in value.items()}
        return {"listing": self.browser_selector(value, ("wait_for",))}

    def actions(self, value: Any, browser: bool) -> tuple[PageAction, ...]:
        path = ("listing", "actions")
        if not browser:
            self.fail(path, "only meaningful with browser: true")
        if not isinstance(value, list) or not value:
            self.fail(path, "expected a list, e.g. [{click: {css: 'button.more'}, max: 10}, {scroll: true}]")
        out = []
        for i, spec in enumerate(value):
            spec = self.keys(spec, path + (i,), ACTION_KEYS)
            kinds = [k for k in ACTION_KINDS if k in spec]
            if len(kinds) != 1:
                self.fail(path + (i,), "give exactly one of click: (a selector) or scroll: true")
            most = spec.get("max", DEFAULT_MAX_ACTIONS)
            if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= MAX_ACTIONS:
                self.fail(path + (i, "max"), f"expected an integer from 1 to {MAX_ACTIONS}")
            if kinds == ["click"]:
                out.append(PageAction("click", self.browser_selector(spec["click"], path + (i, "click")), most))
            else:
                if spec["scroll"] is not True:
                    self.fail(path + (i, "scroll"), "expected true")
                out.append(PageAction("scroll", None, most))
        return tuple(out)

    def jmespath(self, value: Any, path: tuple):
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "expected a JMESPath expression (a string such as 'data.jobs')")
        try:
            return compile_path(value)
        except ValueError as exc:
            self.fail(path, f"invalid JMESPath {value!r}: {exc}")

    def api(self, value: Any, browser: bool) -> ApiSpec:
        value = self.keys(value, ("api",), API_KEYS)
        if "items" not in value:
            self.fail(("api",), "api.items is required: the JMESPath of the list of ads in each response")
        items = self.jmespath(value["items"], ("api", "items"))
        raw_fields = self.keys(value.get("fields") or {}, ("api", "fields"), AD_FIELDS + LISTING_ONLY_FIELDS)
        if not raw_fields:
            self.fail(("api", "fields"), "no fields mapped")
        fields = {}
        for name, spec in raw_fields.items():
            p = ("api", "fields", name)
            if isinstance(spec, str):
                fields[name] = JsonField(self.jmespath(spec, p))
                continue
            spec = self.keys(spec, p, JSON_FIELD_KEYS)
            fmt, join = spec.get("format"), spec.get("join", ", ")
            if fmt is not None and (not isinstance(fmt, str) or "{}" not in fmt):
                self.fail(p + ("format",), "expected a string with {} where the value goes, e.g. '/job/{}'")
            if not isinstance(join, str):
                self.fail(p + ("join",), "expected a string")
            fields[name] = JsonField(self.jmespath(spec.get("path"), p + ("path",)), fmt, join)
        capture = None
        if "capture" in value:
            if not browser:
                self.fail(("api", "capture"), "needs browser: true (the JSON the rendered page fetches)")
            if not isinstance(value["capture"], str) or not value["capture"]:
                self.fail(("api", "capture"), "expected a regular expression over the page's fetch/XHR URLs")
            try:
                capture = re.compile(value["capture"])
            except re.error as exc:
                self.fail(("api", "capture"), f"invalid regular expression: {exc}")
        elif browser:
            self.fail(("api",), "with browser: true give api.capture (JSON the page fetches); "
                                "without it the start URLs are JSON endpoints fetched without a browser")
        paging = self.paging(value["paging"]) if "paging" in value else None
        if paging and capture:
            self.fail(("api", "paging"), "not with api.capture: the page pages itself (use listing.actions)")
        return ApiSpec(items, fields, paging, capture)

    def paging(self, value: Any) -> Paging:
        path = ("api", "paging")
        value = self.keys(value, path, PAGING_KEYS)
        kinds = [k for k in PAGING_KINDS if k in value]
        if len(kinds) != 1:
            self.fail(path, "give exactly one of page: PARAM, offset: PARAM or cursor: PARAM")
        kind = kinds[0]
        param = value[kind]
        if not isinstance(param, str) or not param:
            self.fail(path + (kind,), "expected the name of the query parameter")
        start = value.get("start", 1 if kind == "page" else 0)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            self.fail(path + ("start",), "expected an integer >= 0")
        nxt = None
        if kind == "cursor":
            if "next" not in value:
                self.fail(path, "cursor paging needs next: the JMESPath of the next cursor in a response")
            nxt = self.jmespath(value["next"], path + ("next",))
        elif "next" in value:
            self.fail(path + ("next",), "only for cursor: paging")
        return Paging(kind, param, start, nxt)
