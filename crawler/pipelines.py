"""Item pipelines: normalise -> assess -> store. Each counts its events in crawl stats (lurewatch/...)."""
from __future__ import annotations

import functools
import gc
import html
import logging
import re
import sqlite3
import unicodedata

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from .assessproc import AssessError, AssessProcess, AssessProcessDied, settle_batch
from .crawlrecord import crawl_store, crawl_writer, store_opener
from .incremental import source_ledger
from .sqlitetx import StoreError

logger = logging.getLogger(__name__)
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")
_NL = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr)\s*/?>")


def clean_text(value) -> str:
    """Plain text from a field that may hold HTML, entities or odd whitespace."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v)
    text = str(value)
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", _BLOCK.sub("\n", text))
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = "\n".join(_WS.sub(" ", line).strip() for line in text.splitlines())
    return _NL.sub("\n\n", text).strip()


def cut_text(text: str, max_chars: int) -> str:
    """`text` itself, or its first `max_chars` characters followed by a visible marker saying so."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}\n\n[... cut at {max_chars:,} characters]"


class NormalisePipeline:
    """Cleans the text fields; a field longer than LUREWATCH_MAX_FIELD_CHARS is stored cut, with a marker
    (stat lurewatch/ads/text_truncated counts the ads cut)."""
    TEXT_FIELDS = ("title", "company", "location", "country", "salary_text", "description", "contact")

    def __init__(self, stats, max_field_chars: int | None = None):
        self.stats = stats
        self.max_field_chars = max_field_chars or engine_max_field_chars()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, max_field_chars(crawler.settings))

    def process_item(self, item):
        cut = False
        for field in self.TEXT_FIELDS:
            text = clean_text(item.get(field))
            cut = cut or len(text) > self.max_field_chars
            item[field] = cut_text(text, self.max_field_chars)
        if cut:
            self.stats.inc_value("lurewatch/ads/text_truncated")
        if not item.get("url"):
            self.stats.inc_value("lurewatch/dropped/no_url")
            raise DropItem("ad without url")
        if not (item.get("title") or item.get("description")):
            self.stats.inc_value("lurewatch/dropped/empty")
            raise DropItem(f"ad without title or description: {item['url']}")
        item["aliases"] = [u for u in dict.fromkeys(item.get("aliases") or []) if u and u != item["url"]]
        self.stats.inc_value("lurewatch/normalised")
        return item


def engine_max_field_chars() -> int:
    from rules.engine import MAX_FIELD_CHARS

    return MAX_FIELD_CHARS


def max_field_chars(settings) -> int:
    """LUREWATCH_MAX_FIELD_CHARS (the engine's own cap when unset: rules.engine is imported only then)."""
    cap = settings.getint("LUREWATCH_MAX_FIELD_CHARS") if settings.get("LUREWATCH_MAX_FIELD_CHARS") is not None \
        else engine_max_field_chars()
    if cap < 1:
        raise ValueError(f"LUREWATCH_MAX_FIELD_CHARS must be at least 1, got {cap}")
    return cap


def build_engine(max_field_chars: int, store):
    """The crawl's engine: the shipped known lures plus those confirmed in `store` (None, or unreadable: shipped only)."""
    from .lureindex import engine_for_store

    return engine_for_store(store, max_field_chars=max_field_chars)


STORED_COLUMNS = ("url", "source", "spider", "external_id", "title", "company", "location", "country", "salary_text",
                  "description", "contact", "posted_at", "etag", "last_modified", "language")


def stored_row(item) -> dict:
    """The ads-table columns of an item."""
    return {k: item.get(k) for k in STORED_COLUMNS}


def store_entry(item) -> dict:
    """The Store.add_many entry of an item."""
    return {"ad": stored_row(item), "assessment": item.get("assessment"), "aliases": item.get("aliases") or [],
            "snapshot": item.get("snapshot"), "page": item.get("page")}


class AssessPipeline:
    """Scores each ad. An ad already stored with the same text keeps its stored assessment: the engine
    does not run again (this covers pages re-fetched in full from servers without ETag/Last-Modified).
    Ads are settled in batches (crawler/assessproc.py's settle_batch; Engine.assess_many: the similarity stage once
    per batch): LUREWATCH_ASSESS_BATCH ads, or those that came within LUREWATCH_ASSESS_WAIT seconds of the first.
    With LUREWATCH_ASSESS_PROCESS (the default) the batches go to one child process, else they are settled in the
    reactor thread; the verdicts are the same. With LUREWATCH_WRITE_PROCESS too (the default, when StorePipeline
    stores to LUREWATCH_DB) the child also writes each batch (at most LUREWATCH_WRITE_BATCH ads, gathered for
    LUREWATCH_WRITE_INTERVAL seconds at least, as the writer thread does: small transactions cost twice as much per
    ad); the item then carries its (ad_id, status) in
    `stored` (or the error in `store_error`) and StorePipeline only counts it. If the child dies, its batches are
    assessed here and written by the writer thread, so no ad is lost, and the crawl stops ("assess_process_died",
    exit 1)."""

    def __init__(self, crawler, engine_factory, batch: int = 32, wait: float = 0.05, in_process: bool = False,
                 write_in_child: bool = False):
        self.crawler = crawler
        self.stats = crawler.stats
        self.engine_factory = engine_factory  # store (or None) -> the crawl's Engine, built at first use
        self._engine = None
        self.batch, self.wait = max(1, batch), wait
        self.pending: list[tuple[dict, Deferred]] = []
        self._flush_call = None
        self.in_flight = 0  # batches sent to the child and not answered yet
        self._due = False  # the pending batch's wait is over (it goes when the child answers)
        self.write_in_child = in_process and write_in_child
        if self.write_in_child:  # a batch is one write transaction too: bounded as the writer thread's are
            self.batch = min(self.batch, max(1, crawler.settings.getint("LUREWATCH_WRITE_BATCH", 500)))
            self.wait = max(wait, crawler.settings.getfloat("LUREWATCH_WRITE_INTERVAL", 0.2))
        opener = store_opener(crawler.settings) if crawler.settings.get("LUREWATCH_DB") else None
        self.child = AssessProcess(engine_factory, opener) if in_process else None
        crawler._lurewatch_assess = self  # StorePipeline links campaigns in self.child at the end
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        """The engine is built once per crawl, at the first ad to assess (in the child, or here without one); with
        LUREWATCH_DB its similarity stage also knows the lures analysts confirmed in that database
        (crawler/lureindex.py)."""
        settings = crawler.settings
        stores_items = bool(settings.get("LUREWATCH_DB")) and settings.getwithbase("ITEM_PIPELINES").get(
            "crawler.pipelines.StorePipeline") is not None
        return cls(crawler, functools.partial(build_engine, max_field_chars(settings)),
                   settings.getint("LUREWATCH_ASSESS_BATCH", 32), settings.getfloat("LUREWATCH_ASSESS_WAIT", 0.05),
                   settings.getbool("LUREWATCH_ASSESS_PROCESS", True),
                   stores_items and settings.getbool("LUREWATCH_WRITE_PROCESS", True))

    def spider_opened(self, spider=None):
        """Freeze the start-up heap (modules): the garbage collector no longer walks it on every full collection
        (16% of a crawl's CPU before), and the child forked now shares it unchanged. The child is forked here,
        before this process writes anything: SQLite keeps its file-lock state in process memory, and a child forked
        while the writer thread held a write transaction saw that lock forever ("database is locked" after 120 s,
        once in a CI run). It builds the engine only at the first ad to assess (none on a recrawl of 304s)."""
        gc.freeze()
        if self.child is not None:
            self.child.start().addErrback(lambda failure: None)  # a child that cannot start fails its first batch

    @property
    def engine(self):
        """The crawl's engine in this process (no child, or it died), built at first use."""
        if self._engine is None:
            self._engine = self.engine_factory(self.local_store())
        return self._engine

    async def close_spider(self):
        """Stop the child once StorePipeline has closed (its campaign linking may run in the child)."""
        store_closed = getattr(self.crawler, "_lurewatch_store_closed", None)
        if store_closed is not None and self.child is not None:
            await maybe_deferred_to_future(store_closed)
        if self.child is not None:
            self.child.close()

    def local_store(self):
        if not self.crawler.settings.get("LUREWATCH_DB"):
            return None
        try:
            return crawl_store(self.crawler)
        except (StoreError, sqlite3.Error):
            return None  # assessed afresh; StorePipeline reports an unusable database

    async def process_item(self, item):
        outcome = await maybe_deferred_to_future(self.settle(store_entry(item)))
        if outcome.get("stored"):
            item["stored"] = outcome["stored"]
        assessment = outcome.get("assessment")
        item["assessment"] = assessment  # None: the store keeps the ad's assessment and evidence as they are
        if assessment is None:
            item["language"] = outcome.get("language")
            item["stored_flagged"] = bool(outcome.get("flagged"))
        else:
            item["language"] = assessment.get("language")
        if outcome.get("unchanged"):
            self.stats.inc_value("lurewatch/assess_skipped/unchanged")
        else:
            self.stats.inc_value("lurewatch/assessed")
        truncated = len(assessment["truncated_fields"]) if assessment else outcome.get("truncated", 0)
        if truncated:  # text past LUREWATCH_MAX_FIELD_CHARS was not assessed
            self.stats.inc_value("lurewatch/assess/truncated_fields", truncated)
        if item_flagged(item, self.stats):
            self.stats.inc_value("lurewatch/flagged")
        if outcome.get("store_error"):
            item["store_error"] = outcome["store_error"]
        return item

    def settle(self, entry: dict) -> Deferred:
        """Deferred settle_batch outcome of `entry`, made with the next batch."""
        d: Deferred = Deferred()
        self.pending.append((entry, d))
        if len(self.pending) >= self.batch:
            self.flush()
        elif self._flush_call is None and not self._due:
            from twisted.internet import reactor

            self._flush_call = reactor.callLater(self.wait, self._time_up)
        return d

    def _time_up(self) -> None:
        self._flush_call = None
        self._due = True
        self.flush()

    def flush(self) -> None:
        """Send what is pending: a full batch at once, a partial one when its wait is over. While the child works
        on a batch a partial one waits for its answer: a busy child gets fewer, larger batches (fewer commits)."""
        if not self.pending:
            return
        if self.child is not None and self.in_flight and len(self.pending) < self.batch:
            return  # answered() sends it
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call, self._due = None, False
        batch, self.pending = self.pending, []
        entries = [entry for entry, _ in batch]
        if self.child is None:
            self.deliver(batch, *settle_batch(lambda: self.engine, self.local_store(), entries))
            return
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        if not self.write_in_child:  # the child only reads the text (no page bodies through the pipe)
            entries = [{"ad": e["ad"], "aliases": e["aliases"]} for e in entries]
        self.in_flight += 1
        done = self.child.submit(entries, crawl_id, self.write_in_child)
        done.addCallbacks(self.answered, self.child_failed, callbackArgs=(batch,), errbackArgs=(batch,))

    def answered(self, result, batch) -> None:
        self.in_flight -= 1
        self.deliver(batch, *result)
        if self._due or len(self.pending) >= self.batch:
            self.flush()

    def deliver(self, batch, results, committed: bool = False) -> None:
        if committed:
            self.stats.inc_value("lurewatch/store/batches")
        for (_entry, d), (ok, value) in zip(batch, results):
            if ok:
                d.callback(value)
            elif value["kind"] == "store":  # the item goes on: StorePipeline reports it
                d.callback({"store_error": value["error"]})
            else:
                d.errback(AssessError(value["error"]))

    def child_failed(self, failure, batch) -> None:
        """The child died: this batch and the next are settled here (and written by the writer thread); the crawl
        stops. A batch the child wrote before it died is written again: its ads are then unchanged."""
        self.in_flight -= 1
        error = failure.getErrorMessage()
        if self.child is not None:
            self.child = None  # every later batch is settled in this thread
            logger.error("%s: assessing here instead and stopping the crawl", error)
            self.stats.set_value("lurewatch/assess_process_error", error)
            from scrapy.utils.defer import deferred_from_coro
            from twisted.internet import reactor

            reactor.callLater(0, lambda: deferred_from_coro(
                self.crawler.engine.close_spider_async(reason="assess_process_died")))
        self.deliver(batch, *settle_batch(lambda: self.engine, self.local_store(), [entry for entry, _ in batch]))
        self._due = True  # from now on settled here, at once
        self.flush()


class StorePipeline:
    """Writes ads to SQLite off the reactor thread, in batched transactions: an item the assess child wrote
    (`stored`, crawler/assessproc.py) is only counted, the others go to the writer thread
    (crawler.crawlrecord.crawl_writer, crawler/batchwriter.py); an item leaves this pipeline once its batch is committed. The crawls row belongs
    to crawler.crawlrecord.CrawlRecorder. An ad that cannot be stored (full disk, ...) stops the crawl
    ("store_failed": crawler.run exits 5) and leaves its board incomplete; it is counted in lurewatch/errors/store
    and taken out of lurewatch/flagged (only stored ads count)."""

    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = db_path
        self.stopping = False
        self.stored: set[int] = set()  # ads this crawl stored new or changed: linked into campaigns at the end
        self.closed: Deferred = Deferred()  # fired when close_spider is done (AssessPipeline then stops its child)
        crawler._lurewatch_store_closed = self.closed

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("LUREWATCH_DB")
        if not db_path:
            raise NotConfigured("LUREWATCH_DB is not set")
        return cls(crawler, db_path)

    async def process_item(self, item):
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        try:
            if item.get("store_error"):  # the assess child could not write it
                raise StoreError(item["store_error"])
            if item.get("stored"):  # the assess child wrote it (crawler/assessproc.py)
                ad_id, status = item["stored"]
                self.stats.inc_value("lurewatch/store/by_assess_process")
            elif crawl_id is None:
                raise StoreError(self.stats.get_value("lurewatch/db_error") or "the crawl has no crawls row")
            else:
                ad_id, status = await maybe_deferred_to_future(crawl_writer(self.crawler).save(store_entry(item), crawl_id))
        except (StoreError, sqlite3.Error) as exc:
            self.stats.inc_value("lurewatch/errors/store")
            if item_flagged(item, self.stats):
                self.stats.inc_value("lurewatch/flagged", -1)  # counted by AssessPipeline, but not stored
            source_ledger(self.crawler).incomplete(item.get("source") or "", "store", error=True)
            self.stop(f"{type(exc).__name__}: {exc}")
            raise DropItem(f"cannot store {item['url']} in {self.db_path}: {exc}") from exc
        self.stats.inc_value(f"lurewatch/ads/{status}")
        self.stats.inc_value("lurewatch/stored")
        if status != "unchanged":
            self.stored.add(ad_id)
        return item

    async def close_spider(self):
        """Write the ads still queued and stop the writer thread (stat lurewatch/store/batches: its commits);
        then campaign linking over the ads this crawl stored new or changed (crawler/campaigns), unless
        LUREWATCH_CAMPAIGNS is off or the crawl could not store its ads. Stats lurewatch/campaigns/*."""
        try:
            writer = getattr(self.crawler, "_lurewatch_writer", None)
            if writer is not None:
                await maybe_deferred_to_future(writer.close())
                self.stats.inc_value("lurewatch/store/batches", writer.batches)
            await self.link_campaigns()
        finally:
            self.closed.callback(None)

    async def link_campaigns(self) -> None:
        """One link_changed run over the ads this crawl stored new or changed. With LUREWATCH_LINK_PROCESS (the
        default) it runs in the assess child (crawler/assessproc.py) on its own connection, so the crawl process
        pays none of its CPU; here when there is no child (or it died). A failure counts lurewatch/campaigns/failed
        and is logged: the ads stay stored."""
        settings = self.crawler.settings
        if self.stopping or not settings.getbool("LUREWATCH_CAMPAIGNS", True):
            return
        if self.stats.get_value("lurewatch/crawl_id") is None:
            return
        from .campaigns import LinkSettings, link_changed

        assess = getattr(self.crawler, "_lurewatch_assess", None)
        child = assess.child if assess is not None and settings.getbool("LUREWATCH_LINK_PROCESS", True) else None
        ids = sorted(self.stored)
        report = error = None
        try:
            link_settings = LinkSettings.from_settings(settings)
            if child is not None:
                try:
                    ok, value = await maybe_deferred_to_future(child.link(ids, link_settings))
                    report, error = (value, None) if ok else (None, value)
                    self.stats.inc_value("lurewatch/campaigns/linked_in_child")
                except AssessProcessDied as exc:
                    logger.warning("%s: campaign linking in the crawl process instead", exc)
            if report is None and error is None:
                report = link_changed(crawl_store(self.crawler), ids, settings=link_settings)
        except (StoreError, sqlite3.Error, ValueError) as exc:
            error = str(exc)
        if error is not None:
            self.stats.inc_value("lurewatch/campaigns/failed")
            logger.error("campaign linking failed in %s: %s", self.db_path, error)
            return
        self.stats.set_value("lurewatch/campaigns/links_added", report.links_added)
        self.stats.set_value("lurewatch/campaigns/campaigns", report.campaigns)
        self.stats.set_value("lurewatch/campaigns/ads_linked", report.ads_linked)
        logger.info("%s", report)

    def stop(self, error: str) -> None:
        """Close the spider at the first failed write: the next ads would be lost the same way."""
        if self.stopping:
            return
        self.stopping = True
        self.stats.set_value("lurewatch/store_error", error)
        from twisted.internet import reactor
        from scrapy.utils.defer import deferred_from_coro

        reactor.callLater(0, lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_failed")))


def item_flagged(item, stats) -> bool:
    """Whether AssessPipeline counted this item in lurewatch/flagged."""
    if item.get("assessment"):
        return bool(item["assessment"].get("flagged"))
    return bool(item.get("stored_flagged"))
