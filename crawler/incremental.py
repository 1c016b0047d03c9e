"""Incremental crawling: which ads a crawl saw, which disappeared, and how the run ended.

`IncrementalExtension` (EXTENSIONS in settings) at the end of each crawl:
- decides the outcome: finished (normal end, nothing failed), partial (ended normally but some
  requests failed or the max_pages budget cut the walk short), failed (any other close reason);
- only after a *finished* crawl, marks every live ad of the crawled sources that this crawl did not
  see (stored or 304) as removed: removed_at + a 'removed' history event; rows and snapshots stay.
  A 404/410 on a known ad URL marks it removed at once (ConditionalRequestMiddleware);
- writes status, removed_ads and the message to the crawls row (the StorePipeline wrote the counts).

A spider can veto removals by setting `spider.complete_walk = False` (e.g. search-only crawls).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import NotConfigured

from .store import Store

logger = logging.getLogger(__name__)


def shared_store(crawler) -> Store:
    """One Store per crawler for the middlewares and extensions (the pipeline keeps its own)."""
    store = getattr(crawler, "_lurewatch_store", None)
    if store is None:
        store = Store(crawler.settings["LUREWATCH_DB"])
        crawler._lurewatch_store = store
    return store


@dataclass(frozen=True)
class Outcome:
    status: str  # finished | partial | failed
    reason: str  # why, in words
    removals_allowed: bool


def crawl_outcome(finish_reason: str, stats: dict, complete_walk: bool = True) -> Outcome:
    """How a crawl ended, from Scrapy's finish reason and the crawl stats."""
    errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("lurewatch/errors/") and v}
    spider_exc = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    if finish_reason != "finished":
        return Outcome("failed", f"crawl ended early: {finish_reason}", False)
    problems = []
    if errors:
        problems.append("errors: " + ", ".join(f"{k}={v}" for k, v in sorted(errors.items())))
    if spider_exc:
        problems.append(f"spider exceptions: {spider_exc}")
    if stats.get("lurewatch/max_pages_reached"):
        problems.append(f"max_pages={stats['lurewatch/max_pages_reached']} reached")
    if not complete_walk:
        problems.append("spider walked part of the site only")
    if problems:
        return Outcome("partial", "; ".join(problems) + " (no removals marked)", False)
    return Outcome("finished", "complete walk", True)


class IncrementalExtension:
    def __init__(self, crawler):
        if not crawler.settings.get("LUREWATCH_DB") or not crawler.settings.getbool("LUREWATCH_INCREMENTAL", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.sources: set[str] = set()
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_scraped(self, item, response=None, spider=None):
        if item.get("source"):
            self.sources.add(item["source"])

    def spider_error(self, failure, response=None, spider=None):
        self.stats.inc_value(f"lurewatch/errors/spider_{type(failure.value).__name__.lower()}")

    def crawled_sources(self, crawl_id: int) -> set[str]:
        """Sources this crawl touched: ads stored, or ads confirmed by 304."""
        store = shared_store(self.crawler)
        rows = store.db.execute("SELECT DISTINCT source FROM ads WHERE last_crawl_id = ?", [crawl_id]).fetchall()
        return self.sources | {r[0] for r in rows if r[0]}

    def spider_closed(self, spider, reason):
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        if crawl_id is None:
            return
        store = shared_store(self.crawler)
        outcome = crawl_outcome(reason, self.stats.get_stats(), getattr(spider, "complete_walk", True))
        removed = self.stats.get_value("lurewatch/ads/removed", 0)
        if outcome.removals_allowed:
            for ad_id in store.unseen_ads(self.crawled_sources(crawl_id), crawl_id):
                if store.mark_removed(ad_id, crawl_id, reason="absent from a complete crawl"):
                    removed += 1
            self.stats.set_value("lurewatch/ads/removed", removed)
        self.stats.set_value("lurewatch/outcome", outcome.status)
        errors = {k.split("/", 2)[2]: v for k, v in self.stats.get_stats().items() if k.startswith("lurewatch/errors/")}
        store.finish_crawl(crawl_id, status=outcome.status, removed_ads=removed, errors=errors,
                           pages=self.stats.get_value("response_received_count", 0), message=outcome.reason)
        logger.info("crawl %s %s: %s; %d ads marked removed", crawl_id, outcome.status, outcome.reason, removed)
        store.close()
        self.crawler._lurewatch_store = None
