"""`lurewatch ingest`: move the items frontier workers pushed to Redis into the SQLite store (the single writer)."""
from __future__ import annotations

import sys

import click

from . import cli


@cli.command()
@click.option("--from", "source", required=True, metavar="redis://HOST:PORT/DB",
              help="The frontier's Redis (the one the workers got with --frontier).")
@click.option("--db", default="lurewatch.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database to store the ads in (created if missing).")
@click.option("--crawl", "crawls", multiple=True, metavar="NAME",
              help="Only this frontier crawl (repeatable; default: every crawl in that Redis).")
def ingest(source, db, crawls):
    """Store the ads that `lurewatch crawl --frontier URL --push` workers put in Redis: each item once
    (an item delivered twice is skipped), acknowledged only after it is committed (a killed ingest is
    simply run again), and the take-downs of a run once all its workers finished.

    Exits 0, 4 when Redis cannot be reached, 5 when the database is not writable.

    Example:

        lurewatch ingest --from redis://10.0.0.5:6379/0 --db ads.db
    """
    from crawler.frontier import FrontierError, connect
    from crawler.ingest import Ingest
    from crawler.run import EXIT_DB, EXIT_UNREACHABLE, check_db_writable
    from crawler.store import Store, StoreError

    try:
        client = connect(source)
    except FrontierError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNREACHABLE)
    try:
        check_db_writable(db)
        store = Store(db)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_DB)
    try:
        report = Ingest(client, store).run(list(crawls) or None)
    except StoreError as exc:
        click.echo(f"error: {exc} (nothing not stored was acknowledged: run ingest again)", err=True)
        sys.exit(EXIT_DB)
    finally:
        store.close()
    click.echo(report.line(), err=True)
