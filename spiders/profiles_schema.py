"""Site profiles: a job board described as YAML data, loaded and validated here.

The schema is documented in spiders/profiles/README.md. Every error names the
file, the line and the profile key, e.g.

    spiders/profiles/board.yaml:12: profile 'board': listing.next: give exactly one of css: or xpath:

This module extracts with parsel only (no Scrapy), so `lurewatch profiles check`
and tests can run a profile's selectors against a saved page.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit

import yaml
from lxml import etree
from parsel import Selector, SelectorList
from parsel.csstranslator import HTMLTranslator

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"

# JobAd fields a profile may fill. `url` only makes sense on listing items.
AD_FIELDS = ("title", "company", "location", "country", "salary_text", "description", "contact", "posted_at",
             "external_id")
LISTING_ONLY_FIELDS = ("url",)
TOP_KEYS = ("name", "description", "source", "start_urls", "allowed_domains", "browser", "wait_for", "listing",
            "listing_fields", "detail", "politeness", "max_pages")
LISTING_KEYS = ("item", "link", "next")
POLITENESS_KEYS = ("download_delay", "concurrency", "obey_robots")
SELECTOR_KEYS = ("css", "xpath", "re", "join", "first", "default")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_css = HTMLTranslator()
# Block elements that end a line when an element's text is taken.
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
               "article", "dd", "dt", "blockquote", "pre"}


class ProfileError(ValueError):
    """A profile file is missing, unreadable or invalid. The message names file, line and key."""


# -- selectors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSelector:
    """One way to pull a value out of a page: css or xpath, then optional regex."""

    kind: str  # css | xpath
    query: str
    regex: re.Pattern | None = None
    join: str = " "
    first: bool = False
    default: str | None = None

    def select(self, sel: Selector | SelectorList) -> SelectorList:
        return sel.css(self.query) if self.kind == "css" else sel.xpath(self.query)

    def values(self, sel: Selector) -> list[str]:
        """Every non-empty string the selector yields (elements become their text)."""
        out: list[str] = []
        for node in self.select(sel):
            value = node_text(node)
            if self.regex is not None:
                m = self.regex.search(value)
                if not m:
                    continue
                value = m.group(1) if m.groups() else m.group(0)
            value = value.strip()
            if value:
                out.append(value)
                if self.first:
                    break
        return out

    def extract(self, sel: Selector) -> str | None:
        vals = self.values(sel)
        if not vals:
            return self.default
        return vals[0] if self.first else self.join.join(vals)


@dataclass(frozen=True)
class FieldRule:
    """Alternatives tried in order; the first that yields a value wins."""

    alternatives: tuple[FieldSelector, ...]

    def extract(self, sel: Selector) -> str | None:
        for alt in self.alternatives:
            value = alt.extract(sel)
            if value:
                return value
        return None

    def values(self, sel: Selector) -> list[str]:
        for alt in self.alternatives:
            vals = alt.values(sel)
            if vals:
                return vals
        return []

    def select(self, sel: Selector) -> SelectorList:
        for alt in self.alternatives:
            found = alt.select(sel)
            if found:
                return found
        return SelectorList([])


def node_text(node: Selector) -> str:
    """Text of a selected node: attributes and text nodes as they are, elements as readable text."""
    root = node.root
    if isinstance(root, str):
        return root
    if not isinstance(root, etree._Element):
        return str(root)
    parts: list[str] = []
    ws = re.compile(r"\s+")

    def walk(el):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag not in ("script", "style", "template"):
            if el.text:
                parts.append(ws.sub(" ", el.text))
            for child in el:
                walk(child)
            if tag in _BLOCK_TAGS:
                parts.append("\n")
        if el.tail and el is not root:
            parts.append(ws.sub(" ", el.tail))

    walk(root)
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def link_value(node: Selector) -> str:
    """A link from a selected node: an element gives its href (or src), a string is the link."""
    root = node.root
    if isinstance(root, etree._Element):
        return (root.get("href") or root.get("src") or "").strip()
    return str(root).strip()


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
    wait_for: FieldRule | None = None
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
        return bool(self.listing_fields) and not self.detail

    def listing_items(self, html: str | Selector, url: str) -> list[dict[str, Any]]:
        """Ads read from a listing page (listing_fields); each dict has `url` and the mapped fields."""
        sel = _as_selector(html, url)
        if not self.listing_fields or self.item is None:
            return []
        ads = []
        for item in self.item.select(sel):
            ad = {name: rule.extract(item) for name, rule in self.listing_fields.items()}
            link = ad.pop("url", None) or (self.link.extract(item) if self.link else None)
            ad["url"] = urljoin(url, link) if link else None
            ads.append({k: v for k, v in ad.items() if v is not None})
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
        ad = {name: rule.extract(sel) for name, rule in self.detail.items()}
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


# -- loading ----------------------------------------------------------------------------------


class _Doc:
    """A parsed YAML document that remembers the line of every key."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines: dict[tuple, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 0
            raise ProfileError(f"{path}:{line}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
        if node is None:
            raise ProfileError(f"{path}:1: empty profile")
        self.data = self._convert(node, ())

    def _convert(self, node: yaml.Node, path: tuple) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in out:
                    raise ProfileError(f"{self.path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
                out[key] = self._convert(value_node, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(v, path + (i,)) for i, v in enumerate(node.value)]
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()


class _Checker:
    def __init__(self, doc: _Doc):
        self.doc = doc
        self.name = doc.data.get("name") if isinstance(doc.data, dict) else None

    def fail(self, path: tuple, message: str) -> None:
        line = self._line(path)
        key = ".".join(str(p) for p in path) or "(top)"
        who = f"profile {self.name!r}: " if isinstance(self.name, str) else ""
        raise ProfileError(f"{self.doc.path}:{line}: {who}{key}: {message}")

    def _line(self, path: tuple) -> int:
        while path and path not in self.doc.lines:
            path = path[:-1]
        return self.doc.lines.get(path, 1)

    def keys(self, value: Any, path: tuple, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(allowed)})"
                self.fail(path + (key,), f"unknown key{extra}")
        return value

    def selector(self, value: Any, path: tuple) -> FieldRule:
        if isinstance(value, str):
            self.fail(path, "a selector is a mapping with css: or xpath:, e.g. {css: 'h1::text'}")
        alternatives = value if isinstance(value, list) else [value]
        if not alternatives:
            self.fail(path, "empty list of selectors")
        out = []
        for i, spec in enumerate(alternatives):
            p = path + (i,) if isinstance(value, list) else path
            spec = self.keys(spec, p, SELECTOR_KEYS)
            kinds = [k for k in ("css", "xpath") if k in spec]
            if len(kinds) != 1:
                self.fail(p, "give exactly one of css: or xpath:")
            kind = kinds[0]
            query = spec[kind]
            if not isinstance(query, str) or not query.strip():
                self.fail(p + (kind,), "expected a non-empty string")
            try:
                if kind == "css":
                    _css.css_to_xpath(query)
                else:
                    etree.XPath(query)
            except Exception as exc:  # cssselect and lxml raise several kinds
                self.fail(p + (kind,), f"invalid {kind} selector {query!r}: {exc}")
            regex = None
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
        return {k: self.selector(v, path + (k,)) for k, v in value.items()}


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
    wait_for = None
    if "wait_for" in data:
        if not browser:
            c.fail(("wait_for",), "only meaningful with browser: true")
        wait_for = c.selector(data["wait_for"], ("wait_for",))
        if wait_for.alternatives[0].kind != "css" or len(wait_for.alternatives) > 1:
            c.fail(("wait_for",), "give one css: selector (the browser waits for it to appear)")

    listing = c.keys(data.get("listing") or {}, ("listing",), LISTING_KEYS)
    item = c.selector(listing["item"], ("listing", "item")) if "item" in listing else None
    link = c.selector(listing["link"], ("listing", "link")) if "link" in listing else None
    next_page = c.selector(listing["next"], ("listing", "next")) if "next" in listing else None
    listing_fields = (c.fields(data["listing_fields"], ("listing_fields",), AD_FIELDS + LISTING_ONLY_FIELDS)
                      if "listing_fields" in data else {})
    detail = c.fields(data["detail"], ("detail",), AD_FIELDS) if "detail" in data else {}
    if not listing_fields and not detail:
        c.fail(("detail",), "a profile needs detail: (fields on detail pages) or listing_fields: (fields on listing items)")
    if detail and link is None:
        c.fail(("listing",) if "listing" in data else ("detail",), "detail fields need listing.link (the selector of links to detail pages)")
    if listing_fields and item is None:
        c.fail(("listing",) if "listing" in data else ("listing_fields",), "listing_fields need listing.item (one element per ad)")
    if listing_fields and "url" not in listing_fields and link is None:
        c.fail(("listing_fields",), "each listed ad needs a URL: map listing_fields.url or set listing.link")
    if not ({"title", "description"} & set(listing_fields) | {"title", "description"} & set(detail)):
        c.fail(("detail",) if detail else ("listing_fields",), "map at least title or description")

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
        item=item, link=link, next_page=next_page, listing_fields=listing_fields, detail=detail,
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
