"""Crawl against bare Scrapy, in one run, and a recrawl of the unchanged board against the first crawl.

The board: 2,000 JSON-LD job pages of 30-60 KB (output/benchparts/_common.py's realistic template, ~900-character ads)
and 108 listing pages, every page linking to listings and to other ads, served with ETags (304 to a matching
If-None-Match) by crawler/localsite.py in a child process. Crawled, interleaved, by
- full: `lurewatch crawl` (our spider, assess, store) into a fresh database;
- bare: a plain scrapy.Spider with our settings that json.loads each JSON-LD block and follows the same links
  (skipping those it already requested with a set, so it does not pay for a Request and fingerprint per link);
- recrawl: `lurewatch crawl` again into the full crawl's database (every ad answers 304);
- hash-first recrawl: the same, with the server's ETags switched off (every page answers 200 with the body of
  its last fetch: crawler/pagehash.py skips extraction and assess).
Each crawl is a subprocess; CPU is its user+system time (all threads and processes), and for our crawls also split
into the crawl (reactor) process and its assess child (crawler/assessproc.py: it assesses and writes the ads).
The profile: one more full crawl under cProfile (reactor thread; the assess child and the writer thread of 304
marks are not in it), grouped by step.

Example: python -m output.bench --part crawl
"""
from __future__ import annotations

import cProfile
import html
import json
import multiprocessing
import os
import pstats
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ._common import children_cpu, job_posting, page_template

TITLE = "Crawl against bare Scrapy; recrawl of an unchanged board"
LISTINGS = 108
ADS_PER_LISTING = 19


# -- the board ---------------------------------------------------------------------------------------
def board_pages(n_ads: int, seed: int = 16) -> dict[str, bytes]:
    from output.bench import synthetic_ads, synthetic_lures

    rng = random.Random(seed)
    n_listings = max(2, min(LISTINGS, n_ads // ADS_PER_LISTING + 1))
    ads = synthetic_ads(n_ads, synthetic_lures(300), seed=seed, target_chars=900)
    head, foot = page_template(rng)
    # the template's menus and footer point to listing pages (so every link is a page of the board)
    head = re.sub(r'href="/jobs/[^"]+/(\d+)"', lambda m: f'href="/list/{int(m.group(1)) % n_listings}"', head)
    foot = re.sub(r'href="/page/(\d+)"', lambda m: f'href="/list/{int(m.group(1)) % n_listings}"', foot)
    pages: dict[str, bytes] = {}
    for i, ad in enumerate(ads):
        posting = job_posting(ad, i, f"2026-{1 + i % 12:02d}-10")
        cards = "".join(
            f'<div class="card"><a href="/job/{k}">{html.escape(ads[k]["title"])}</a>'
            f'<span>{html.escape(ads[k]["location"] or "Remote")}</span><span>{html.escape(ads[k]["salary"] or "")}'
            f'</span><time>{rng.randint(1, 30)} days ago</time></div>'
            for k in rng.sample(range(n_ads), min(n_ads, rng.randint(10, 40))))
        body = (f'<script type="application/ld+json">{json.dumps(posting, ensure_ascii=False)}</script>'
                f'<article><h1>{html.escape(ad["title"])}</h1><p>{html.escape(ad["description"])}</p></article>'
                f'<section class="similar">{cards}</section>')
        pages[f"/job/{i}"] = (head + body + foot).encode("utf-8")
    for n in range(n_listings):
        links = "".join(f'<li><a href="/job/{k}">ad {k}</a></li>' for k in range(n * ADS_PER_LISTING, (n + 1) * ADS_PER_LISTING)
                        if k < n_ads)
        pages[f"/list/{n}"] = (head + f'<ul class="ads">{links}</ul><a rel="next" href="/list/{(n + 1) % n_listings}">'
                               f'next</a>' + foot).encode("utf-8")
    pages["/"] = pages["/list/0"]
    return pages


def serve(pages: dict[str, bytes], port_queue, etags_on=None) -> None:
    """Child process: the board with ETags (304 on a matching If-None-Match) while etags_on (a shared flag) is set,
    else plain 200s without ETag, until killed."""
    import hashlib

    from crawler.localsite import LocalSite, Page

    etags = {path: f'"{hashlib.sha1(body).hexdigest()[:16]}"' for path, body in pages.items()}

    def route(handler):
        path = handler.path.split("?", 1)[0]
        if path not in pages:
            return None
        if etags_on is not None and not etags_on.value:
            return Page(pages[path])
        if handler.headers.get("If-None-Match") == etags[path]:
            return Page(b"", status=304, headers={"ETag": etags[path]})
        return Page(pages[path], headers={"ETag": etags[path]})

    site = LocalSite({"/robots.txt": Page("User-agent: *\nAllow: /\n", content_type="text/plain")}, fallback=route)
    site.start()
    port_queue.put(site.port)
    site._thread.join()


# -- the bare spider ---------------------------------------------------------------------------------
def bare_crawl(url: str, max_pages: int) -> None:
    """A plain Scrapy spider with our settings: JSON-LD with json.loads, the same links, no store."""
    from urllib.parse import urljoin

    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    site = url.rsplit("/", 1)[0] + "/"

    class BareSpider(scrapy.Spider):
        name = "bare"
        custom_settings = {"DEPTH_PRIORITY": 1, "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
                           "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue"}
        start_urls = [url]
        seen: set[str] = set()

        def parse(self, response):
            for block in response.xpath('//script[@type="application/ld+json"]/text()').getall():
                data = json.loads(block)
                if data.get("@type") == "JobPosting":
                    self.crawler.stats.inc_value("bare/ads")
                    yield {"url": response.url, **data}
            for href in response.xpath("//a[@href]/@href | //link[@rel='next']/@href").getall():
                link = urljoin(response.url, href.strip())
                if link.startswith(site) and link not in self.seen:  # a set, cheaper than the dupefilter alone
                    self.seen.add(link)
                    yield scrapy.Request(link)

    os.environ["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    settings = get_project_settings()
    for key in ("ITEM_PIPELINES", "SPIDER_MIDDLEWARES", "DOWNLOADER_MIDDLEWARES"):
        settings.set(key, {})
    settings.set("EXTENSIONS", {"scrapy.extensions.remote_control.RemoteControl": None})
    settings.set("DUPEFILTER_CLASS", "scrapy.dupefilters.RFPDupeFilter")
    settings.set("LOG_LEVEL", "WARNING")
    settings.set("CLOSESPIDER_PAGECOUNT", max_pages)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    print(json.dumps({"ads": crawler.stats.get_value("bare/ads", 0),
                      "pages": crawler.stats.get_value("response_received_count", 0)}))


def full_crawl(url: str, db: str, max_pages: int) -> None:
    """`lurewatch crawl` in this process (run_crawl, as the CLI does); prints its summary and, as JSON, the CPU
    seconds of this (reactor) process and of its children (the assess process, reaped when the crawl ends)."""
    from crawler.run import run_crawl

    result = run_crawl("jobposting", db=db, spider_kwargs={"urls": url, "max_pages": max_pages},
                       settings={"LOG_LEVEL": "WARNING"}, progress=False)
    own, child = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(result.message)
    if result.exit_code not in (0, 7):
        sys.exit(result.exit_code)
    print(json.dumps({"stats": {k: v for k, v in result.stats.items() if isinstance(v, (int, float, str))},
                      "own_cpu": own.ru_utime + own.ru_stime, "child_cpu": child.ru_utime + child.ru_stime}))


def profiled_crawl(url: str, db: str, max_pages: int, out: str) -> None:
    from crawler.run import run_crawl

    profile = cProfile.Profile()
    profile.enable()
    run_crawl("jobposting", db=db, spider_kwargs={"urls": url, "max_pages": max_pages},
              settings={"LOG_LEVEL": "WARNING"}, progress=False)
    profile.disable()
    profile.dump_stats(out)


# -- measuring ---------------------------------------------------------------------------------------
def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, its stdout+stderr)."""
    before = children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, COLUMNS="200"))
    wall = time.perf_counter() - start
    cpu = children_cpu() - before
    if proc.returncode not in (0, 7):
        raise RuntimeError(f"{' '.join(cmd[:4])} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout + proc.stderr


def ours(url: str, db: Path, max_pages: int) -> tuple[float, float, float, dict]:
    """Our crawl: (wall s, total CPU s, CPU s of the reactor process alone, crawl stats)."""
    wall, cpu, out = timed([sys.executable, "-m", "output.benchparts.crawl", "full", url, str(db), str(max_pages)])
    data = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith('{"stats"')))
    return wall, cpu, data["own_cpu"], data["stats"]


STEPS = [  # (step, "module:qualified name" of the function whose cumulative time it is)
    ("spider parse (all)", "spiders.jobposting:JobPostingSpider.parse"),
    ("  extraction", "crawler.extract:extract"),
    ("  link following", "spiders.jobposting:JobPostingSpider.follow_links"),
    ("  page URL (rel=canonical)", "spiders.base:LurewatchSpider.page_url"),
    ("  make_ad", "spiders.base:LurewatchSpider.make_ad"),
    ("normalise", "crawler.pipelines:NormalisePipeline.process_item"),
    ("assess (Engine.assess_many, when in this thread)", "rules.engine:Engine.assess_many"),
    ("assess and write: hand-off to the child process", "crawler.pipelines:AssessPipeline.flush"),
    ("assess and write: the child's answers (items go on)", "crawler.pipelines:AssessPipeline.answered"),
    ("store (count what the child wrote)", "crawler.pipelines:StorePipeline.process_item"),
    ("campaign linking at the end of the crawl (in the assess child: only its hand-off here)",
     "crawler.pipelines:StorePipeline.link_campaigns"),
    ("conditional requests (known_ad)", "crawler.middlewares:ConditionalRequestMiddleware.process_request"),
    ("hash-first check (page_ads)", "crawler.middlewares:ConditionalRequestMiddleware.unchanged_by_hash"),
    ("charset check", "crawler.middlewares:CharsetMiddleware.process_response"),
]


def _code_key(target: str) -> tuple[str, int, str]:
    import importlib
    import inspect

    module, qualname = target.split(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    code = inspect.unwrap(obj).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def profile_table(path: str) -> str:
    stats = pstats.Stats(path)
    total = max(v[3] for v in stats.stats.values())  # the outermost call's cumulative time
    lines = ["| step (reactor thread, cumulative) | s | share |", "|---|---|---|"]
    for step, target in STEPS:
        entry = stats.stats.get(_code_key(target))
        if entry:
            lines.append(f"| {step} | {entry[3]:.2f} | {100 * entry[3] / total:.0f}% |")
    idle = sum(v[2] for (_f, _l, name), v in stats.stats.items() if "select.epoll" in name)
    lines.append(f"| waiting for the network (epoll) | {idle:.2f} | {100 * idle / total:.0f}% |")
    lines.append(f"| whole crawl process (main thread, wall; start-up included) | {total:.2f} | 100% |")
    return "\n".join(lines)


def run(quick: bool) -> str:
    n_ads = 40 if quick else 2000
    pages = board_pages(n_ads)
    max_pages = len(pages) + 10
    ctx = multiprocessing.get_context("fork")
    ports, etags_on = ctx.Queue(), ctx.Value("b", 1)
    server = ctx.Process(target=serve, args=(pages, ports, etags_on), daemon=True)
    server.start()
    rounds = 1 if quick else 3  # interleaved: one round alone swung 0.63x-0.93x on a quiet machine
    results: dict[str, list[Row]] = {"full": [], "bare": [], "recrawl": [], "hash": []}
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=60)}/"
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(rounds):
                db = Path(tmp) / f"full{r}.db"
                etags_on.value = 1
                wall, cpu, own, stats = ours(url, db, max_pages)
                results["full"].append(Row(wall, cpu, own, stats.get("lurewatch/pages/parsed", 0), stats.get("lurewatch/stored", 0)))
                wall, cpu, out = timed([sys.executable, "-m", "output.benchparts.crawl", "bare", url, str(max_pages)])
                counts = json.loads(out.strip().splitlines()[-1])
                results["bare"].append(Row(wall, cpu, cpu, counts["pages"], counts["ads"]))
                wall, cpu, own, stats = ours(url, db, max_pages)
                not_modified = stats.get("lurewatch/ads/not_modified", 0)
                results["recrawl"].append(Row(wall, cpu, own, stats.get("lurewatch/pages/parsed", 0) + not_modified, not_modified))
                etags_on.value = 0
                wall, cpu, own, stats = ours(url, db, max_pages)
                results["hash"].append(Row(wall, cpu, own, stats.get("lurewatch/pages/parsed", 0),
                                           stats.get("lurewatch/ads/unchanged_by_hash", 0)))
                etags_on.value = 1
            profile = ""
            if not quick:
                prof = str(Path(tmp) / "crawl.prof")
                timed([sys.executable, "-m", "output.benchparts.crawl", "profile", url, str(Path(tmp) / "p.db"),
                       str(max_pages), prof])
                profile = profile_table(prof)
    finally:
        server.kill()
        server.join()
    return report(results, len(pages), n_ads, profile)


@dataclass
class Row:
    wall: float
    cpu: float  # the crawl's whole process tree
    own_cpu: float  # the crawl (reactor) process alone
    pages: int
    ads: int


LABELS = {"full": "full", "bare": "bare Scrapy", "recrawl": "recrawl (ETags: 304s)",
          "hash": "hash-first recrawl (no ETags)"}


def report(results, n_pages: int, n_ads: int, profile: str) -> str:
    load = os.getloadavg()
    lines = [f"Board: {n_pages} pages ({n_ads} JSON-LD ads of 30-60 KB), local server in a child process. "
             f"Load average {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores (shared machine: compare ratios).",
             "", "| round | crawl | pages | ads (recrawls: seen unchanged) | wall s | ads/s | CPU ms per page (all) "
             "| CPU ms per page (reactor process) |", "|---|---|---|---|---|---|---|---|"]
    for r in range(len(results["full"])):
        for kind in ("full", "bare", "recrawl", "hash"):
            row = results[kind][r]
            pages = max(row.pages, 1)
            lines.append(f"| {r + 1} | {LABELS[kind]} | {row.pages} | {row.ads} | {row.wall:.1f} | {row.ads / row.wall:.1f} | "
                         f"{1000 * row.cpu / pages:.1f} | {1000 * row.own_cpu / pages:.1f} |")
    full, bare = results["full"], results["bare"]
    ads_ratio = sum(f.ads / f.wall for f in full) / sum(b.ads / b.wall for b in bare)
    cpu_ratio = sum(b.cpu / b.pages for b in bare) / sum(f.cpu / f.pages for f in full)
    own_ratio = sum(b.cpu / b.pages for b in bare) / sum(f.own_cpu / f.pages for f in full)
    recrawl = sum(r.wall for r in results["recrawl"]) / sum(f.wall for f in full)
    hashed = sum(r.wall for r in results["hash"]) / sum(f.wall for f in full)
    lines += ["", f"- full pipeline against bare Scrapy: **{ads_ratio:.2f}x** ads/s (goal >= 0.85x); CPU per page "
              f"(bare / ours): **{cpu_ratio:.2f}x** counting the assess child, {own_ratio:.2f}x the reactor process alone",
              f"- recrawl of the unchanged board (304s): **{recrawl:.2f}x** the first crawl's wall time; goal <= 0.5x",
              f"- hash-first recrawl of the unchanged board (no ETags): **{hashed:.2f}x** the first crawl's wall time"]
    if profile:
        lines += ["", "Where the full crawl's time goes (cProfile, one more crawl):", "", profile]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare_crawl(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "full":
        full_crawl(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "profile":
        profiled_crawl(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
