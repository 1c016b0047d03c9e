"""`lurewatch verdict`: record an analyst's verdict on a stored ad (for scripts; the review app has a form)."""
from __future__ import annotations

import click

from . import cli


@cli.command()
@click.argument("ad_id", metavar="AD_ID")
@click.argument("verdict", metavar="VERDICT")
@click.option("--reviewer", required=True, help="Who gives the verdict (the analyst's account name).")
@click.option("--note", default="", help="Why: kept with the review.")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
def verdict(ad_id, verdict, reviewer, note, db_path):
    """Record VERDICT on ad AD_ID: lure, not_lure, fraud or unsure. Reviews
    are appended with the time (UTC); the ad's review_status becomes the
    latest verdict. A `lure` verdict adds the ad's title and description to
    the database's known-lure corpus: the next crawl, `assess --db` and
    `rescan` link reworded copies to it ("similar to confirmed lure #AD_ID").
    A `not_lure` ad is kept as a negative and is never exported as an alert.
    The ads linked to it gain (or lose) campaign risk at once.
    An unknown verdict or ad id exits 1 and names it.

    Example:

    \b
        lurewatch verdict 42 lure --reviewer ana --note "same text as the Myawaddy ads" --db lurewatch-demo.db
    """
    from crawler.campaigns import risk
    from crawler.store import VERDICT_TABLES, ReviewInputError, StoreError

    from ._store import open_existing

    store = open_existing(db_path)
    try:
        try:
            number = int(ad_id)
        except ValueError:
            raise click.ClickException(f"ad id must be a whole number, not {ad_id!r}") from None
        review_id = store.add_review(number, verdict, reviewer, note)
        risk.apply(store, [number])  # the ads linked to it gain (or lose) campaign risk
    except (ReviewInputError, StoreError) as exc:
        raise click.ClickException(str(exc))
    finally:
        store.close()
    click.echo(f"Review #{review_id}: ad #{number} is {verdict} (by {reviewer.strip()}).")
    if verdict in VERDICT_TABLES:
        what = ("joins the known-lure corpus of this database (next crawl, assess --db, rescan)"
                if verdict == "lure" else "is kept as a negative and never exported as an alert")
        click.echo(f"Its text {what}.")
