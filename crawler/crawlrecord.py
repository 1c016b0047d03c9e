"""The crawl's database access: one Store per crawler, and the one owner of the `crawls` row.

`crawl_store(crawler)` is the single accessor every crawl component (pipelines, middlewares, the
dupefilter, extensions) uses to read, so a crawl holds one SQLite connection on the reactor thread, opened
with the busy timeout and retry settings (LUREWATCH_DB_BUSY_TIMEOUT, LUREWATCH_DB_RETRY_FOR, seconds).
`crawl_writer(crawler)` writes seen/removed marks (and the ads, unless the assess child writes them:
crawler/assessproc.py, LUREWATCH_WRITE_PROCESS) in batches on a thread with its own connection
(crawler/batchwriter.py, LUREWATCH_WRITE_BATCH, LUREWATCH_WRITE_INTERVAL); each batch of ads adds its counts to the
crawls row (`record_progress`). It is closed (queue written) before the take-downs are settled. Every connection
of a crawl is opened by `store_opener(settings)`.

`CrawlRecorder` (EXTENSIONS) owns the crawls row: it inserts it when the spider opens (with this
host and pid), and when the spider closes it settles the take-downs (crawler.incremental.settle),
judges the run (crawler.run.judge) and writes status, counts, errors and the summary in one update,
then closes the store. crawler.run reports a crash after that through `record_crash`, which goes
through it too. A crawl that never wrote its end (killed, or its last write failed) is marked
`interrupted` by the next crawl on the same host once its process is gone (`mark_interrupted`).

crawls.status: running | finished | partial (exit 0 or 7) | failed | interrupted.
"""
from __future__ import annotations

import logging
import os
import socket
import sqlite3

from scrapy import signals
from scrapy.exceptions import NotConfigured

from .batchwriter import BATCH, INTERVAL, BatchWriter
from .joblocks import process_alive, process_started
from .sqlitetx import BUSY_TIMEOUT, RETRY_FOR, StoreError
from .store import Store, now

logger = logging.getLogger(__name__)


def store_opener(settings):
    """A function that opens a new connection to the crawl's database (LUREWATCH_DB) with the crawl's busy timeout
    and retry settings: the one way crawl components open it (this thread, the writer thread, the child process)."""
    path = settings["LUREWATCH_DB"]
    busy_timeout = settings.getfloat("LUREWATCH_DB_BUSY_TIMEOUT", BUSY_TIMEOUT)
    retry_for = settings.getfloat("LUREWATCH_DB_RETRY_FOR", RETRY_FOR)
    return lambda: Store(path, busy_timeout=busy_timeout, retry_for=retry_for)


def crawl_store(crawler) -> Store:
    """The crawler's Store (opened on first use; CrawlRecorder closes it when the spider closes)."""
    store = getattr(crawler, "_lurewatch_store", None)
    if store is None:
        store = crawler._lurewatch_store = store_opener(crawler.settings)()
    return store


def crawl_writer(crawler) -> BatchWriter:
    """The crawler's batch writer (started on first use; closed by StorePipeline, at the latest by CrawlRecorder)."""
    writer = getattr(crawler, "_lurewatch_writer", None)
    if writer is None:
        s = crawler.settings
        writer = BatchWriter(
            store_opener(s), batch=s.getint("LUREWATCH_WRITE_BATCH", BATCH), interval=s.getfloat("LUREWATCH_WRITE_INTERVAL", INTERVAL),
            progress=record_progress)
        crawler._lurewatch_writer = writer
    return writer


def close_crawl_writer(crawler) -> None:
    """Write what the crawl's writer holds and stop it (blocks; nothing to do when it is already closed)."""
    writer = getattr(crawler, "_lurewatch_writer", None)
    if writer is not None:
        writer.close_now()


def record_progress(store: Store, crawl_id: int, statuses) -> None:
    """Inside a batch's transaction: add the ads it stored ({status: count}) to the crawls row, so the row of a
    crawl that is killed says what it had stored (finish_crawl writes the final counts)."""
    store.db.execute("UPDATE crawls SET items = coalesce(items, 0) + ?, new_ads = coalesce(new_ads, 0) + ?,"
                     " changed_ads = coalesce(changed_ads, 0) + ?, unchanged_ads = coalesce(unchanged_ads, 0) + ?"
                     " WHERE id = ?", [sum(statuses.values()), statuses["new"], statuses["changed"],
                                        statuses["unchanged"], crawl_id])


def close_crawl_store(crawler) -> None:
    store = getattr(crawler, "_lurewatch_store", None)
    if store is not None:
        store.close()
        crawler._lurewatch_store = None


def crawl_counts(stats: dict) -> dict:
    """The crawls-row counts from crawl stats."""
    get = lambda key: stats.get(f"lurewatch/{key}", 0)  # noqa: E731
    return {
        "pages": stats.get("response_received_count", 0), "items": get("stored"), "new_ads": get("ads/new"),
        "changed_ads": get("ads/changed"), "unchanged_ads": get("ads/unchanged"), "assessed_ads": get("assessed"),
        "removed_ads": get("ads/removed"), "not_modified_ads": get("ads/not_modified") + get("ads/unchanged_by_hash"), "flagged_ads": get("flagged"),
    }


def crawl_errors(crawler, stats: dict) -> dict:
    errors = {k.split("/", 2)[-1]: v for k, v in stats.items() if k.startswith("lurewatch/errors/")}
    mws = crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")
    if mws.get("crawler.middlewares.ErrorAccountingMiddleware") is None:  # else retries would count twice
        for k, v in stats.items():
            if k.startswith("downloader/exception_type_count/"):
                errors[k.rsplit(".", 1)[-1]] = v
    return errors


def mark_interrupted(store: Store, host: str | None = None) -> list[int]:
    """Mark `interrupted` the crawls still `running` on this host whose process is gone; their ids."""
    host = host or socket.gethostname()

    def work() -> list[int]:
        rows = store.db.execute("SELECT id, pid, pid_started, items FROM crawls WHERE status = 'running' AND host = ?",
                                [host]).fetchall()
        dead = [(crawl_id, items) for crawl_id, pid, started, items in rows if not process_alive(pid, started)]
        for crawl_id, items in dead:
            store.db.execute(
                "UPDATE crawls SET status = 'interrupted', finished_at = ?, message = coalesce(message || '; ', '') || ?"
                " WHERE id = ?", [now(), "interrupted: its process ended without recording the end of the crawl "
                                         f"(killed, or its last database write failed); {items or 0} ads stored before",
                                  crawl_id])
        return [crawl_id for crawl_id, _ in dead]

    dead = store.write(work)
    for crawl_id in dead:
        logger.warning("crawl %s was interrupted (its process on %s is gone): marked interrupted", crawl_id, host)
    return dead


class CrawlRecorder:
    def __init__(self, crawler):
        if not crawler.settings.get("LUREWATCH_DB"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.crawl_id: int | None = None
        self.started_at: str | None = None
        crawler._lurewatch_recorder = self
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        try:
            store = crawl_store(self.crawler)
            mark_interrupted(store)
            self.crawl_id = store.start_crawl(spider.name, getattr(spider, "crawl_args", {}),
                                              job=self.crawler.settings.get("LUREWATCH_JOB"), host=socket.gethostname(),
                                              pid=os.getpid(), pid_started=process_started(os.getpid()))
            self.started_at = store.crawl(self.crawl_id)["started_at"]
        except (StoreError, sqlite3.Error) as exc:
            self.stats.set_value("lurewatch/db_error", f"cannot record the crawl in {self.crawler.settings['LUREWATCH_DB']}: {exc}")
            logger.error("%s", self.stats.get_value("lurewatch/db_error"))
            from twisted.internet import reactor
            from scrapy.utils.defer import deferred_from_coro

            reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason="database_error")))
            return
        self.stats.set_value("lurewatch/crawl_id", self.crawl_id)

    def spider_closed(self, spider, reason):
        if self.crawl_id is None:
            close_crawl_writer(self.crawler)
            close_crawl_store(self.crawler)
            return
        from .incremental import settle
        from .run import FINISHED_CODES, judge, summary_line

        try:
            close_crawl_writer(self.crawler)  # every ad and seen mark committed before the take-downs are judged
            store = crawl_store(self.crawler)
            outcome = settle(self.crawler, store, self.crawl_id, self.started_at, reason, spider)
            stats = dict(self.stats.get_stats(), finish_reason=reason)
            code, verdict = judge(stats, spider)
            message = summary_line(stats, self.crawl_id) + ("" if verdict == "ok" else f" ({verdict})")
            if outcome.status != "finished" and outcome.reason not in message:
                message += f"; {outcome.reason}"
            store.finish_crawl(self.crawl_id, status=outcome.status if code in FINISHED_CODES else "failed", message=message,
                               errors=crawl_errors(self.crawler, stats), **crawl_counts(stats))
        except (StoreError, sqlite3.Error) as exc:
            self.stats.set_value("lurewatch/db_error", f"cannot finish crawl {self.crawl_id}: {exc}")
            logger.error("%s", self.stats.get_value("lurewatch/db_error"))
        finally:
            close_crawl_store(self.crawler)

    def record_crash(self, message: str) -> None:
        """The crawl crashed after its spider closed: mark its row failed."""
        if self.crawl_id is None:
            return
        try:
            crawl_store(self.crawler).finish_crawl(self.crawl_id, status="failed", message=message)
        except (StoreError, sqlite3.Error) as exc:
            logger.error("cannot mark crawl %s failed: %s", self.crawl_id, exc)
        finally:
            close_crawl_store(self.crawler)


def record_crash(crawler, message: str) -> None:
    recorder = getattr(crawler, "_lurewatch_recorder", None)
    if recorder is not None:
        recorder.record_crash(message)


def start_run(store: Store, spider: str, args: dict | None = None) -> int:
    """A crawls row for a run outside Scrapy (`lurewatch import`, spider "import"): running, with this host
    and pid, so a killed run is marked interrupted like a crawl."""
    mark_interrupted(store)
    return store.start_crawl(spider, args or {}, host=socket.gethostname(), pid=os.getpid(),
                             pid_started=process_started(os.getpid()))


def finish_run(store: Store, crawl_id: int, status: str, message: str, errors: dict | None = None,
               **counts: int) -> None:
    """The end of such a run: status (finished | partial | failed), summary, errors by kind and counts."""
    store.finish_crawl(crawl_id, status=status, message=message, errors=errors or {}, **counts)
