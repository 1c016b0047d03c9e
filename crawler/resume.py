"""Pause and resume (Scrapy JOBDIR) that survives SIGKILL: no ad lost, none duplicated.

Stock JOBDIR is only safe after a clean shutdown: the disk queue's index is written on close and
requests.seen records requests when they are *scheduled*. Killed mid-crawl, the queue is lost while
requests.seen (partly flushed) says its requests were done, so the restart never fetches them.

Here:
- `ResumableDupeFilter` keeps this run's fingerprints in memory and persists only requests that are
  *done* (JOBDIR/requests.done, one fingerprint a line, flushed at once): leaf pages whose callback
  yielded no further requests and all of whose items went through the pipelines (stored or dropped).
  Listing pages are never "done", so a restart walks them again and finds every unfinished ad.
  A request skipped because it is done marks its ad seen in this crawl (no false removals).
- `CompletionMiddleware` (spider middleware) decides when a page is done.
- `JobDirGuard` (extension) notices an unclean previous end (marker file still there) and drops the
  stale scheduler queue before Scrapy opens it. After a clean pause (Ctrl-C once) Scrapy's queue is kept.
The store's upsert is idempotent (URL / external id / content hash), so a page fetched twice is one ad.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from scrapy import signals
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)

DONE_FILE = "requests.done"
MARKER = "lurewatch.running"


class DoneLog:
    """Append-only set of fingerprints of finished requests in the job directory."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / DONE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done: set[str] = set()
        if self.path.exists():
            for line in self.path.read_text(encoding="ascii", errors="ignore").splitlines():
                if len(line.strip()) == 40:  # a line cut short by a kill is ignored
                    self.done.add(line.strip())
        self._file = self.path.open("a", encoding="ascii")

    def add(self, fp: str) -> None:
        if fp not in self.done:
            self.done.add(fp)
            self._file.write(fp + "\n")
            self._file.flush()  # in the OS page cache: survives SIGKILL of this process

    def close(self) -> None:
        self._file.close()


def done_log(crawler) -> DoneLog | None:
    directory = job_dir(crawler.settings)
    if not directory:
        return None
    log = getattr(crawler, "_lurewatch_done_log", None)
    if log is None:
        log = crawler._lurewatch_done_log = DoneLog(directory)
    return log


class ResumableDupeFilter(RFPDupeFilter):
    def __init__(self, *args, crawler=None, **kwargs):
        super().__init__(None, *args, **kwargs)  # no requests.seen: it is not kill-safe
        self.crawler = crawler
        self.done = done_log(crawler) if crawler is not None else None
        self.skipped_done = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(debug=crawler.settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=crawler.request_fingerprinter,
                   crawler=crawler)

    def request_seen(self, request) -> bool:
        fp = self.fingerprinter.fingerprint(request)
        if self.done is not None and fp.hex() in self.done.done:
            self.skipped_done += 1
            self._mark_ad_seen(request.url)
            return True
        if fp in self._fingerprints:
            return True
        self._fingerprints.add(fp)
        return False

    def _mark_ad_seen(self, url: str) -> None:
        if not self.crawler.settings.get("LUREWATCH_DB"):
            return
        from .crawlrecord import crawl_store, crawl_writer

        store = crawl_store(self.crawler)
        known = store.known_ad(url)
        if known:
            from .middlewares import written

            written(self.crawler, crawl_writer(self.crawler).mark_seen(known["id"],
                                                                       self.crawler.stats.get_value("lurewatch/crawl_id")))
            self.crawler.stats.inc_value("lurewatch/resume/done_skipped")

    def close(self, reason: str) -> None:
        if self.done is not None:
            self.done.close()
            self.crawler._lurewatch_done_log = None


class CompletionMiddleware:
    """Marks a leaf page done once its callback output is exhausted and all its items left the pipelines."""

    def __init__(self, crawler, log: DoneLog):
        self.crawler = crawler
        self.log = log
        self.pending: dict[int, list] = {}  # id(response) -> [fingerprint, items outstanding, output finished, had requests]
        crawler.signals.connect(self.item_done, signal=signals.item_scraped)
        crawler.signals.connect(self.item_done, signal=signals.item_dropped)
        crawler.signals.connect(self.item_done, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        log = done_log(crawler)
        if log is None:
            raise NotConfigured
        return cls(crawler, log)

    async def process_spider_output(self, response, result):
        from scrapy import Request

        fp = self.crawler.request_fingerprinter.fingerprint(response.request).hex()
        state = self.pending[id(response)] = [fp, 0, False, False]
        try:
            async for out in result:
                if isinstance(out, Request):
                    state[3] = True
                elif out is not None:
                    state[1] += 1
                yield out
        except BaseException:
            self.pending.pop(id(response), None)  # a broken page is not done
            raise
        state[2] = True
        self._maybe_done(response)

    def item_done(self, item=None, response=None, spider=None, **kwargs):
        state = self.pending.get(id(response))
        if state is not None:
            state[1] -= 1
            self._maybe_done(response)

    def _maybe_done(self, response) -> None:
        state = self.pending.get(id(response))
        if state is None or not state[2] or state[1] > 0:
            return
        del self.pending[id(response)]
        if not state[3]:
            logger.debug("page done: %s", response.url)
            self.log.add(state[0])


class JobDirGuard:
    """Drops a scheduler queue left by a killed run (marker file present) before Scrapy reads it."""

    def __init__(self, crawler, directory: Path):
        self.crawler = crawler
        self.marker = directory / MARKER
        directory.mkdir(parents=True, exist_ok=True)
        if self.marker.exists():
            stale = [p for p in (directory / "requests.queue", directory / "requests.seen") if p.exists()]
            for p in stale:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            crawler.stats.set_value("lurewatch/resume/after_kill", 1)
            logger.warning("job directory %s: the previous run did not end cleanly; its queue was dropped, "
                           "listing pages will be walked again (finished pages are skipped)", directory)
        elif (directory / DONE_FILE).exists():
            crawler.stats.set_value("lurewatch/resume/after_pause", 1)
        self.marker.write_text(str(os.getpid()))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        directory = job_dir(crawler.settings)
        if not directory:
            raise NotConfigured
        return cls(crawler, Path(directory))

    def spider_closed(self, spider, reason):
        self.marker.unlink(missing_ok=True)
