"""Scale-out bench: pages/s of one crawl worker vs two on the same local board through the shared Redis frontier,
where the time goes (worker CPU, Redis CPU), and Redis memory per million URLs.

Each configuration crawls a fresh copy of the demo board (its ads repeated with new ids) served on 127.0.0.1
with a fixed think time per page, AutoThrottle off, 8 requests at once per site. Pages/s is counted by the
board: requests served / time from its first to its last request (process start-up is not in it).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from ._common import children_cpu

TITLE = "Scale-out: one worker vs two on a shared frontier"
THINK = 0.02  # s the board takes per page (a remote board is slower; this keeps the crawl CPU-bound)


def _board(n_ads: int):
    from crawler.demo.board import DemoBoard, load_ads
    from crawler.services import free_port

    base = load_ads()
    ads = [replace(ad, id=f"{ad.id}-{i}") for i in range(n_ads // len(base) + 1) for ad in base][:n_ads]
    board = DemoBoard(ads, port=free_port())
    route = board.route
    served: list[float] = []
    lock = threading.Lock()

    def timed(handler):
        time.sleep(THINK)
        with lock:
            served.append(time.monotonic())
        return route(handler)

    board.site.fallback = timed
    return board.start(), served


def _ingest(redis_url: str, crawl: str, db: Path) -> dict:
    """`lurewatch ingest`'s work on a pushed crawl, in this process: items/s and CPU per item."""
    import redis

    from crawler.ingest import Ingest
    from crawler.store import Store

    store = Store(db)
    wall, cpu = time.perf_counter(), time.process_time()
    report = Ingest(redis.Redis.from_url(redis_url), store).run([crawl])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    return {"items": report.stored, "per_s": report.stored / wall, "cpu_ms": cpu / max(report.stored, 1) * 1000}


def _crawl(label: str, workers: int, redis_url: str | None, db: Path, n_ads: int, *extra: str) -> dict:
    import redis

    board, served = _board(n_ads)
    lurewatch = str(Path(sys.executable).with_name("lurewatch"))
    cmd = [lurewatch, "crawl", board.url, "--db", str(db), "--no-progress", "--max-pages", str(n_ads * 2 + 50),
           "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
    if redis_url:
        cmd += ["--frontier", redis_url, "-s", f"LUREWATCH_FRONTIER_CRAWL=bench-{label}", *extra]
        client = redis.Redis.from_url(redis_url)
        redis_cpu = _redis_cpu(client)
    before = children_cpu()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    errors = [p.communicate()[1] for p in procs]
    cpu = children_cpu() - before
    board.stop()
    if any(p.returncode for p in procs):
        raise RuntimeError(f"{label}: a worker failed: {errors}")
    pages = len(served)
    span = (served[-1] - served[0]) if pages > 1 else float("nan")
    out = {"label": label, "workers": workers, "pages": pages, "span": span, "pps": pages / span,
           "cpu": cpu, "redis_cpu": None}
    if redis_url:
        out["redis_cpu"] = _redis_cpu(client) - redis_cpu
    return out


def _redis_cpu(client) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _memory_per_million(client, n: int) -> tuple[float, float]:
    """Bytes per million (seen-set fingerprints, queued requests), measured on `n` of each with INFO memory."""
    import hashlib

    from scrapy import Request
    from scrapy_redis import picklecompat

    client.flushdb()
    base = client.info("memory")["used_memory"]
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.sadd("lurewatch:bench:1:seen", hashlib.sha1(f"https://board{i % 997}.example/jobs/{i}".encode()).hexdigest())
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    seen = client.info("memory")["used_memory"] - base
    request = Request("https://jobs.example-board.org/jobs/1234567/customer-service-agent-phnom-penh",
                      meta={"lurewatch_start": False}, priority=0)
    data = picklecompat.dumps(request.to_dict())
    base = client.info("memory")["used_memory"]
    for i in range(n):
        pipe.zadd("lurewatch:bench:1:requests", {data + str(i).encode(): 0})
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    queued = client.info("memory")["used_memory"] - base
    client.flushdb()
    return seen / n * 1e6, queued / n * 1e6


def run(quick: bool) -> str:
    from crawler.services import RedisServer

    n_ads = 24 if quick else 600
    n_keys = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp) / "redis") as server:
        import redis

        configurations = [("push", 2, server.url, "--push")]
        if not quick:
            configurations = [("plain", 1, None), ("one", 1, server.url), ("two", 2, server.url), *configurations]
        rows = [_crawl(label, workers, url, Path(tmp) / f"{label}.db", n_ads, *extra)
                for label, workers, url, *extra in configurations]
        ingest = _ingest(server.url, "bench-push", Path(tmp) / "ingest.db")
        # a worker's start-up CPU (imports, rules engine), measured on a one-ad board, is taken out of the per-page CPU
        startup = 0.0 if quick else _crawl("startup", 1, server.url, Path(tmp) / "startup.db", 1)["cpu"]
        seen, queued = _memory_per_million(redis.Redis.from_url(server.url), n_keys)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    for r in rows:
        r["crawl_cpu"] = max(r["cpu"] - startup * r["workers"], 0.0)
        r["busy"] = r["crawl_cpu"] / r["span"] / r["workers"]  # cores one worker used while the board was crawled
    by_label = {r["label"]: r for r in rows}
    two = by_label.get("two", by_label["push"])
    one = by_label.get("one", two)
    per_page = one["crawl_cpu"] / one["pages"]
    redis_per_page = (two["redis_cpu"] or 0) / two["pages"]
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores (shared machine; load average {load} "
             f"at the end). Board: {n_ads} ads + listing pages on 127.0.0.1, {THINK * 1000:.0f} ms think time per page, "
             "AutoThrottle off, 8 requests at once per site (shared by all workers through Redis), so the site allows "
             f"up to ~{8 / THINK:.0f} pages/s. Pages/s: pages served / time from the board's first to last request. "
             f"Worker start-up: {startup:.1f} CPU s a process (one-ad crawl), taken out of the crawl CPU.", "",
             "| configuration | pages | pages/s | crawl CPU s (all workers) | CPU ms per page | cores busy per worker "
             "| Redis CPU s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    names = {"plain": "1 worker, local scheduler", "one": "1 worker, Redis frontier", "two": "2 workers, Redis frontier",
             "push": "2 workers, Redis frontier, `--push` (no SQLite in the workers)"}
    for r in rows:
        redis_cpu = "-" if r["redis_cpu"] is None else f"{r['redis_cpu']:.2f}"
        lines.append(f"| {names[r['label']]} | {r['pages']} | {r['pps']:.1f} | {r['crawl_cpu']:.1f} | "
                     f"{r['crawl_cpu'] / r['pages'] * 1000:.1f} | {r['busy']:.2f} | {redis_cpu} |")
    if "plain" in by_label:
        lines += ["", f"Two workers vs one (both on the frontier): **{two['pps'] / one['pps']:.2f}x** pages/s; one "
                  f"worker on the frontier vs the local scheduler: {one['pps'] / by_label['plain']['pps']:.2f}x."]
    lines += ["", f"Where the time goes: a worker spends {per_page * 1000:.1f} ms of CPU per page (parsing, "
              f"assessing, storing), Redis {redis_per_page * 1000:.2f} ms per page (queue, seen-set, in-flight, "
              f"site leases). Neither Redis nor the site limit (~{8 / THINK:.0f} pages/s) bounds these runs: each "
              f"worker was busy {one['busy']:.2f} of a core alone and {two['busy']:.2f} with two, on a machine whose "
              "load average is far above its core count, so the bottleneck here is the CPU time the workers get; "
              f"a worker with a core of its own would reach ~{1 / per_page:.0f} pages/s (1 / CPU per page). "
              "Across machines the ceiling of one board is its shared per-site limit (politeness, by design): "
              "scale comes from crawling more boards at once.", "",
              f"`lurewatch ingest` (the single SQLite writer) stored the {ingest['items']} pushed ads at "
              f"**{ingest['per_s']:.0f} ads/s** ({ingest['cpu_ms']:.1f} ms CPU per ad: one transaction each, "
              "snapshot included).", "",
              f"Redis memory, measured with INFO memory after inserting {n_keys:,} of each: seen-set fingerprints "
              f"(40 hex characters each) {seen / 2**20:.0f} MiB per million URLs; queued requests (scrapy-redis pickle "
              f"encoding in a sorted set) {queued / 2**20:.0f} MiB per million (a queue drains as the crawl runs; the "
              "seen-set lives as long as the run)."]
    return "\n".join(lines)
