"""Incremental crawling: which boards a crawl walked completely, and which of their ads disappeared.

Completeness is kept per board (the ads' `source`: a site's host[:port], a profile's source name,
t.me/<channel>) in a `SourceLedger`, one per crawler:
- a board counts as crawled once a request of it is scheduled;
- it is incomplete when any of its requests finally failed (ErrorAccountingMiddleware), the page
  budget skipped one of its pages, a spider callback raised on one of its pages, an ad page's
  markup could not be read, or one of its ads could not be stored.
At the end (`settle`, called by the crawls-row owner crawler.crawlrecord.CrawlRecorder) every live ad
of each *complete* board that nobody saw since this crawl started is marked removed (removed_at + a
'removed' history event; rows and snapshots stay), whatever happened on other boards. A 404/410 on a
known ad URL marks it removed at once (ConditionalRequestMiddleware). Nothing is removed when the
crawl did not end normally, when the spider says `complete_walk = False` (e.g. search-only crawls),
or when errors were counted that no board can be blamed for. A worker of a shared frontier
(crawler/frontier_scrapy.py) removes nothing unless it closed the run: then it settles the boards that
every worker walked completely, since the run began.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from scrapy import signals
from scrapy.exceptions import NotConfigured

from .urls import site_key

logger = logging.getLogger(__name__)


class SourceLedger:
    """Boards (sources) a crawl requested, and why some of them were not walked completely."""

    def __init__(self):
        self.requested: set[str] = set()
        self.problems: dict[str, Counter] = defaultdict(Counter)
        self.attributed_errors = 0  # lurewatch/errors/* counts that were charged to a board

    def crawled(self, source: str) -> None:
        if source:
            self.requested.add(source)

    def incomplete(self, source: str, why: str, *, error: bool = False) -> None:
        self.problems[source or "?"][why] += 1
        if error:
            self.attributed_errors += 1

    def complete_sources(self) -> list[str]:
        return sorted(s for s in self.requested if s not in self.problems)


def source_ledger(crawler) -> SourceLedger:
    ledger = getattr(crawler, "_lurewatch_ledger", None)
    if ledger is None:
        ledger = crawler._lurewatch_ledger = SourceLedger()
    return ledger


def request_source(crawler, request) -> str:
    """The board a request belongs to: meta lurewatch_source, else the spider's source_of(url), else the site."""
    source = request.meta.get("lurewatch_source")
    if source:
        return source
    spider = getattr(crawler, "spider", None)
    if spider is not None and hasattr(spider, "source_of"):
        return spider.source_of(request.url)
    return site_key(request.url)


# board problems that are limits the user set, not failures (a crawl cut short only by them exits 0)
LIMIT_REASONS = frozenset({"max_pages", "max_pages_per_channel"})


@dataclass(frozen=True)
class Outcome:
    status: str  # finished | partial | failed
    reason: str  # why, in words
    complete_sources: tuple[str, ...] = field(default=())
    failed_requests: bool = False  # partial because something failed (errors), not only because of limits

    @property
    def removals_allowed(self) -> bool:
        return bool(self.complete_sources)


def crawl_outcome(finish_reason: str, stats: dict, complete_walk: bool = True,
                  ledger: SourceLedger | None = None) -> Outcome:
    """How a crawl ended, from Scrapy's finish reason, the crawl stats and the per-board ledger."""
    ledger = ledger or SourceLedger()
    errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("lurewatch/errors/") and v}
    if finish_reason != "finished":
        return Outcome("failed", f"crawl ended early: {finish_reason} (no removals marked)")
    problems = []
    if errors:
        problems.append("errors: " + ", ".join(f"{k}={v}" for k, v in sorted(errors.items())))
    if stats.get("lurewatch/max_pages_reached"):
        problems.append(f"max_pages={stats['lurewatch/max_pages_reached']} reached")
    for source in sorted(ledger.problems):
        why = ", ".join(f"{k}={v}" for k, v in sorted(ledger.problems[source].items()))
        problems.append(f"board {source} incomplete ({why})")
    blanket = []
    if not complete_walk:
        blanket.append("spider walked part of the site only")
    unattributed = sum(errors.values()) - ledger.attributed_errors
    if unattributed > 0:
        blanket.append(f"{unattributed} errors not tied to a board")
    complete = () if blanket else tuple(ledger.complete_sources())
    if not problems and not blanket:
        return Outcome("finished", "complete walk", complete)
    removals = (f"removals marked on complete boards: {', '.join(complete)}" if complete
                else "no removals marked")
    failed = bool(errors) or any(why not in LIMIT_REASONS for counts in ledger.problems.values() for why in counts)
    return Outcome("partial", "; ".join(problems + blanket) + f" ({removals})", complete, failed)


def settle(crawler, store, crawl_id: int, started_at: str, reason: str, spider) -> Outcome:
    """Judge the crawl and mark the take-downs of its complete boards; stats lurewatch/ads/removed."""
    stats = crawler.stats
    outcome = crawl_outcome(reason, stats.get_stats(), getattr(spider, "complete_walk", True), source_ledger(crawler))
    removed = stats.get_value("lurewatch/ads/removed", 0)
    complete, since = outcome.complete_sources, started_at
    if hasattr(crawler, "_lurewatch_frontier_result"):  # a frontier worker: only the run's last worker settles
        run = crawler._lurewatch_frontier_result
        if run and not run.get("pushed"):  # else `lurewatch ingest` settles, once it stored the pushed items
            complete, since = run["complete_sources"], run["started_at"]
        else:
            complete = ()
    if crawler.settings.getbool("LUREWATCH_INCREMENTAL", True):
        for source in complete:
            removed += store.remove_unseen(source, since, crawl_id, "absent from a complete crawl of its board")
    stats.set_value("lurewatch/ads/removed", removed)
    stats.set_value("lurewatch/outcome", outcome.status)
    stats.set_value("lurewatch/outcome_reason", outcome.reason)
    stats.set_value("lurewatch/outcome_failed", outcome.failed_requests)
    logger.info("crawl %s %s: %s; %d ads marked removed", crawl_id, outcome.status, outcome.reason, removed)
    return outcome


class IncrementalExtension:
    """Feeds the SourceLedger from crawler signals: boards requested, spider exceptions, failed items."""

    def __init__(self, crawler):
        if not (crawler.settings.get("LUREWATCH_DB") or crawler.settings.get("LUREWATCH_FRONTIER")):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.ledger = source_ledger(crawler)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def request_scheduled(self, request, spider=None):
        self.ledger.crawled(request_source(self.crawler, request))

    def spider_error(self, failure, response=None, spider=None):
        kind = f"spider_{type(failure.value).__name__.lower()}"
        self.stats.inc_value(f"lurewatch/errors/{kind}")
        if response is not None and response.request is not None:
            self.ledger.incomplete(request_source(self.crawler, response.request), kind, error=True)

    def item_error(self, item, response=None, spider=None, failure=None):
        self.ledger.incomplete(item.get("source") or "", "item_error")
