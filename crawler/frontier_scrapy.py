"""Scrapy side of the shared frontier (crawler/frontier.py), switched on by the setting LUREWATCH_FRONTIER
(redis://HOST:PORT/DB; `lurewatch crawl --frontier`, or `-s` from scrapyd). `FrontierAddon` (ADDONS) then puts in:

- `FrontierScheduler`: scrapy-redis's scheduler on the run's keys; enqueue (seen-set + queue) and pop
  (queue -> this worker's in-flight hash) are each one Lua script, so a kill cannot lose a request;
- `FrontierExtension`: registers the worker, heartbeats, acknowledges a request once the engine is done with
  it (items through the pipelines, yielded requests queued), requeues dead workers' requests, keeps an idle
  worker open while others still hold requests, and at the end publishes its board ledger for take-downs;
- `SharedPolitenessMiddleware`: per-site leases in Redis: at most CONCURRENT_REQUESTS_PER_DOMAIN requests
  in flight to a site and DOWNLOAD_DELAY between them, across every worker (LUREWATCH_FRONTIER_SITE_*);
- `FrontierRobotsTxtMiddleware`: robots.txt fetched once per run and shared (still failing closed);
- `RedisItemPipeline`: with LUREWATCH_SINK=redis, assessed items go to the crawl's stream for `lurewatch ingest`.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import socket
import time
import uuid

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import defer, task

from . import frontier as fr
from .frontier_addon import FrontierAddon  # noqa: F401 - ADDONS names it in crawler.frontier_addon
from .robots import LurewatchRobotsTxtMiddleware, _RobotsFailure

logger = logging.getLogger(__name__)
TOKEN = "lurewatch_frontier_token"
LEASE = "lurewatch_site_lease"


def crawl_frontier(crawler) -> fr.Frontier:
    """The crawler's Frontier (joins the crawl's current run on first use)."""
    frontier = getattr(crawler, "_lurewatch_frontier", None)
    if frontier is None:
        s = crawler.settings
        spider = crawler.spider
        name = s.get("LUREWATCH_FRONTIER_CRAWL") or fr.crawl_name(
            spider.name, getattr(spider, "start_urls", []) or [], s.get("LUREWATCH_JOB"))
        frontier = fr.Frontier(fr.connect(s["LUREWATCH_FRONTIER"]), name,
                               dead_after=s.getfloat("LUREWATCH_FRONTIER_DEAD_AFTER", 10.0))
        crawler._lurewatch_frontier = frontier
    return frontier


class FrontierScheduler(RedisScheduler):
    """scrapy-redis's scheduler on the run's keys, with kill-safe enqueue and pop."""

    def __init__(self, crawler):
        super().__init__(server=None, persist=True)
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open(self, spider):
        self.spider = spider
        self.frontier = crawl_frontier(self.crawler)
        self.server = self.frontier.r
        self.queue = PriorityQueue(self.server, spider, self.frontier.keys.requests)
        self.df = RFPDupeFilter(self.server, key=self.frontier.keys.seen)
        left = self.frontier.queue_length()
        if left and not self.frontier.new_run:
            logger.info("frontier %s run %d: joining, %d requests queued", self.frontier.crawl, self.frontier.run, left)

    def close(self, reason):
        pass  # the run's keys outlive a worker; FrontierExtension ends the run

    def __len__(self):
        return self.frontier.queue_length()

    def has_pending_requests(self):
        return self.frontier.queue_length() > 0

    def enqueue_request(self, request):
        if TOKEN in request.meta:  # a retry or redirect of a popped request: a new entry of its own
            request = request.replace(meta={k: v for k, v in request.meta.items() if k != TOKEN})
        added = self.frontier.enqueue(self.df.request_fingerprint(request), -request.priority,
                                      self.queue._encode_request(request), request.dont_filter)
        if not added:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        got = self.frontier.pop()
        if got is None:
            return None
        token, data = got
        request = self.queue._decode_request(data)
        request.meta[TOKEN] = token
        self.stats.inc_value("scheduler/dequeued/redis")
        return request


def worker_ledger(crawler, spider, reason: str) -> dict:
    """This worker's part of the run: boards requested, boards with problems, and problems no board can be
    blamed for (which rule out take-downs for the whole run)."""
    from .incremental import source_ledger

    ledger = source_ledger(crawler)
    stats = crawler.stats.get_stats()
    blanket = []
    if reason != "finished":
        blanket.append(f"ended early: {reason}")
    if not getattr(spider, "complete_walk", True):
        blanket.append("spider walked part of the site only")
    errors = sum(v for k, v in stats.items() if k.startswith("lurewatch/errors/") and v)
    if errors - ledger.attributed_errors > 0:
        blanket.append(f"{errors - ledger.attributed_errors} errors not tied to a board")
    if stats.get("lurewatch/max_pages_reached"):
        blanket.append(f"max_pages={stats['lurewatch/max_pages_reached']} reached")
    return {"requested": sorted(ledger.requested), "problems": sorted(ledger.problems), "blanket": blanket}


class FrontierExtension:
    """Worker registry, acknowledgements, dead-worker recovery, idle handling, end of the run."""

    def __init__(self, crawler):
        if not crawler.settings.get("LUREWATCH_FRONTIER"):
            raise NotConfigured
        self.crawler = crawler
        self.heartbeat_every = crawler.settings.getfloat("LUREWATCH_FRONTIER_HEARTBEAT", 2.0)
        self.loops: list[task.LoopingCall] = []
        self.waiting = False
        crawler._lurewatch_frontier_result = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.frontier = crawl_frontier(self.crawler)
        self.frontier.register(host=socket.gethostname(), pid=os.getpid(),
                               node=self.crawler.settings.get("LUREWATCH_NODE") or socket.gethostname(),
                               sink=self.crawler.settings.get("LUREWATCH_SINK") or "db")
        stats = self.crawler.stats
        stats.set_value("lurewatch/frontier/crawl", self.frontier.crawl)
        stats.set_value("lurewatch/frontier/run", self.frontier.run)
        stats.set_value("lurewatch/frontier/worker", self.frontier.worker)
        engine = self.crawler.engine
        finish = engine._remove_request  # called once the engine is done with a scheduled request

        def remove_request(_, request):
            try:
                return finish(_, request=request)
            finally:
                self.acknowledge(request)

        engine._remove_request = remove_request
        for call, every in ((self.heartbeat, self.heartbeat_every), (self.nudge, 0.2)):
            loop = task.LoopingCall(call)
            loop.start(every, now=False)
            self.loops.append(loop)
        logger.info("frontier %s run %d: worker %s %s", self.frontier.crawl, self.frontier.run, self.frontier.worker,
                    "started the run" if self.frontier.new_run else "joined")

    def acknowledge(self, request) -> None:
        token = request.meta.get(TOKEN)
        if token:
            self.frontier.ack(token)

    def heartbeat(self) -> None:
        self.frontier.beat()
        self.frontier.set_worker(pages=self.crawler.stats.get_value("downloader/response_count", 0))

    def nudge(self) -> None:
        """While waiting on other workers, look at the queue often (Scrapy's own idle check is every 5 s)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        if self.waiting and slot is not None:
            self.waiting = False
            slot.nextcall.schedule()

    def spider_idle(self, spider):
        recovered = self.frontier.recover_dead()
        for worker, moved in recovered.items():
            logger.warning("frontier %s: worker %s is dead; %d of its requests queued again",
                           self.frontier.crawl, worker, moved)
            self.crawler.stats.inc_value("lurewatch/frontier/requeued_from_dead", moved)
        if self.frontier.queue_length() or self.frontier.others_busy():
            self.waiting = True
            raise DontCloseSpider

    def spider_closed(self, spider, reason):
        for loop in self.loops:
            if loop.running:
                loop.stop()
        left = self.frontier.requeue_mine()  # after a clean finish there is none
        if left:
            logger.warning("frontier %s: %d unfinished requests of this worker queued again", self.frontier.crawl, left)
        result = self.frontier.finish(pages=self.crawler.stats.get_value("downloader/response_count", 0),
                                      ledger=worker_ledger(self.crawler, spider, reason), reason=reason)
        self.crawler._lurewatch_frontier_result = result
        if result is not None:
            self.crawler.stats.set_value("lurewatch/frontier/closed_run", 1)
            logger.info("frontier %s run %d finished: %s; complete boards: %s", self.frontier.crawl,
                        self.frontier.run, result["reason"], ", ".join(result["complete_sources"]) or "none")


class SharedPolitenessMiddleware:
    """Per-site leases in Redis, shared by all workers: at most `limit` requests in flight to a site and
    `delay` seconds between two requests to it. A killed worker's leases expire (DOWNLOAD_TIMEOUT + 10 s)."""

    def __init__(self, crawler):
        s = crawler.settings
        if not s.get("LUREWATCH_FRONTIER"):
            raise NotConfigured
        self.crawler = crawler
        self.limit = s.getint("LUREWATCH_FRONTIER_SITE_CONCURRENCY") or s.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 4)
        delay = s.get("LUREWATCH_FRONTIER_SITE_DELAY")
        self.delay = float(delay) if delay not in (None, "") else s.getfloat("DOWNLOAD_DELAY", 0)
        self.ttl = s.getint("DOWNLOAD_TIMEOUT", 30) + 10
        self._acquire = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        frontier = crawl_frontier(self.crawler)
        if self._acquire is None:
            self._acquire = frontier.r.register_script(fr.ACQUIRE_SLOT)
        netloc = urlparse_cached(request).netloc
        token = f"{frontier.keys.alive(frontier.worker)}|{uuid.uuid4().hex}"  # dropped when this worker dies
        while True:
            wait_ms = int(self._acquire(keys=list(fr.site_keys(netloc)), args=[self.limit, self.delay, self.ttl, token]))
            if not wait_ms:
                break
            self.crawler.stats.inc_value("lurewatch/frontier/site_waits")
            await asyncio.sleep(min(wait_ms, 200) / 1000)
        request.meta[LEASE] = (netloc, token)
        return None

    def release(self, request) -> None:
        lease = request.meta.pop(LEASE, None)
        if lease:
            crawl_frontier(self.crawler).r.zrem(fr.site_keys(lease[0])[0], lease[1])

    def process_response(self, request, response, spider=None):
        self.release(request)
        return response

    def process_exception(self, request, exception, spider=None):
        self.release(request)
        return None


class FrontierRobotsTxtMiddleware(LurewatchRobotsTxtMiddleware):
    """robots.txt fetched by one worker per run and shared through Redis; the others wait for it
    (or fetch it themselves if the fetching worker dies)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.publish: set[str] = set()
        self.wait_for = crawler.settings.getint("DOWNLOAD_TIMEOUT", 30) * (crawler.settings.getint("RETRY_TIMES", 2) + 1) + 10

    async def robot_parser(self, request):
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            await self._shared(request, netloc)
        return await super().robot_parser(request)

    async def _shared(self, request, netloc) -> None:
        frontier = crawl_frontier(self.crawler)
        key = frontier.keys.robots(netloc)
        deadline = time.monotonic() + self.wait_for
        while True:
            if netloc in self._parsers:
                return
            raw = frontier.r.get(key)
            if raw:
                break
            if frontier.r.set(key + ":lock", frontier.worker, nx=True, ex=self.wait_for) or time.monotonic() > deadline:
                self.publish.add(netloc)  # this worker fetches it, and shares it
                return
            await asyncio.sleep(0.05)
        if netloc in self._parsers:
            return
        entry = json.loads(raw)
        self._stats.inc_value("lurewatch/frontier/robots_shared")
        self._parsers[netloc] = defer.Deferred()
        if entry["kind"] == "response":
            response = Response(entry["url"], status=entry["status"], body=base64.b64decode(entry["body"]))
            await self._parse_robots(response, netloc, request)
        else:
            self._fail(netloc, _RobotsFailure(entry["reason"], entry["kind"]))

    def _share(self, netloc, entry: dict) -> None:
        if netloc in self.publish:
            self.publish.discard(netloc)
            crawl_frontier(self.crawler).r.set(crawl_frontier(self.crawler).keys.robots(netloc), json.dumps(entry),
                                               ex=7 * 86400)

    async def _parse_robots(self, response, netloc, request):
        self._share(netloc, {"kind": "response", "url": response.url, "status": response.status,
                             "body": base64.b64encode(response.body).decode()})
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        super()._robots_error(exc, netloc)
        failure = self._parsers.get(netloc)
        if isinstance(failure, _RobotsFailure):
            self._share(netloc, {"kind": failure.kind, "reason": failure.reason})


def item_payload(item) -> dict:
    """A JSON-ready copy of a stored item: the ads columns, aliases, assessment and snapshot (body in base64)."""
    from .pipelines import stored_row

    snapshot = dict(item.get("snapshot") or {}) or None
    if snapshot and isinstance(snapshot.get("body"), bytes):
        snapshot["body_b64"] = base64.b64encode(snapshot.pop("body")).decode()
    return {"row": stored_row(item), "aliases": list(item.get("aliases") or []), "assessment": item.get("assessment"),
            "snapshot": snapshot, "flagged": bool((item.get("assessment") or {}).get("flagged") or item.get("stored_flagged"))}


class RedisItemPipeline:
    """LUREWATCH_SINK=redis: each assessed item goes to the crawl's stream (XADD) with an id made from the
    run and the item's content, so an item delivered twice (a page fetched again after a kill) is stored once."""

    def __init__(self, crawler):
        if not (crawler.settings.get("LUREWATCH_FRONTIER") and crawler.settings.get("LUREWATCH_SINK") == "redis"):
            raise NotConfigured
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        frontier = crawl_frontier(self.crawler)
        payload = item_payload(item)
        data = json.dumps(payload, sort_keys=True, default=str)
        item_id = hashlib.sha1(f"{frontier.crawl}\n{frontier.run}\n{data}".encode()).hexdigest()
        frontier.r.xadd(frontier.keys.items, {"kind": "item", "run": frontier.run, "id": item_id, "data": data})
        stats = self.crawler.stats
        stats.inc_value("lurewatch/pushed")
        stats.inc_value("lurewatch/stored")
        return item
