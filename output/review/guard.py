"""The review app's HTTP guard (an ASGI wrapper installed by the plugin in plugins/lurewatch_review.py).

- DNS rebinding: a request whose `Host` is not an allowed name gets 400, so a web page the analyst opens
  cannot point its own host name at 127.0.0.1 and read the database.
- Every response carries a Content-Security-Policy (nothing loaded from or sent to another origin),
  X-Frame-Options DENY, X-Content-Type-Options nosniff and Referrer-Policy no-referrer.
- Datasette's introspection pages under /-/ (databases with their paths, threads with source paths,
  versions, settings, plugins, metadata, debug pages) answer 404; /-/static/ assets, /-/login, /-/logout and
  the review plugins' pages under /-/lurewatch/ stay (plugins/lurewatch_auth.py asks for a login first).
- The database's absolute path and directory are cut out of every text response (SQL such as
  `select file from pragma_database_list` would show them), and bidi control characters in HTML
  pages are shown as `<U+202E>` so a contact or URL cannot display differently from what it is.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Iterable

from output.textsafety import BIDI_CONTROLS

DEFAULT_HOSTS = ("127.0.0.1", "localhost", "::1")
OPEN_PREFIXES = ("/-/static/", "/-/static-plugins/", "/-/lurewatch/")  # lurewatch: the review plugins' pages
OPEN_PATHS = ("/-/login", "/-/logout")
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
}
_TEXT_TYPES = (b"text/", b"application/json")
_BIDI_HTML = [(ch.encode(), f"&lt;U+{ord(ch):04X}&gt;".encode()) for ch in BIDI_CONTROLS]


def host_name(value: str) -> str:
    """The name in a Host header: lower case, without port or trailing dot ("[::1]:8001" -> "::1")."""
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_hosts(listen_host: str = "127.0.0.1", extra: Iterable[str] = ()) -> list[str]:
    """127.0.0.1, localhost and ::1, the address the app listens on (unless a wildcard) and `extra` names."""
    names = list(DEFAULT_HOSTS)
    for name in (listen_host, *extra):
        name = host_name(name or "")
        if name and name not in ("0.0.0.0", "::") and name not in names:
            names.append(name)
    return names


def path_redactions(db_paths: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """(bytes to find, replacement) for each database's absolute path (-> its file name) and directory,
    spelled raw, JSON-escaped and HTML-escaped; longest first."""
    pairs: dict[bytes, bytes] = {}
    for raw in db_paths:
        path = Path(raw).resolve()
        for secret, shown in ((str(path), path.name), (str(path.parent), "<database directory>")):
            if len(secret) <= 1:
                continue
            for spell in (secret, json.dumps(secret)[1:-1], html.escape(secret)):
                pairs.setdefault(spell.encode(), shown.encode())
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


class Guard:
    """ASGI middleware around the Datasette app (see the module docstring)."""

    def __init__(self, app, hosts: Iterable[str], redactions: list[tuple[bytes, bytes]]):
        self.app = app
        self.hosts = {host_name(h) for h in hosts}
        self.redactions = redactions

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = host_name(headers.get(b"host", b"").decode("latin-1"))
        if host not in self.hosts:
            return await self._plain(send, 400, "Host not allowed. The review app answers only to: "
                                     + ", ".join(sorted(self.hosts)) + " (add names with --allow-host).\n")
        path = scope.get("path", "")
        if path.startswith("/-/") and not path.startswith(OPEN_PREFIXES) and path not in OPEN_PATHS:
            return await self._plain(send, 404, "Not found\n")
        await self.app(scope, receive, _FilteringSend(send, self.redactions).send)

    async def _plain(self, send, status: int, text: str) -> None:
        body = text.encode()
        await _FilteringSend(send, []).send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _FilteringSend:
    """Adds the security headers; rewrites text bodies (path redaction, visible bidi controls in HTML)."""

    def __init__(self, send, redactions: list[tuple[bytes, bytes]]):
        self._send = send
        self.redactions = redactions
        self.start: dict | None = None
        self.buffer: list[bytes] = []
        self.rewrite: list[tuple[bytes, bytes]] = []
        self.sized = False

    async def send(self, message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in SECURITY_HEADERS]
            headers += list(SECURITY_HEADERS.items())
            ctype = next((v.lower() for k, v in headers if k.lower() == b"content-type"), b"")
            if ctype.startswith(_TEXT_TYPES):
                self.rewrite = list(self.redactions) + (_BIDI_HTML if ctype.startswith(b"text/html") else [])
            self.start = {**message, "headers": headers}
            self.sized = any(k.lower() == b"content-length" for k, _ in headers)
            if not self.rewrite or not self.sized:
                await self._send(self.start)
            return
        if kind != "http.response.body" or not self.rewrite:
            return await self._send(message)
        if not self.sized:  # streamed (chunked): each chunk is rewritten as it goes
            return await self._send({**message, "body": self._apply(message.get("body", b""))})
        self.buffer.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = self._apply(b"".join(self.buffer))
        headers = [(k, v) for k, v in self.start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**self.start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    def _apply(self, body: bytes) -> bytes:
        for find, replace in self.rewrite:
            if find in body:
                body = body.replace(find, replace)
        return body
