"""The shared crawl frontier in Redis: runs, workers, request queue, in-flight requests (no Scrapy here).

A *crawl* is named (the plan job, or spider + start URLs) and runs many times; a *run* is one walk of
it, shared by every worker started while it is running (`join_run`). Keys (prefix `lurewatch:`):

    crawls                         set of crawl names (for `status` and `ingest`)
    {crawl}:run                    the current run number
    {crawl}:{run}:meta             hash: state running|done, started_at, finished_at, result (JSON)
    {crawl}:{run}:requests         sorted set: the request queue (scrapy-redis PriorityQueue encoding)
    {crawl}:{run}:seen             set: request fingerprints (scrapy-redis dupefilter)
    {crawl}:{run}:inflight:{w}     hash: requests worker w popped and has not finished (token -> request)
    {crawl}:{run}:workers          hash: worker -> JSON {host, pid, state running|done|dead, pages, ledger}
    {crawl}:{run}:alive:{w}        heartbeat key with a TTL: gone = the worker is dead
    {crawl}:{run}:robots:{netloc}  robots.txt fetched once for all workers
    {crawl}:items                  stream of items for `lurewatch ingest` (and one `end` entry per run)
    site:{netloc}:leases / :next   per-site politeness shared by every crawl and worker

A request popped from the queue moves atomically into its worker's in-flight hash and leaves it only
once the worker has finished with it (its items stored or pushed, the requests it yielded queued).
A worker whose heartbeat expired is dead: the next idle worker moves its in-flight requests back to
the queue (`recover_dead`). So a killed worker loses no request; a page it was fetching is fetched again.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit

PREFIX = "lurewatch:"
ITEMS_GROUP = "ingest"


class FrontierError(RuntimeError):
    """The frontier URL is wrong or Redis cannot be reached; the message names the URL."""


def check_url(url: str) -> str:
    """`url` if it is a redis://HOST:PORT/DB URL, else FrontierError naming it."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        raise FrontierError(f"not a Redis URL (expected redis://HOST:PORT/DB): {url!r}")
    return url


def connect(url: str):
    """A redis-py client for `url`, checked with PING; FrontierError naming the URL otherwise."""
    import redis

    check_url(url)
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise FrontierError(f"cannot reach Redis at {url}: {exc}") from None
    return client


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def crawl_name(spider_name: str, urls: Iterable[str], job: str | None = None) -> str:
    """The crawl's name in Redis: the plan job's, else the spider's and a hash of its start URLs
    (so workers started with the same command join the same crawl)."""
    if job:
        return job
    digest = hashlib.sha1("\n".join(sorted(urls)).encode()).hexdigest()[:10]
    return f"{spider_name}-{digest}"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Keys:
    crawl: str
    run: int

    @property
    def base(self) -> str:
        return f"{PREFIX}{self.crawl}:{self.run}:"

    meta = property(lambda self: self.base + "meta")
    requests = property(lambda self: self.base + "requests")
    seen = property(lambda self: self.base + "seen")
    workers = property(lambda self: self.base + "workers")

    def inflight(self, worker: str) -> str:
        return f"{self.base}inflight:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.base}alive:{worker}"

    def robots(self, netloc: str) -> str:
        return f"{self.base}robots:{netloc}"

    @property
    def items(self) -> str:
        return items_key(self.crawl)


def items_key(crawl: str) -> str:
    return f"{PREFIX}{crawl}:items"


def site_keys(netloc: str) -> tuple[str, str]:
    return f"{PREFIX}site:{netloc}:leases", f"{PREFIX}site:{netloc}:next"


# -- Lua scripts: each step that must not be cut in half by a kill is one script -----------------

JOIN_RUN = """
local run = redis.call('GET', KEYS[1])
if run and redis.call('HGET', ARGV[1] .. run .. ':meta', 'state') == 'running' then return {tonumber(run), 0} end
run = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[1] .. run .. ':meta', 'state', 'running', 'started_at', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return {run, 1}
"""
# KEYS: seen, requests. ARGV: fingerprint, score, encoded request, dont_filter
ENQUEUE = """
if ARGV[4] == '0' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# KEYS: requests, inflight, counter. Returns {token, data} or nil. The token keeps the score for requeueing.
POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return nil end
redis.call('ZREM', KEYS[1], top[1])
local token = top[2] .. '|' .. redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, top[1])
return {token, top[1]}
"""
# KEYS: inflight, requests. Moves every in-flight request back to the queue; returns how many.
REQUEUE = """
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local score = tonumber(string.match(entries[i], '^(.-)|'))
  redis.call('ZADD', KEYS[2], score, entries[i + 1])
end
redis.call('DEL', KEYS[1])
return #entries / 2
"""
# KEYS: leases, next. ARGV: limit, delay (s), lease ttl (s), token ("<worker's heartbeat key>|<uuid>").
# Returns 0 (got it) or ms to wait. Leases of dead workers (heartbeat key gone) and expired ones are dropped.
ACQUIRE_SLOT = """
local t = redis.call('TIME')
local nowms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowms)
for _, lease in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', string.match(lease, '^(.*)|')) == 0 then redis.call('ZREM', KEYS[1], lease) end
end
local nextms = tonumber(redis.call('GET', KEYS[2]) or '0')
if nextms > nowms then return nextms - nowms end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.min(tonumber(first[2]) - nowms, 50))
end
redis.call('ZADD', KEYS[1], nowms + tonumber(ARGV[3]) * 1000, ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 1000 + 1000)
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[2], nowms + math.floor(tonumber(ARGV[2]) * 1000), 'PX', 60000) end
return 0
"""


class Frontier:
    """One worker's handle on one run of a crawl."""

    def __init__(self, client, crawl: str, worker: str | None = None, *, dead_after: float = 10.0):
        self.r = client
        self.crawl = crawl
        self.worker = worker or worker_id()
        self.dead_after = dead_after
        self.run, self.new_run = self._join()
        self.keys = Keys(crawl, self.run)
        self._pop = client.register_script(POP)
        self._enqueue = client.register_script(ENQUEUE)
        self._requeue = client.register_script(REQUEUE)
        self.counter = self.keys.base + "tokens"

    def _join(self) -> tuple[int, bool]:
        run, new = self.r.register_script(JOIN_RUN)(
            keys=[f"{PREFIX}{self.crawl}:run", f"{PREFIX}crawls"], args=[f"{PREFIX}{self.crawl}:", now(), self.crawl])
        return int(run), bool(new)

    # -- workers ----------------------------------------------------------------------------
    def register(self, **info: Any) -> None:
        self.set_worker(state="running", started_at=now(), **info)
        self.beat()

    def beat(self) -> None:
        self.r.set(self.keys.alive(self.worker), "1", px=int(self.dead_after * 1000))

    def set_worker(self, **info: Any) -> None:
        old = self.workers().get(self.worker, {})
        self.r.hset(self.keys.workers, self.worker, json.dumps({**old, **info}))

    def workers(self) -> dict[str, dict]:
        return {k.decode(): json.loads(v) for k, v in self.r.hgetall(self.keys.workers).items()}

    def is_alive(self, worker: str) -> bool:
        return bool(self.r.exists(self.keys.alive(worker)))

    def recover_dead(self) -> dict[str, int]:
        """Requeue the in-flight requests of workers whose heartbeat expired; {worker: requests requeued}."""
        recovered = {}
        for worker, info in self.workers().items():
            if worker == self.worker or info.get("state") != "running" or self.is_alive(worker):
                continue
            moved = int(self._requeue(keys=[self.keys.inflight(worker), self.keys.requests]))
            info.update(state="dead", requeued=moved, dead_since=now())
            self.r.hset(self.keys.workers, worker, json.dumps(info))
            recovered[worker] = moved
        return recovered

    def others_busy(self) -> bool:
        """Another live worker still holds requests (it may yield more)."""
        return any(w != self.worker and info.get("state") == "running" and self.r.hlen(self.keys.inflight(w))
                   for w, info in self.workers().items())

    # -- requests ---------------------------------------------------------------------------
    def enqueue(self, fingerprint: str, score: float, data: bytes, dont_filter: bool) -> bool:
        return bool(self._enqueue(keys=[self.keys.seen, self.keys.requests],
                                  args=[fingerprint, score, data, "1" if dont_filter else "0"]))

    def pop(self) -> tuple[str, bytes] | None:
        got = self._pop(keys=[self.keys.requests, self.keys.inflight(self.worker), self.counter])
        return (got[0].decode(), got[1]) if got else None

    def ack(self, token: str) -> None:
        self.r.hdel(self.keys.inflight(self.worker), token)

    def requeue_mine(self) -> int:
        return int(self._requeue(keys=[self.keys.inflight(self.worker), self.keys.requests]))

    def queue_length(self) -> int:
        return int(self.r.zcard(self.keys.requests))

    # -- the end of a run -------------------------------------------------------------------
    def finish(self, **info: Any) -> dict | None:
        """Mark this worker done; when no worker is left running and nothing is queued or in flight,
        close the run and return its result {started_at, finished_at, workers, complete_sources, reason}."""
        self.r.delete(self.keys.alive(self.worker))
        self.set_worker(state="done", finished_at=now(), **info)
        self.recover_dead()
        with self.r.pipeline() as pipe:  # WATCH: two workers finishing at once close the run once
            import redis

            try:
                pipe.watch(self.keys.meta, self.keys.workers, self.keys.requests)
                if pipe.hget(self.keys.meta, "state") != b"running":
                    return None
                workers = {k.decode(): json.loads(v) for k, v in pipe.hgetall(self.keys.workers).items()}
                if pipe.zcard(self.keys.requests) or any(w["state"] == "running" for w in workers.values()):
                    return None
                result = run_result(workers, pipe.hget(self.keys.meta, "started_at").decode())
                pipe.multi()
                pipe.hset(self.keys.meta, mapping={"state": "done", "finished_at": result["finished_at"],
                                                   "result": json.dumps(result)})
                pipe.delete(self.keys.requests, self.keys.seen, self.counter)
                pipe.xadd(self.keys.items, {"kind": "end", "run": self.run, "data": json.dumps(result)})
                pipe.execute()
                return result
            except redis.WatchError:
                return None


def run_result(workers: dict[str, dict], started_at: str) -> dict:
    """A finished run: the boards every worker walked completely (none when a worker died or had
    errors no board can be blamed for), how many pages each worker fetched, and whether items went to the
    stream (`pushed`: then `lurewatch ingest` settles the take-downs once it has stored them)."""
    requested: set[str] = set()
    problems: set[str] = set()
    blanket = [f"worker {w} died" for w, info in workers.items() if info.get("state") == "dead"]
    for w, info in workers.items():
        ledger = info.get("ledger") or {}
        requested.update(ledger.get("requested", ()))
        problems.update(ledger.get("problems", ()))
        blanket += [f"worker {w}: {why}" for why in ledger.get("blanket", ())]
    complete = [] if blanket else sorted(requested - problems)
    return {"started_at": started_at, "finished_at": now(), "complete_sources": complete,
            "pushed": any(info.get("sink") == "redis" for info in workers.values()),
            "incomplete_sources": sorted(problems), "reason": "; ".join(blanket) or "every worker finished",
            "pages": {w: info.get("pages", 0) for w, info in workers.items()}}


def overview(client, crawls: Iterable[str] | None = None) -> list[dict]:
    """For `status`: per crawl, its current run, state, queue length, in-flight requests, items not yet
    ingested, and per worker its host, state and pages."""
    out = []
    names = sorted(crawls) if crawls else sorted(c.decode() for c in client.smembers(f"{PREFIX}crawls"))
    for crawl in names:
        run = client.get(f"{PREFIX}{crawl}:run")
        if run is None:
            continue
        keys = Keys(crawl, int(run))
        meta = {k.decode(): v.decode() for k, v in client.hgetall(keys.meta).items()}
        workers = {k.decode(): json.loads(v) for k, v in client.hgetall(keys.workers).items()}
        for w, info in workers.items():
            info["in_flight"] = client.hlen(keys.inflight(w))
            if info.get("state") == "running" and not client.exists(keys.alive(w)):
                info["state"] = "dead?"
        out.append({"crawl": crawl, "run": int(run), "state": meta.get("state"), "started_at": meta.get("started_at"),
                    "queue": client.zcard(keys.requests), "waiting_ingest": items_waiting(client, crawl),
                    "workers": workers})
    return out


def items_waiting(client, crawl: str) -> int:
    """Stream entries of `crawl` the ingest has not acknowledged yet (not read + read and pending)."""
    import redis

    key = items_key(crawl)
    try:
        groups = client.xinfo_groups(key)
    except redis.ResponseError:
        return 0  # no stream yet
    for group in groups:
        if group["name"] in (ITEMS_GROUP, ITEMS_GROUP.encode()):
            lag = group.get("lag")
            return int(group.get("pending", 0)) + int(lag if lag is not None else client.xlen(key))
    return int(client.xlen(key))
