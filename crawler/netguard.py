"""SSRF guard: refuse to fetch private, loopback, link-local, CGNAT, multicast or cloud-metadata
addresses unless the user named the host explicitly (trusted hosts).

Pure Python (no Scrapy) so the Scrapy downloader middleware and the Playwright route hook share it:

    guard = NetGuard(trusted={"127.0.0.1:8000"})
    await guard.check("http://10.0.0.5/")   # -> "blocked: 10.0.0.5 is private" or None
    await page.route("**/*", guard.playwright_route)

A trusted entry "host:port" (or a URL) trusts exactly that host and port; a bare "host" trusts its default
ports 80 and 443 only, never the host's other ports. Hostnames are resolved and every address is checked
(an attacker's DNS may answer with 127.0.0.1).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Iterable
from urllib.parse import urlsplit

# Ranges Python's ipaddress flags do not cover on their own.
EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",  # CGNAT (RFC 6598)
    "169.254.169.254/32",  # cloud metadata (AWS/GCP/Azure/OpenStack)
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "192.0.0.0/24",  # IETF protocol assignments
    "198.18.0.0/15",  # benchmarking
)]
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def blocked_reason(ip: str) -> str | None:
    """Why an IP address must not be fetched, or None when it is a public address."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"{ip!r} is not an IP address"
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped or addr.sixtofour
        if mapped is not None:
            return blocked_reason(str(mapped))
    for net in EXTRA_BLOCKED:
        if addr.version == net.version and addr in net:
            return f"{addr} is in {net} (CGNAT/metadata/reserved)"
    for flag in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(addr, f"is_{flag}"):
            return f"{addr} is {flag.replace('_', '-')}"
    if not addr.is_global:
        return f"{addr} is not a global address"
    return None


def netloc_key(url: str) -> tuple[str, int | None]:
    """(lower-case host, port) of a URL; the port is the scheme's default when the URL gives none
    (None for a scheme without one)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    return host, port if port is not None else DEFAULT_PORTS.get(parts.scheme)


def parse_trusted(entries: Iterable[str] | str | None) -> set[tuple[str, int | None]]:
    """Trusted entries ("host", "host:port", "[::1]:8080" or a URL) -> {(host, port)}; a bare host
    stands for its default ports 80 and 443."""
    if not entries:
        return set()
    if isinstance(entries, str):
        entries = entries.split(",")
    out: set[tuple[str, int | None]] = set()
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        if "://" in entry:
            host, port = netloc_key(entry)
            ports = [port]
        else:
            host, port = netloc_key(f"trusted://{entry}")
            ports = [port] if port is not None else [80, 443]
        if host:
            out.update((host, p) for p in ports)
    return out


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class NetGuard:
    def __init__(self, trusted: Iterable[str] | str | None = None):
        self.trusted = parse_trusted(trusted)
        self._resolved: dict[str, list[str]] = {}

    def trust(self, entries: Iterable[str] | str | None) -> None:
        self.trusted |= parse_trusted(entries)

    def is_trusted(self, url: str) -> bool:
        return netloc_key(url) in self.trusted

    async def resolve(self, host: str) -> list[str]:
        if host in self._resolved:
            return self._resolved[host]
        try:
            ipaddress.ip_address(host)
            addrs = [host]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError):
                addrs = []  # unresolvable: the download itself will fail with a DNS error
            else:
                addrs = list(dict.fromkeys(info[4][0] for info in infos))
        self._resolved[host] = addrs
        return addrs

    async def check(self, url: str) -> str | None:
        """None when `url` may be fetched, else the reason it is blocked."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "about", "blob"):
            return None
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return f"scheme {parts.scheme!r} is not allowed"
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return "URL has no host"
        if self.is_trusted(url) and (_is_ip_literal(host) or host == "localhost"):
            return None  # the user named this exact address and port
        # a trusted *name* is still resolved and checked: its DNS may point it at an internal address
        if host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
            return f"host {host!r} is local or a metadata service"
        for ip in await self.resolve(host):
            reason = blocked_reason(ip)
            if reason:
                return f"{host} -> {reason}"
        return None

    def resolved(self, host: str) -> list[str]:
        """Addresses already checked for `host` (to pin the connection to them)."""
        return self._resolved.get(host.lower().rstrip("."), [])

    async def playwright_route(self, route) -> None:
        """Playwright route handler: `await page.route("**/*", guard.playwright_route)`."""
        reason = await self.check(route.request.url)
        if reason:
            self.blocked.append((route.request.url, reason))
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def playwright_abort_request(self, request) -> bool:
        """For scrapy-playwright's PLAYWRIGHT_ABORT_REQUEST: True aborts the browser request."""
        reason = await self.check(request.url)
        if reason:
            self.blocked.append((request.url, reason))
        return reason is not None

    @property
    def blocked(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_blocked"):
            self._blocked: list[tuple[str, str]] = []
        return self._blocked
