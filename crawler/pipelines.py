"""Item pipelines: normalise -> assess -> store. Each counts its events in crawl stats (lurewatch/...)."""
from __future__ import annotations

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

from rules import Engine
from rules.engine import MAX_FIELD_CHARS

from .assessproc import AssessError, AssessProcess, assess_batch
from .crawlrecord import crawl_store, crawl_writer
from .incremental import source_ledger
from .lureindex import engine_for_store
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

    def __init__(self, stats, max_field_chars: int = MAX_FIELD_CHARS):
        self.stats = stats
        self.max_field_chars = max_field_chars

    @classmethod
    def from_crawler(cls, crawler):
        cap = crawler.settings.getint("LUREWATCH_MAX_FIELD_CHARS", MAX_FIELD_CHARS)
        if cap < 1:
            raise ValueError(f"LUREWATCH_MAX_FIELD_CHARS must be at least 1, got {cap}")
        return cls(crawler.stats, cap)

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


STORED_COLUMNS = ("url", "source", "spider", "external_id", "title", "company", "location", "country", "salary_text",
                  "description", "contact", "posted_at", "etag", "last_modified", "language")


def stored_row(item) -> dict:
    """The ads-table columns of an item."""
    return {k: item.get(k) for k in STORED_COLUMNS}


class AssessPipeline:
    """Scores each ad. An ad already stored with the same text keeps its stored assessment: the engine
    does not run again (this covers pages re-fetched in full from servers without ETag/Last-Modified).
    Ads are assessed in batches (Engine.assess_many: the similarity stage once per batch): LUREWATCH_ASSESS_BATCH
    ads, or those that came within LUREWATCH_ASSESS_WAIT seconds of the first. With LUREWATCH_ASSESS_PROCESS (the
    default) the batches are assessed in one child process (crawler/assessproc.py), else in the reactor thread;
    the verdicts are the same. If the child dies, its batches are assessed here, so no ad is lost, and the crawl
    stops ("assess_process_died", exit 1)."""

    def __init__(self, crawler, engine: Engine, batch: int = 32, wait: float = 0.05, in_process: bool = False):
        self.crawler = crawler
        self.stats = crawler.stats
        self.engine = engine
        self.batch, self.wait = max(1, batch), wait
        self.pending: list[tuple[tuple[dict, list[str]], Deferred]] = []
        self._flush_call = None
        self.child = AssessProcess(engine) if in_process else None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        """The engine is built once per crawl; with LUREWATCH_DB its similarity stage also knows the lures
        analysts confirmed in that database (crawler/lureindex.py)."""
        cap = crawler.settings.getint("LUREWATCH_MAX_FIELD_CHARS", MAX_FIELD_CHARS)
        store = None
        if crawler.settings.get("LUREWATCH_DB"):
            try:
                store = crawl_store(crawler)
            except (StoreError, sqlite3.Error):
                store = None  # the shipped corpus only; the crawl reports the unusable database
        return cls(crawler, engine_for_store(store, max_field_chars=cap), crawler.settings.getint("LUREWATCH_ASSESS_BATCH", 32),
                   crawler.settings.getfloat("LUREWATCH_ASSESS_WAIT", 0.05),
                   crawler.settings.getbool("LUREWATCH_ASSESS_PROCESS", True))

    def spider_opened(self, spider=None):
        """Freeze the start-up heap (modules, engine): the garbage collector no longer walks it on every full
        collection (16% of a crawl's CPU before), and the child forked now shares it unchanged. Then fork the
        assess process while the first pages download."""
        gc.freeze()
        if self.child is not None:
            self.child.start().addErrback(lambda failure: None)  # a child that cannot start fails its first batch

    def close_spider(self):
        if self.child is not None:
            self.child.close()

    def stored_unchanged(self, item):
        if not self.crawler.settings.get("LUREWATCH_DB"):
            return None
        try:
            return crawl_store(self.crawler).unchanged_ad(stored_row(item), item.get("aliases") or [])
        except (StoreError, sqlite3.Error):
            return None  # assessed afresh; StorePipeline reports an unusable database

    async def process_item(self, item):
        stored = self.stored_unchanged(item)
        if stored is not None:
            item["assessment"] = None  # the store keeps the ad's assessment and evidence as they are
            item["language"] = stored.get("language")
            self.stats.inc_value("lurewatch/assess_skipped/unchanged")
            item["stored_flagged"] = bool(stored.get("flagged"))
            if stored.get("flagged"):
                self.stats.inc_value("lurewatch/flagged")
            return item
        ad = {k: item.get(k) for k in ("url", "title", "company", "location", "description", "contact")}
        ad["salary"] = item.get("salary_text")
        urls = [item["url"], *(item.get("aliases") or [])]  # a confirmed lure's new text is not its own match
        assessment = await maybe_deferred_to_future(self.assess(ad, urls))
        item["assessment"] = assessment
        item["language"] = assessment.get("language")
        self.stats.inc_value("lurewatch/assessed")
        if assessment["truncated_fields"]:  # text past LUREWATCH_MAX_FIELD_CHARS was not assessed
            self.stats.inc_value("lurewatch/assess/truncated_fields", len(assessment["truncated_fields"]))
        if assessment["flagged"]:
            self.stats.inc_value("lurewatch/flagged")
        return item

    def assess(self, ad: dict, urls: list[str]) -> Deferred:
        """Deferred Assessment.to_dict() of `ad`, made with the next batch."""
        d: Deferred = Deferred()
        self.pending.append(((ad, urls), d))
        if len(self.pending) >= self.batch:
            self.flush()
        elif self._flush_call is None:
            from twisted.internet import reactor

            self._flush_call = reactor.callLater(self.wait, self.flush)
        return d

    def flush(self) -> None:
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        work = [task for task, _ in batch]
        if self.child is None:
            self.deliver(batch, assess_batch(self.engine, work))
            return
        done = self.child.submit(work)
        done.addCallbacks(lambda results: self.deliver(batch, results),
                          lambda failure: self.child_failed(batch, failure))

    def deliver(self, batch, results) -> None:
        for (_task, d), (ok, value) in zip(batch, results):
            if ok:
                d.callback(value)
            else:
                d.errback(AssessError(value))

    def child_failed(self, batch, failure) -> None:
        """The child died: this batch and the next are assessed here; the crawl stops."""
        error = failure.getErrorMessage()
        if self.child is not None:
            self.child = None  # every later batch is assessed in this thread
            logger.error("%s: assessing here instead and stopping the crawl", error)
            self.stats.set_value("lurewatch/assess_process_error", error)
            from scrapy.utils.defer import deferred_from_coro
            from twisted.internet import reactor

            reactor.callLater(0, lambda: deferred_from_coro(
                self.crawler.engine.close_spider_async(reason="assess_process_died")))
        self.deliver(batch, assess_batch(self.engine, [task for task, _ in batch]))


class StorePipeline:
    """Writes ads to SQLite off the reactor thread, in batched transactions (crawler.crawlrecord.crawl_writer,
    crawler/batchwriter.py): an item leaves this pipeline once its batch is committed. The crawls row belongs
    to crawler.crawlrecord.CrawlRecorder. An ad that cannot be stored (full disk, ...) stops the crawl
    ("store_failed": crawler.run exits 5) and leaves its board incomplete; it is counted in lurewatch/errors/store
    and taken out of lurewatch/flagged (only stored ads count)."""

    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = db_path
        self.stopping = False
        self.stored: set[int] = set()  # ads this crawl stored new or changed: linked into campaigns at the end

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("LUREWATCH_DB")
        if not db_path:
            raise NotConfigured("LUREWATCH_DB is not set")
        return cls(crawler, db_path)

    async def process_item(self, item):
        entry = {"ad": stored_row(item), "assessment": item.get("assessment"), "aliases": item.get("aliases") or [],
                 "snapshot": item.get("snapshot"), "page": item.get("page")}
        crawl_id = self.stats.get_value("lurewatch/crawl_id")
        try:
            if crawl_id is None:
                raise StoreError(self.stats.get_value("lurewatch/db_error") or "the crawl has no crawls row")
            ad_id, status = await maybe_deferred_to_future(crawl_writer(self.crawler).save(entry, crawl_id))
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
        writer = getattr(self.crawler, "_lurewatch_writer", None)
        if writer is not None:
            await maybe_deferred_to_future(writer.close())
            self.stats.set_value("lurewatch/store/batches", writer.batches)
        self.link_campaigns()

    def link_campaigns(self) -> None:
        settings = self.crawler.settings
        if self.stopping or not settings.getbool("LUREWATCH_CAMPAIGNS", True):
            return
        if self.stats.get_value("lurewatch/crawl_id") is None:
            return
        from .campaigns import LinkSettings, link_changed

        try:
            report = link_changed(crawl_store(self.crawler), sorted(self.stored),
                                  settings=LinkSettings.from_settings(settings))
        except (StoreError, sqlite3.Error, ValueError) as exc:
            self.stats.inc_value("lurewatch/campaigns/failed")
            logger.error("campaign linking failed in %s: %s", self.db_path, exc)
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
