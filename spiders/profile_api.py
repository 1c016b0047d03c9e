"""JSON ads of site profiles (`api:`): JMESPath field paths, paging over a JSON endpoint, stable ad identity.

Pure functions over parsed JSON (no Scrapy): the spider feeds them the JSON of an API endpoint it fetched, or
the JSON responses a rendered page fetched by itself (`api.capture`).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jmespath
from jmespath.parser import ParsedResult

PAGING_KINDS = ("page", "offset", "cursor")


class ApiDataError(ValueError):
    """A JSON response does not have the shape the profile describes."""


def json_text(value: Any, join: str = ", ") -> str | None:
    """A JSON value as field text: strings stripped, numbers as written, lists joined; objects and null -> None."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list):
        parts = [t for t in (json_text(v, join) for v in value) if t]
        return join.join(parts) or None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class JsonField:
    """A field read from one JSON item: a JMESPath, then an optional `format` ("/job/{}")."""

    path: ParsedResult
    format: str | None = None
    join: str = ", "

    def extract(self, item: Any) -> str | None:
        value = json_text(self.path.search(item), self.join)
        if value and self.format:
            value = self.format.replace("{}", value)
        return value


def set_query_param(url: str, name: str, value: Any) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    if value is not None:
        query.append((name, str(value)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def query_param(url: str, name: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)).get(name)


@dataclass(frozen=True)
class Paging:
    """How the next API page is asked for: page=N+1, offset=N+items, or cursor=<value from the response>."""

    kind: str  # page | offset | cursor
    param: str
    start: int = 1
    next: ParsedResult | None = None  # cursor: where the next cursor is in a response

    def next_url(self, url: str, data: Any, count: int) -> str | None:
        """The next page's URL, or None when this page had no items (or no next cursor)."""
        if count == 0:
            return None
        if self.kind == "cursor":
            cursor = json_text(self.next.search(data)) if self.next is not None else None
            return set_query_param(url, self.param, cursor) if cursor else None
        raw = query_param(url, self.param)
        try:
            current = int(raw) if raw not in (None, "") else self.start
        except ValueError:
            raise ApiDataError(f"{url}: paging parameter {self.param}={raw!r} is not a number") from None
        return set_query_param(url, self.param, current + (1 if self.kind == "page" else count))

    def first_url(self, url: str) -> str:
        """The URL without the paging parameter: what names the whole listing."""
        return set_query_param(url, self.param, None)


@dataclass(frozen=True)
class ApiSpec:
    """`api:` of a profile: where the ads are in each JSON response and which fields they give."""

    items: ParsedResult
    fields: dict[str, JsonField] = field(default_factory=dict)
    paging: Paging | None = None
    capture: re.Pattern | None = None  # browser: JSON responses of the page whose URL matches

    def item_list(self, data: Any, where: str) -> list[Any]:
        found = self.items.search(data)
        if found is None:
            return []
        if not isinstance(found, list):
            raise ApiDataError(f"{where}: api.items {self.items.expression!r} gave {type(found).__name__}, not a list")
        return found

    def ads(self, data: Any, url: str) -> list[dict[str, Any]]:
        """Ads in one parsed JSON response fetched from `url` (a relative `url` field is resolved against it)."""
        ads = []
        for item in self.item_list(data, url):
            ad = {name: rule.extract(item) for name, rule in self.fields.items()}
            if ad.get("url"):
                ad["url"] = urljoin(url, ad["url"])
            ads.append({k: v for k, v in ad.items() if v is not None})
        return ads


def parse_json(text: str | bytes, url: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ApiDataError(f"{url}: not JSON: {exc}") from None


def synthetic_url(listing_url: str, fields: dict[str, Any]) -> str:
    """A stable URL for an ad that has none of its own: `<listing url>#ad=<external_id>`, else
    `#ad=h<hash of its text>` (then an edited ad is a new ad)."""
    external_id = fields.get("external_id")
    if external_id:
        key = re.sub(r"\s+", "-", str(external_id).strip())
    else:
        text = "\x1f".join(str(fields.get(k) or "") for k in ("title", "company", "location", "description"))
        key = "h" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return f"{listing_url.split('#', 1)[0]}#ad={key}"


def compile_path(expression: str) -> ParsedResult:
    """A compiled JMESPath; raises ValueError with the parser's message."""
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(str(exc).replace("\n", " ")) from None
