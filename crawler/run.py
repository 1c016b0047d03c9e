"""Run one crawl in this process and judge it: `run_crawl(spider, db=...) -> CrawlResult`.

Scrapy's reactor cannot restart, so call this once per process (the CLI does; tests run the CLI in a
subprocess). The verdict comes from the crawl stats, because Scrapy itself "finishes" even when
nothing could be fetched:

  exit 0  crawl finished (no ads found is reported, not a failure; so is a walk cut short by a
          limit the user set: max_pages, a profile's load-more max, a search-only spider)
  exit 1  the crawl crashed or was interrupted
  exit 2  bad arguments (the spider refused them)
  exit 3  nothing fetched: every start URL failed (HTTP errors, robots.txt, ...), or the start
          pages answered but no ad was fetched because requests failed (e.g. every ad page 500)
  exit 4  unreachable: DNS/connection/timeout errors on every start URL
  exit 5  the database is not writable (checked before crawling), or an ad could not be stored
          (the crawl stops at the first failed write: "store_failed", e.g. a full disk)
  exit 6  stale site profile: its selectors matched nothing on the start pages
  exit 7  partial: the crawl finished and stored ads, but some requests failed or some boards were
          not walked completely (crawls.status `partial`; `lurewatch status` shows a warning)
"""
from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from .store import Store, StoreError

EXIT_OK, EXIT_CRASHED, EXIT_BAD_ARGS, EXIT_NOTHING_FETCHED, EXIT_UNREACHABLE, EXIT_DB, EXIT_STALE_PROFILE = 0, 1, 2, 3, 4, 5, 6
EXIT_PARTIAL = 7
FINISHED_CODES = (EXIT_OK, EXIT_PARTIAL)  # the crawl ran to its end (crawls.status finished or partial)
# start-URL failure kinds that mean the host could not be reached at all
UNREACHABLE_KINDS = frozenset({"dns", "timeout", "connection_refused", "connection_lost", "connect"})


@dataclass
class CrawlResult:
    ok: bool
    exit_code: int
    message: str
    stats: dict[str, Any] = field(default_factory=dict)
    crawl_id: int | None = None

    def lurewatch(self, key: str, default: int = 0) -> Any:
        """A `lurewatch/<key>` stat."""
        return self.stats.get(f"lurewatch/{key}", default)


class _WriteProbeDone(Exception):
    pass


def check_db_writable(db: str | Path, **store_options: float) -> None:
    """Raise StoreError naming the path unless `db` can be created/opened and written
    (`store_options`: Store's busy_timeout and retry_for)."""
    path = Path(db)
    if path.is_dir():
        raise StoreError(f"database path is a directory: {path}")
    try:
        store = Store(path, **store_options)
    except StoreError as exc:
        raise StoreError(f"database is not writable: {exc}") from exc
    try:
        def probe():
            store.db.execute("CREATE TABLE IF NOT EXISTS _lurewatch_write_check (x)")
            raise _WriteProbeDone  # roll back: nothing is left behind

        store.write(probe)
    except _WriteProbeDone:
        pass
    except (StoreError, sqlite3.Error) as exc:
        raise StoreError(f"database is not writable: {path}: {exc}") from exc
    finally:
        store.close()


def build_settings(db: str | Path, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Lurewatch's Scrapy settings (whatever the working directory), LUREWATCH_DB and overrides applied."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("LUREWATCH_DB", str(db), priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    _drop_remote_control(settings)
    return settings


REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


def _drop_remote_control(settings: Settings) -> None:
    """Scrapy's HTTP remote control (off: REMOTE_CONTROL_ENABLED) out of the extension lists altogether: Scrapy
    imports every class the lists name, even one set to None, and this one pulls in aiohttp (~85 ms a crawl)."""
    base = settings.getdict("EXTENSIONS_BASE")
    if REMOTE_CONTROL in base:
        settings.set("EXTENSIONS_BASE", {k: v for k, v in base.items() if k != REMOTE_CONTROL},
                     priority=settings.getpriority("EXTENSIONS_BASE"))
    extensions = settings.getdict("EXTENSIONS")
    if REMOTE_CONTROL in extensions and extensions[REMOTE_CONTROL] is None:
        settings.set("EXTENSIONS", {k: v for k, v in extensions.items() if k != REMOTE_CONTROL},
                     priority=settings.getpriority("EXTENSIONS"))


def errors_by_kind(stats: Mapping[str, Any]) -> dict[str, int]:
    """Errors by kind: lurewatch/errors/<kind> (a spider exception is lurewatch/errors/spider_<name>,
    counted by crawler.incremental.IncrementalExtension; Scrapy's own spider_exceptions/<Name> only
    when that extension did not run), and the extractor's errors."""
    errors: dict[str, int] = {}
    counted_spider_errors = any(k.startswith("lurewatch/errors/spider_") for k in stats)
    for key, value in stats.items():
        if key.startswith("lurewatch/errors/"):
            errors[key.split("/", 2)[2]] = value
        elif key.startswith("spider_exceptions/") and not counted_spider_errors:
            errors[f"spider_{key.split('/', 1)[1].lower()}"] = value
        elif key == "lurewatch/extract/errors":
            errors["extract"] = value
    return dict(sorted(errors.items()))


def request_errors(stats: Mapping[str, Any]) -> int:
    """Failed requests and pages (lurewatch/errors/*), stale-profile matches aside (start URLs included:
    lurewatch/start/failed/* counts those)."""
    return sum(v for k, v in stats.items()
               if k.startswith("lurewatch/errors/") and k != "lurewatch/errors/profile_no_match" and v)


def summary_line(stats: Mapping[str, Any], crawl_id: int | None = None) -> str:
    s = lambda k: stats.get(f"lurewatch/{k}", 0)  # noqa: E731
    pages = s("pages/parsed") or stats.get("response_received_count", 0)
    ads = s("stored")
    text = (
        f"crawl {crawl_id if crawl_id is not None else '-'}: {pages} pages, {ads} ads "
        f"({s('ads/new')} new, {s('ads/changed')} changed, {s('ads/unchanged')} unchanged), "
        f"{s('ads/not_modified')} not modified (304), {s('ads/removed')} removed, {s('assessed')} assessed, "
        f"{s('flagged')} flagged"
    )
    errors = errors_by_kind(stats)
    text += ", errors: " + (", ".join(f"{k}={v}" for k, v in errors.items()) if errors else "none")
    if s("errors/store"):
        text += f", {s('errors/store')} ads NOT stored (database write failed)"
    if s("skipped/robots"):
        text += f", {s('skipped/robots')} skipped by robots.txt"
    if s("ssrf_blocked"):
        text += f", {s('ssrf_blocked')} blocked by the SSRF guard"
    if stats.get("lurewatch/max_pages_reached"):
        text += f", stopped at max_pages={stats['lurewatch/max_pages_reached']}"
    if s("unchanged_by_hash"):
        text += f", {s('unchanged_by_hash')} pages unchanged ({s('ads/unchanged_by_hash')} ads seen by page hash)"
    return text


def judge(stats: Mapping[str, Any], spider=None, crash: str | None = None) -> tuple[int, str]:
    """(exit code, message) for a finished crawl, from its stats."""
    if crash:
        return EXIT_CRASHED, crash
    if stats.get("lurewatch/db_error"):
        return EXIT_DB, stats["lurewatch/db_error"]
    if stats.get("lurewatch/errors/store") or stats.get("finish_reason") == "store_failed":
        return EXIT_DB, (f"crawl stopped: {stats.get('lurewatch/errors/store', 0)} ads could not be stored in the "
                         f"database ({stats.get('lurewatch/store_error') or 'see the log'}); "
                         "free space or fix the database, then run the crawl again")
    if stats.get("lurewatch/assess_process_error"):
        return EXIT_CRASHED, (f"crawl stopped: the assess process died ({stats['lurewatch/assess_process_error']}); "
                              "the ads fetched until then are assessed and stored; run the crawl again")
    reason = stats.get("finish_reason")
    if reason not in ("finished", "closespider_pagecount", "closespider_itemcount", "closespider_timeout"):
        return EXIT_CRASHED, f"crawl did not finish (reason: {reason})"
    start_urls = list(getattr(spider, "start_urls", []) or [])
    failures: dict[str, str] = dict(getattr(spider, "start_failures", {}) or {})
    tracked = any(k.startswith("lurewatch/start/") for k in stats) or "lurewatch/pages/parsed" in stats
    if tracked:
        fetched = stats.get("lurewatch/start/ok", 0) + stats.get("lurewatch/pages/parsed", 0)
    else:  # a spider that does not use the base bookkeeping: any response but robots.txt counts
        fetched = stats.get("response_received_count", 0) - stats.get("robotstxt/response_count", 0)
    if fetched or stats.get("item_scraped_count", 0):
        code, message = EXIT_OK, "ok"
        seen_unchanged = stats.get("lurewatch/ads/not_modified", 0) + stats.get("lurewatch/ads/unchanged_by_hash", 0)
        if seen_unchanged and not stats.get("lurewatch/stored", 0):
            message = "ok: no ad changed since the last crawl"
        elif not stats.get("lurewatch/stored", 0) and not stats.get("item_scraped_count", 0):
            if stats.get("lurewatch/errors/profile_no_match", 0):
                profile = getattr(getattr(spider, "profile", None), "path", "the profile")
                return EXIT_STALE_PROFILE, (f"the site profile's selectors matched nothing on the start page(s); "
                                            f"check them with `lurewatch profiles check` ({profile})")
            if request_errors(stats) > sum(v for k, v in stats.items() if k.startswith("lurewatch/start/failed/")):
                errors = ", ".join(f"{k}={v}" for k, v in errors_by_kind(stats).items())
                return EXIT_NOTHING_FETCHED, f"nothing fetched: no ad could be fetched, requests failed ({errors})"
            message = "no ads found (no schema.org JobPosting on the pages fetched)"
        if stats.get("lurewatch/outcome") == "partial" and stats.get("lurewatch/outcome_failed"):
            return EXIT_PARTIAL, f"partial: {stats.get('lurewatch/outcome_reason', 'see the log')}"
        return code, message
    if stats.get("lurewatch/frontier/worker") and not failures and not request_errors(stats):
        return EXIT_OK, "ok: the other workers of the shared frontier fetched every page"
    detail = "; ".join(f"{url}: {kind}" for url, kind in failures.items())
    if start_urls and failures and len(failures) >= len(start_urls) and set(failures.values()) <= UNREACHABLE_KINDS:
        return EXIT_UNREACHABLE, f"unreachable host: {detail}"
    return EXIT_NOTHING_FETCHED, "nothing fetched" + (f": {detail}" if detail else "")


class _Progress:
    """Live counters on stderr (rich, on a TTY), fed by crawler signals: pages done / known to fetch
    (requests scheduled so far; max_pages bounds the pages), ETA, ads, not modified (304), flagged, errors."""

    def __init__(self, crawler):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.crawler = crawler
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=16),
                                 TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("starting", total=None)
        for signal in (signals.request_scheduled, signals.request_left_downloader, signals.response_received,
                       signals.item_scraped, signals.item_dropped, signals.spider_error):
            crawler.signals.connect(self.update, signal=signal)
        crawler.signals.connect(self.start, signal=signals.spider_opened)
        crawler.signals.connect(self.stop, signal=signals.spider_closed)

    def start(self, *args, **kwargs):
        self.progress.start()

    def stop(self, *args, **kwargs):
        if self.progress.live.is_started:
            self.update()  # the last frame shows the final counts
        self.progress.stop()

    def pages(self) -> tuple[int, int]:
        """(requests done, requests known): scheduled so far, minus the ones still queued or downloading."""
        stats = self.crawler.stats
        dequeued = stats.get_value("scheduler/dequeued", 0)
        downloader = getattr(self.crawler.engine, "downloader", None)
        downloading = len(getattr(downloader, "active", ()) or ())
        return max(0, dequeued - downloading), max(stats.get_value("scheduler/enqueued", 0), dequeued)

    def update(self, *args, **kwargs):
        stats = self.crawler.stats
        get = lambda k: stats.get_value(f"lurewatch/{k}", 0)  # noqa: E731
        errors = sum(v for k, v in stats.get_stats().items() if k.startswith("lurewatch/errors/"))
        done, known = self.pages()
        max_pages = getattr(self.crawler.spider, "max_pages", None)
        self.progress.update(
            self.task, completed=done, total=known or None,
            description=f"pages {done}/{known}" + (f" (max {max_pages})" if max_pages else "") +
                        f"  ads {get('stored')} (new {get('ads/new')})  not modified {get('ads/not_modified')}  "
                        f"flagged {get('flagged')}  errors {errors}",
        )


def run_crawl(spider, *, db: str | Path, spider_kwargs: Mapping[str, Any] | None = None,
              settings: Mapping[str, Any] | None = None, progress: bool = True) -> CrawlResult:
    """Run one crawl (spider name or class) into `db`, judge it from the stats, print a summary line.

    Call once per process. `settings` overrides Scrapy/Lurewatch settings; `spider_kwargs` are the
    spider arguments (what `-a key=value` gives on the scrapy command line).
    """
    crawl_settings = build_settings(db, settings)
    try:
        if crawl_settings.get("LUREWATCH_FRONTIER"):
            from .frontier import FrontierError, connect

            connect(crawl_settings["LUREWATCH_FRONTIER"]).close()
    except FrontierError as exc:
        return _finish(CrawlResult(False, EXIT_UNREACHABLE, str(exc)))
    try:
        if not db:  # items go to the frontier's stream (LUREWATCH_SINK=redis): no database here
            raise _WriteProbeDone
        check_db_writable(db, busy_timeout=crawl_settings.getfloat("LUREWATCH_DB_BUSY_TIMEOUT"),
                          retry_for=crawl_settings.getfloat("LUREWATCH_DB_RETRY_FOR"))
    except StoreError as exc:
        return _finish(CrawlResult(False, EXIT_DB, str(exc)))
    except _WriteProbeDone:
        pass
    # the CLI prints the summary line after judging the crawl: no second copy from CrawlSummary
    crawl_settings.set("LUREWATCH_SUMMARY", False, priority="cmdline")
    process = CrawlerProcess(crawl_settings)
    try:
        crawler = process.create_crawler(spider)
    except KeyError as exc:
        return _finish(CrawlResult(False, EXIT_BAD_ARGS, f"unknown spider: {exc}"))
    crash: list[str] = []
    refused: list[bool] = []  # the spider rejected its arguments
    # keep a reference: crawler signals hold their receivers weakly
    live = _Progress(crawler) if progress and sys.stderr.isatty() else None
    deferred = process.crawl(crawler, **dict(spider_kwargs or {}))

    def failed(failure):
        crash.append(f"{type(failure.value).__name__}: {failure.value}")
        refused.append(crawler.spider is None and isinstance(failure.value, (ValueError, TypeError)))

    deferred.addErrback(failed)
    process.start()
    if live is not None:
        live.stop()
    if crash and crawler.spider is None:
        code = EXIT_BAD_ARGS if refused and refused[0] else EXIT_CRASHED
        return _finish(CrawlResult(False, code, f"cannot start the crawl: {crash[0]}"))
    stats = crawler.stats.get_stats() if crawler.stats else {}
    code, message = judge(stats, crawler.spider, crash[0] if crash else None)
    crawl_id = stats.get("lurewatch/crawl_id")
    result = CrawlResult(code == EXIT_OK, code, message, stats, crawl_id)  # partial (7): not ok, exits 7
    if crash:  # the crawls row was written when the spider closed; CrawlRecorder marks it failed
        from .crawlrecord import record_crash

        record_crash(crawler, summary_line(stats, crawl_id) + f" ({message})")
    return _finish(result)


def _finish(result: CrawlResult) -> CrawlResult:
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if result.stats:
        console.print(summary_line(result.stats, result.crawl_id), markup=False)
    if result.message != "ok":
        plain = result.ok or result.exit_code == EXIT_PARTIAL  # "partial: ..." is a warning, not an error
        console.print(("" if plain else "error: ") + result.message, markup=False)
    return result
