"""Contacts hidden in links: `tel:`/`mailto:`/messenger hrefs behind link text such as "Chat with us".

Pure functions (no Scrapy import), used by JobPosting extraction (crawler/extract.py) and the profile spider.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import lxml.etree
import lxml.html

# Link schemes and messenger hosts whose hrefs are contacts even when the link text hides them ("Chat with us").
CONTACT_SCHEMES = ("tel:", "sms:", "mailto:", "tg:", "whatsapp:", "viber:", "line:", "weixin:", "skype:")
_MESSENGER_HOST = re.compile(
    r"^https?://(?:www\.)?(?:t\.me|telegram\.(?:me|dog)|wa\.me|(?:api|web|chat)\.whatsapp\.com|line\.me|lin\.ee|"
    r"zalo\.me|m\.me|viber\.click|signal\.me|u\.wechat\.com|weixin\.qq\.com|qm\.qq\.com)/", re.I)
_ANCHORS = lxml.etree.XPath("descendant-or-self::a[@href]")


def unscheme(href: str) -> str:
    """A readable contact from a tel:/mailto:/app link: '+66 81 234 5678', 'hr@x.example', 'https://t.me/x'."""
    parts = urlsplit(href.strip())
    scheme, query = parts.scheme.lower(), parse_qs(parts.query)
    if scheme in ("tel", "sms", "mailto"):
        return unquote(parts.path.split(";", 1)[0]).strip()
    if scheme == "tg" and query.get("domain"):
        return f"https://t.me/{query['domain'][0]}"
    if scheme == "whatsapp" and query.get("phone"):
        return f"https://wa.me/{query['phone'][0].strip().lstrip('+')}"
    if scheme == "viber" and query.get("number"):
        return f"Viber +{query['number'][0].strip().lstrip('+')}"
    return unquote(href.strip())


def link_contacts(fragment: str | Any, every_link: bool = False) -> list[str]:
    """Contacts in the hrefs of an HTML fragment (or lxml element) that its text does not show:
    tel:/mailto:/messenger links, and with `every_link` any http(s) link too (a contact block's links)."""
    if isinstance(fragment, str):
        try:
            fragment = lxml.html.fromstring(fragment)
        except (lxml.etree.ParserError, ValueError):  # empty, or not HTML at all
            return []
    out: list[str] = []
    for a in _ANCHORS(fragment):
        href = (a.get("href") or "").strip()
        low = href.lower()
        if low.startswith(CONTACT_SCHEMES):
            value = unscheme(href)
        elif _MESSENGER_HOST.match(href) or (every_link and low.startswith(("http://", "https://"))):
            value = href
        else:
            continue
        shown = " ".join(a.text_content().split())
        if value and value not in shown and value.split("://", 1)[-1] not in shown:
            out.append(value)
    return out


def join_contacts(*parts: str | None) -> str:
    """One contact line from several sources (page text, hidden links, JobPosting markup), each part once."""
    return "; ".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
