"""`lurewatch crawl`: crawl recruitment sites for JobPosting ads into the database."""
from __future__ import annotations

import sys

import click

from crawler.urls import is_http_url

from . import cli


def spider_for_urls(urls: tuple[str, ...], max_pages: int) -> tuple[str, dict]:
    """(spider name, spider arguments) for a generic crawl of `urls`."""
    bad = [u for u in urls if not is_http_url(u)]
    if bad:
        raise click.BadParameter(f"not an http(s) URL: {bad[0]}", param_hint="URL")
    return "jobposting", {"urls": ",".join(urls), "max_pages": max_pages}


@cli.command()
@click.argument("urls", nargs=-1, metavar="URL...")
@click.option("--db", default="lurewatch.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database to write ads to (created if missing).")
@click.option("--max-pages", default=500, show_default=True, type=click.IntRange(min=1),
              help="Stop following links after this many pages.")
@click.option("--ignore-robots", is_flag=True, help="Do not obey robots.txt (only for sites you run or may crawl).")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Scrapy setting override.")
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO) instead of warnings only.")
@click.option("--no-progress", is_flag=True, help="No live counters (the summary line is always printed).")
@click.option("--profile", metavar="NAME|PATH", default=None,
              help="Crawl one board with a site profile (spiders/profiles/NAME.yaml or a YAML path; see "
                   "`lurewatch profiles list`). URL... then replace the profile's start URLs.")
@click.option("--job-dir", type=click.Path(file_okay=False), default=None,
              help="Make the crawl resumable: state kept in this directory (Scrapy JOBDIR). Run the same "
                   "command again after Ctrl-C or a kill to continue; finished pages are not fetched again.")
@click.option("--job", "job_name", metavar="NAME", default=None,
              help="Record this crawl under a plan job's name (crawls.job; set by `lurewatch schedule run`).")
@click.option("--frontier", metavar="redis://HOST:PORT/DB", default=None,
              help="Share the request queue, seen-set, robots.txt and per-site politeness with every worker "
                   "started with the same URLs (or --job) on this Redis (see README, \"Scale-out\").")
@click.option("--push", is_flag=True,
              help="With --frontier: push assessed ads to the crawl's Redis stream for `lurewatch ingest` "
                   "instead of writing --db (for workers on machines without the store).")
def crawl(urls, db, max_pages, ignore_robots, overrides, verbose, no_progress, profile, job_dir, job_name, frontier,
          push):
    """Crawl the sites at URL... (following same-site links, robots.txt and sitemaps within
    --max-pages) and store every schema.org JobPosting found, assessed, in --db.

    Exit codes:

    \b
      0  finished (no ads found, or a walk cut short by --max-pages, is not a failure)
      1  the crawl crashed or was interrupted
      2  bad arguments
      3  nothing fetched: every start URL failed (HTTP errors, robots.txt), or no ad could be fetched
         because requests failed (e.g. every ad page answered 500)
      4  unreachable: DNS, connection or timeout errors on every start URL
      5  the database is not writable (checked before crawling), or a write failed mid-crawl (e.g. a full
         disk): the crawl stops at once and the summary counts only the ads stored
      6  stale site profile: its selectors matched nothing on the start pages
      7  partial: ads stored, but some requests failed or a board was not walked completely (a warning in
         `lurewatch status`; crawls.status `partial`)

    Example:

    \b
        lurewatch crawl https://jobs.example.org/ --db ads.db --max-pages 200
        lurewatch crawl --profile jobsdb_hk --db ads.db
        lurewatch crawl https://jobs.example.org/ --db ads.db --job-dir jobs/example
        lurewatch crawl https://jobs.example.org/ --frontier redis://10.0.0.5:6379/0 --push
    """
    from crawler.run import run_crawl

    if profile:
        from click.core import ParameterSource

        from .profiles import spider_for_profile

        explicit = click.get_current_context().get_parameter_source("max_pages") != ParameterSource.DEFAULT
        spider, spider_kwargs = spider_for_profile(profile, urls, max_pages if explicit else None)
    elif not urls:
        raise click.UsageError("give at least one URL to crawl (or --profile NAME)")
    else:
        spider, spider_kwargs = spider_for_urls(urls, max_pages)
    settings = {"LOG_LEVEL": "INFO" if verbose else "WARNING"}
    if ignore_robots:
        settings["ROBOTSTXT_OBEY"] = False
    if job_dir:
        settings["JOBDIR"] = job_dir
    if job_name:
        settings["LUREWATCH_JOB"] = job_name
    if push and not frontier:
        raise click.UsageError("--push needs --frontier redis://HOST:PORT/DB")
    if frontier:
        from crawler.frontier import FrontierError, check_url

        try:
            settings["LUREWATCH_FRONTIER"] = check_url(frontier)
        except FrontierError as exc:
            raise click.BadParameter(str(exc), param_hint="--frontier") from None
        if job_dir:
            raise click.UsageError("use either --job-dir or --frontier (the frontier keeps the crawl's state)")
        if push:
            settings["LUREWATCH_SINK"] = "redis"
            db = ""
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        settings[name.strip()] = value
    result = run_crawl(spider, db=db, spider_kwargs=spider_kwargs, settings=settings, progress=not no_progress)
    if not result.ok:
        sys.exit(result.exit_code)
