"""Selectors of site profiles: css / xpath / url-regex queries with options, and alternatives tried in order.

Extraction with parsel only (no Scrapy). A selected element yields its readable text (`node_text`), a link
selector an href (`link_value`); a `url:` selector reads a regular expression over the page's (or the ad's) URL.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from parsel import Selector, SelectorList

# Block elements that end a line when an element's text is taken.
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
               "article", "dd", "dt", "blockquote", "pre"}


@dataclass(frozen=True)
class FieldSelector:
    """One way to pull a value out of a page: css or xpath, then optional regex; or a regex over a URL."""

    kind: str  # css | xpath | url (query is then the regex over the URL)
    query: str
    regex: re.Pattern | None = None
    join: str = " "
    first: bool = False
    default: str | None = None

    def select(self, sel: Selector | SelectorList) -> SelectorList:
        if self.kind == "url":
            return SelectorList([])
        return sel.css(self.query) if self.kind == "css" else sel.xpath(self.query)

    def values(self, sel: Selector, url: str | None = None) -> list[str]:
        """Every non-empty string the selector yields (elements become their text); `url:` reads `url`."""
        out: list[str] = []
        if self.kind == "url":
            m = self.regex.search(url or "") if self.regex is not None else None
            value = (m.group(1) if m.groups() else m.group(0)).strip() if m else ""
            return [value] if value else []
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

    def extract(self, sel: Selector, url: str | None = None) -> str | None:
        vals = self.values(sel, url)
        if not vals:
            return self.default
        return vals[0] if self.first else self.join.join(vals)


@dataclass(frozen=True)
class FieldRule:
    """Alternatives tried in order; the first that yields a value wins."""

    alternatives: tuple[FieldSelector, ...]

    def extract(self, sel: Selector, url: str | None = None) -> str | None:
        for alt in self.alternatives:
            value = alt.extract(sel, url)
            if value:
                return value
        return None

    @property
    def reads_url(self) -> bool:
        return any(alt.kind == "url" for alt in self.alternatives)

    def values(self, sel: Selector, url: str | None = None) -> list[str]:
        for alt in self.alternatives:
            vals = alt.values(sel, url)
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
