"""URL identity: one canonical form per page, and which links stay on the same site.

Pure functions (no Scrapy), so the store, spiders and exports agree on what "the same URL" is.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Query parameters that only track where a click came from; they never change the page.
TRACKING_PARAMS = frozenset({"ref", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga"})
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


@lru_cache(maxsize=65536)  # a crawl asks again for every link of every page (pure: memoised)
def canonicalize(url: str) -> str:
    """Canonical form of an absolute http(s) URL.

    Lower-cases scheme and host, drops the default port, the fragment and tracking
    parameters (utm_*, ref, fbclid, gclid, ...), sorts the query, and percent-encodes
    what needs it. Other schemes are returned unchanged.
    """
    url = url.strip()
    parts = urlsplit(safe_url_string(url))
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k))
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))


def host_of(url: str) -> str:
    """Lower-case host name of a URL ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


@lru_cache(maxsize=65536)
def site_key(url: str) -> str:
    """What identifies a site: host without a leading 'www.', plus the port when not the default.

    Ports count because two servers on one host (127.0.0.1:8001 and :8002) are different sites.
    """
    parts = urlsplit(url)
    host = host_of(url)
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def same_site(url: str, other: str) -> bool:
    """True when both URLs belong to the same site (www. and subdomains of one another count).

    'jobs.example.com' and 'example.com' are the same site; 'example.com' and 'example.org'
    are not; neither are 127.0.0.1:8001 and 127.0.0.1:8002.
    """
    a, b = site_key(url), site_key(other)
    if not a or not b:
        return False
    if a == b:
        return True
    if ":" in a or ":" in b or _is_ip(a) or _is_ip(b):
        return False
    return a.endswith("." + b) or b.endswith("." + a)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def canonical_url(page_url: str, canonical_href: str | None = None) -> str:
    """The URL that names a page: its rel=canonical when that points to the same site, else its own URL.

    A canonical link to another site is ignored: a page cannot claim another site's identity.
    """
    if canonical_href and canonical_href.strip():
        target = urljoin(page_url, canonical_href.strip())
        if urlsplit(target).scheme in DEFAULT_PORTS and same_site(page_url, target):
            return canonicalize(target)
    return canonicalize(page_url)


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in DEFAULT_PORTS and bool(parts.hostname)
