"""`lurewatch import`: ads from other collectors (JSON Lines or CSV), assessed and stored as crawled ads."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from . import cli


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False),
              help="Lurewatch SQLite database (created if missing).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Input format [default: csv for a .csv file, else jsonl].")
@click.option("--source", default=None,
              help="Source name of rows that carry none (default: the host of the ad's URL).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1),
              help="Processes that assess batches of ads (this one writes); same verdicts as one.")
def import_ads(file, db_path, fmt, source, workers):
    """Import ads from JSON Lines or CSV (the `assess` fields plus url,
    source and optionally posted_at; JobSpy's columns job_url, site,
    date_posted, min_amount/max_amount/currency/interval, emails work too).
    Each ad is assessed and stored exactly as a crawled ad: identity,
    history, evidence, contacts. Importing the same file again adds
    nothing. Bad rows are reported as FILE:LINE: reason on stderr and
    skipped; the exit code is 1 only when nothing valid was imported.
    With --workers N, N processes assess and this one writes.

    Example:

    \b
        lurewatch import jobs.csv --db lurewatch.db --source jobspy
        lurewatch import partner-dump.jsonl --db lurewatch.db --workers 2
    """
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from crawler.crawlrecord import finish_run, start_run
    from crawler.importer import SPIDER, assessing, detect_format, import_file
    from crawler.lureindex import engine_for_store
    from crawler.store import Store, StoreError
    from rules import RulesetError

    fmt = detect_format(file, fmt)
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if Path(db_path).parent and not Path(db_path).parent.is_dir():
        raise click.ClickException(f"database directory does not exist: {Path(db_path).parent}")
    try:
        store = Store(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc))
    try:
        try:
            engine = engine_for_store(store)
            crawl_id = start_run(store, SPIDER, {"file": str(file), "format": fmt, "source": source})
        except (RulesetError, StoreError, sqlite3.Error) as exc:
            raise click.ClickException(str(exc))
        with assessing(store, engine, workers) as pool, \
                Progress(SpinnerColumn(), TextColumn("Importing"), MofNCompleteColumn(), TextColumn("rows"),
                         TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("rows", total=None)
            try:
                result = import_file(store, pool, file, fmt, source=source, crawl_id=crawl_id,
                                     max_field_chars=engine.max_field_chars,
                                     on_bad=lambda message: bar.console.print(message, markup=False),
                                     on_row=lambda: bar.advance(task))
            except (StoreError, sqlite3.Error, OSError) as exc:
                _finish_failed(store, crawl_id, f"import failed: {exc}")
                raise click.ClickException(f"import of {file} into {db_path} failed: {exc}")
            except KeyboardInterrupt:
                _finish_failed(store, crawl_id, "interrupted", status="interrupted")
                raise
        status = "failed" if result.stored == 0 else "partial" if result.bad else "finished"
        c = result.counts
        finish_run(store, crawl_id, status, result.summary(), {"bad_row": result.bad} if result.bad else {},
                   pages=result.rows, items=result.stored, new_ads=c["new"], changed_ads=c["changed"],
                   unchanged_ads=c["unchanged"], assessed_ads=result.assessed, flagged_ads=result.flagged)
    finally:
        store.close()
    click.echo(f"Imported {file} (crawl {crawl_id}): {result.summary()}.")
    if result.stored == 0:
        raise click.ClickException(f"nothing valid to import in {file} ({result.rows} rows, {result.bad} bad)")


def _finish_failed(store, crawl_id: int, message: str, status: str = "failed") -> None:
    from crawler.crawlrecord import finish_run
    from crawler.store import StoreError

    try:
        finish_run(store, crawl_id, status, message)
    except (StoreError, sqlite3.Error):
        pass  # the run is marked interrupted by the next one
