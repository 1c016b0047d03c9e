"""Item pipelines: normalise -> assess -> store. Each counts its events in crawl stats (lurewatch/...)."""
from __future__ import annotations

import html
import re
import sqlite3
import unicodedata

from scrapy.exceptions import DropItem, NotConfigured

from rules import Engine

from .store import Store, StoreError

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


class NormalisePipeline:
    TEXT_FIELDS = ("title", "company", "location", "country", "salary_text", "description", "contact")

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        for field in self.TEXT_FIELDS:
            item[field] = clean_text(item.get(field))
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
    does not run again (this covers pages re-fetched in full from servers without ETag/Last-Modified)."""

    def __init__(self, stats, engine: Engine, db_path: str | None = None):
        self.stats = stats
        self.engine = engine
        self.db_path = db_path
        self.store: Store | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, Engine.load(), crawler.settings.get("LUREWATCH_DB"))

    def open_spider(self, spider=None):
        if self.db_path:
            try:
                self.store = Store(self.db_path)
            except StoreError:
                self.store = None  # StorePipeline reports an unusable database

    def close_spider(self, spider=None):
        if self.store:
            self.store.close()

    def process_item(self, item):
        stored = self.store.unchanged_ad(stored_row(item), item.get("aliases") or []) if self.store else None
        if stored is not None:
            item["assessment"] = None  # the store keeps the ad's assessment and evidence as they are
            item["language"] = stored.get("language")
            self.stats.inc_value("lurewatch/assess_skipped/unchanged")
            if stored.get("flagged"):
                self.stats.inc_value("lurewatch/flagged")
            return item
        ad = {k: item.get(k) for k in ("url", "title", "company", "location", "description", "contact")}
        ad["salary"] = item.get("salary_text")
        assessment = self.engine.assess(ad).to_dict()
        item["assessment"] = assessment
        item["language"] = assessment.get("language")
        self.stats.inc_value("lurewatch/assessed")
        if assessment["flagged"]:
            self.stats.inc_value("lurewatch/flagged")
        return item


class StorePipeline:
    """Writes ads to SQLite and records the run in the crawls table."""

    def __init__(self, crawler, db_path: str):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = db_path
        self.store: Store | None = None
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler):
        db_path = crawler.settings.get("LUREWATCH_DB")
        if not db_path:
            raise NotConfigured("LUREWATCH_DB is not set")
        return cls(crawler, db_path)

    def open_spider(self, spider=None):
        self.store = Store(self.db_path)
        spider = spider or self.crawler.spider
        self.crawl_id = self.store.start_crawl(spider.name, getattr(spider, "crawl_args", {}),
                                               job=self.crawler.settings.get("LUREWATCH_JOB"))
        self.stats.set_value("lurewatch/crawl_id", self.crawl_id)

    def process_item(self, item):
        row = stored_row(item)
        try:
            ad_id, status = self.store.save_ad(row, item.get("assessment"), aliases=item.get("aliases") or [],
                                               crawl_id=self.crawl_id, snapshot=item.get("snapshot"))
        except (StoreError, sqlite3.Error) as exc:
            self.stats.inc_value("lurewatch/errors/store")
            raise DropItem(f"cannot store {item['url']} in {self.db_path}: {exc}") from exc
        self.stats.inc_value(f"lurewatch/ads/{status}")
        self.stats.inc_value("lurewatch/stored")
        return item

    def _errors_accounted(self) -> bool:
        """True when crawler.middlewares.ErrorAccountingMiddleware counts failures in lurewatch/errors/."""
        mws = self.crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")
        return mws.get("crawler.middlewares.ErrorAccountingMiddleware") is not None

    def close_spider(self, spider=None):
        if not self.store:
            return
        stats = self.stats.get_stats()
        errors = {k.split("/", 2)[-1]: v for k, v in stats.items() if k.startswith("lurewatch/errors/")}
        if not self._errors_accounted():  # else Scrapy's raw counts would count retries and robots.txt twice
            for k, v in stats.items():
                if k.startswith("downloader/exception_type_count/"):
                    errors[k.rsplit(".", 1)[-1]] = v
        self.store.finish_crawl(
            self.crawl_id,
            status="finished",
            pages=stats.get("response_received_count", 0),
            items=stats.get("lurewatch/stored", 0),
            new_ads=stats.get("lurewatch/ads/new", 0),
            changed_ads=stats.get("lurewatch/ads/changed", 0),
            unchanged_ads=stats.get("lurewatch/ads/unchanged", 0),
            assessed_ads=stats.get("lurewatch/assessed", 0),
            removed_ads=stats.get("lurewatch/ads/removed", 0),
            not_modified_ads=stats.get("lurewatch/ads/not_modified", 0),
            flagged_ads=stats.get("lurewatch/flagged", 0),
            errors=errors,
        )
        self.store.close()
