"""A small real HTTP server on 127.0.0.1 (port 0 by default) for the demo board and test sites.

A site is a mapping of path -> Page, or a callable handler. Runs in a thread:

    with LocalSite({"/": Page("<html>...</html>")}) as site:
        site.url("/")
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping
from urllib.parse import urlsplit


@dataclass
class Page:
    body: bytes | str
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


# A dynamic route: receives the handler (for headers, path) and returns a Page or None (404).
Route = Callable[[BaseHTTPRequestHandler], "Page | None"]


class LocalSite:
    def __init__(self, pages: Mapping[str, Page | Route] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 fallback: Route | None = None):
        self.pages: dict[str, Page | Route] = dict(pages or {})
        self.fallback = fallback
        self.requests: list[str] = []  # paths requested, in order (query included)
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: with Nagle on, each keep-alive response waits ~40 ms for an ACK.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self.do_GET(head=True)

            def do_GET(self, head: bool = False):
                site.requests.append(self.path)
                page = site.resolve(self)
                if page is None:
                    page = Page("not found", status=404, content_type="text/plain")
                body = page.encoded()
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                for k, v in page.headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in page.headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head and page.status not in (204, 304):
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    def resolve(self, handler: BaseHTTPRequestHandler) -> Page | None:
        path = handler.path
        entry = self.pages.get(path) or self.pages.get(urlsplit(path).path)
        if entry is None and self.fallback:
            return self.fallback(handler)
        if callable(entry):
            return entry(handler)
        return entry

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> "LocalSite":
        self._thread = threading.Thread(target=self.server.serve_forever, name="localsite", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "LocalSite":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
