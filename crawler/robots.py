"""robots.txt: `LurewatchRobotsTxtMiddleware` (DOWNLOADER_MIDDLEWARES, priority 100) fails closed and
fixes Scrapy's concurrent-waiter bug (see the class docstring and tests/test_robots_regression.py)."""
from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer

from .middlewares import build_user_agent, error_kind

logger = logging.getLogger(__name__)


class RobotsUnavailable(Exception):
    """robots.txt could not be read, so the request is not sent (counted as an error of its kind)."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.lurewatch_kind = kind


# robots.txt failures that mean the host itself is unreachable: the page fails with the same kind
NETWORK_KINDS = frozenset({"dns", "timeout", "connection_refused", "connection_lost", "connect", "tls", "truncated"})


class _RobotsFailure:
    """Cached per host when robots.txt could not be fetched or read: every request of the host is refused."""

    def __init__(self, reason: str, kind: str):
        self.reason, self.kind = reason, kind


class LurewatchRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware that fails closed, with the concurrent-waiter bug fixed.

    Fail closed (RFC 9309 2.3.1.4): when robots.txt cannot be fetched (network error, 5xx after
    retries) or reading it fails for any other reason (e.g. the database was locked while the request
    went through the middlewares), the host's requests are not sent: each fails with RobotsUnavailable
    (kind: the network error's kind, else robots_unavailable) and is counted as an error. 4xx means
    "no robots.txt" (allowed), as before; an SSRF-blocked robots.txt blocks its host the same way.

    Stock Scrapy (2.14+) also parks every request that arrives while robots.txt is downloading on one
    shared Deferred. Each waiter converts it with Deferred.asFuture(), whose callback returns None,
    so only the first waiter gets the parser and the others get None = "no robots.txt" = allowed.
    Here every waiter gets its own Deferred, fed by a relay that passes the parser on.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self._default_useragent = build_user_agent(crawler.settings)

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        parser = self._parsers.get(netloc, _MISSING)
        if isinstance(parser, defer.Deferred):
            waiter: defer.Deferred = defer.Deferred()

            def relay(result):
                waiter.callback(result)
                return result  # keep the result for the next waiter in the chain

            parser.addCallback(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            self._stats.inc_value("robotstxt/response_count")
            self._fail(netloc, _RobotsFailure(f"robots.txt answered HTTP {response.status}", "robots_unavailable"))
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        if isinstance(exc, IgnoreRequest):
            failure = _RobotsFailure(f"robots.txt not fetched: {exc}", "ignored")
            failure.ignore = exc
        else:
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            kind = error_kind(exc)
            failure = _RobotsFailure(f"robots.txt unavailable: {type(exc).__name__}: {exc}",
                                     kind if kind in NETWORK_KINDS else "robots_unavailable")
        self._fail(netloc, failure)

    def _fail(self, netloc, failure: _RobotsFailure) -> None:
        logger.warning("%s: %s; its pages are not fetched", netloc, failure.reason)
        waiting = self._parsers.get(netloc)
        self._parsers[netloc] = failure
        if isinstance(waiting, defer.Deferred):
            waiting.callback(failure)

    def process_request_2(self, rp, request):
        if isinstance(rp, _RobotsFailure):
            self._stats.inc_value("lurewatch/robots/unavailable")
            ignore = getattr(rp, "ignore", None)
            if ignore is not None:
                raise ignore
            raise RobotsUnavailable(f"{request.url}: {rp.reason}", rp.kind)
        return super().process_request_2(rp, request)


_MISSING = object()
