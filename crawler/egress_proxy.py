"""Egress proxy for Chromium: every connection the browser makes is checked by the SSRF guard.

Chromium is started with `--proxy-server=http://127.0.0.1:PORT --proxy-bypass-list=<-loopback>`, so page
loads, redirects (each hop is a new request), scripts, fetches, frames, WebSockets, popups and service workers
all reach the network through this proxy, whatever Playwright's route hooks see. For each connection it
resolves the host once, checks every address with `crawler.netguard.NetGuard` (trusted "host:port" pass,
private/loopback/metadata addresses are refused) and connects to the address it checked, so a DNS answer
that changes between the check and the connect (rebinding) cannot slip through.

It speaks the two forms Chromium uses: `CONNECT host:port` (https, wss) and absolute-URI requests for
plain http (forwarded with `Connection: close`, one request per connection). It runs on its own event loop
in a daemon thread:

    with EgressProxy(NetGuard({"127.0.0.1:8000"})) as proxy:
        launch_args = proxy.chromium_args()

Example:

    proxy = EgressProxy(NetGuard(["127.0.0.1:8000"]), on_block=print).start()
    proxy.stop()
"""
from __future__ import annotations

import asyncio
import threading
from typing import Callable
from urllib.parse import urlsplit

from .netguard import NetGuard, blocked_reason

MAX_HEADER_BYTES = 64 * 1024
CONNECT_TIMEOUT = 15.0
IDLE_TIMEOUT = 120.0


class EgressProxy:
    """A loopback HTTP proxy that lets through only what `guard` allows (see module docstring)."""

    def __init__(self, guard: NetGuard, on_block: Callable[[str, str], None] | None = None,
                 host: str = "127.0.0.1"):
        self.guard = guard
        self.on_block = on_block
        self.host = host
        self.port: int | None = None
        self.blocked: list[tuple[str, str]] = []  # (target, reason)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> "EgressProxy":
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, 0))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="lurewatch-egress-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> "EgressProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def chromium_args(self) -> list[str]:
        """Launch flags that send all of Chromium's traffic, loopback included, through this proxy."""
        return [f"--proxy-server={self.url}", "--proxy-bypass-list=<-loopback>"]

    # -- one client connection ---------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
            writer.close()
            return
        if len(head) > MAX_HEADER_BYTES:
            await self._refuse(writer, 431, "request header too large")
            return
        request_line, _, rest = head.partition(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ", 2)
        except ValueError:
            await self._refuse(writer, 400, "bad request line")
            return
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            url = f"https://{host}:{port_text}/"
        else:
            url, parts = target, urlsplit(target)
            host, port_text = (parts.hostname or ""), str(parts.port or 80)
            if parts.scheme != "http":
                await self._refuse(writer, 400, f"only http:// or CONNECT, got {target[:80]!r}")
                return
        host = host.strip("[]")
        try:
            port = int(port_text)
        except ValueError:
            await self._refuse(writer, 400, f"bad port in {target[:80]!r}")
            return
        if not await self.guard.resolve(host.lower().rstrip(".")):
            await self._refuse(writer, 502, f"cannot resolve {host}")  # a DNS failure, not a block
            return
        address = await self._checked_address(url, host, port)
        if address is None:
            await self._refuse(writer, 403, "blocked by Lurewatch's SSRF guard")
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            await self._refuse(writer, 502, f"cannot connect to {host}:{port}")
            return
        if method.upper() == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            up_writer.write(_origin_form(method, target, version, rest))
            await up_writer.drain()
        await _pipe_both(reader, writer, up_reader, up_writer)

    async def _checked_address(self, url: str, host: str, port: int) -> str | None:
        """The address to connect to, or None (recorded in `blocked`) when the guard refuses it."""
        reason = await self.guard.check(url)
        addresses = await self.guard.resolve(host.lower().rstrip("."))  # cached: resolved once in _handle
        if reason is None and not self.guard.is_trusted(url):
            # connect only to an address that passed the check (never re-resolve between check and connect)
            addresses = [a for a in addresses if blocked_reason(a) is None]
            if not addresses:
                reason = f"{host} has no public address"
        if reason is not None:
            self.blocked.append((f"{host}:{port}", reason))
            if self.on_block is not None:
                self.on_block(f"{host}:{port}", reason)
            return None
        return addresses[0]

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
        body = reason.encode("utf-8", "replace")
        try:
            writer.write(f"HTTP/1.1 {status} {reason[:60]}\r\nContent-Type: text/plain\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1", "replace") + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


def _origin_form(method: str, target: str, version: str, rest: bytes) -> bytes:
    """The request as the origin server expects it: path-only target, no proxy headers, Connection: close."""
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [line for line in rest.split(b"\r\n") if line]
    kept = [line for line in lines
            if line.split(b":", 1)[0].strip().lower() not in (b"proxy-connection", b"connection", b"keep-alive",
                                                                 b"proxy-authorization")]
    head = [f"{method} {path} {version}".encode("latin-1"), *kept, b"Connection: close"]
    return b"\r\n".join(head) + b"\r\n\r\n"


async def _pipe_both(r1: asyncio.StreamReader, w1: asyncio.StreamWriter,
                     r2: asyncio.StreamReader, w2: asyncio.StreamWriter) -> None:
    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await asyncio.wait_for(src.read(65536), IDLE_TIMEOUT)
                if not chunk:
                    break
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, asyncio.TimeoutError, asyncio.CancelledError):
            pass
        finally:
            try:
                dst.close()
            except RuntimeError:
                pass

    await asyncio.gather(pipe(r1, w2), pipe(r2, w1), return_exceptions=True)
