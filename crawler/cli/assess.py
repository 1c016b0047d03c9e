"""`lurewatch assess`: score ads given as JSON Lines."""
import json
import sys

import click

from rules import Engine
from rules.jsonl import read_jsonl
from rules.model import Ad

from . import cli


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.option("--batch", default=256, show_default=True, type=click.IntRange(1),
              help="Ads assessed together (faster similarity stage); 1 prints each verdict as its line arrives.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Also compare ads with the lures analysts confirmed in this database.")
def assess(file, as_json, batch, db_path):
    """Assess ads given as JSON Lines (fields: id, url, title, company,
    location, salary, description, contact; any may be missing). With --db,
    an ad like a lure confirmed there gets `nearest_lure` naming that ad.

    Example:

    \b
        echo '{"id": 1, "title": "Chat support, Sihanoukville"}' | lurewatch assess --json
        lurewatch assess ads.jsonl --json --db lurewatch-demo.db
    """
    engine = _engine(db_path)
    pending: list[dict] = []

    def flush():
        for ad, a in zip(pending, engine.assess_many(pending)):
            if db_path is not None:  # an ad given with a confirmed lure's URL is that ad: not its own match
                from crawler.lureindex import without_own_lure

                a = without_own_lure(engine, ad, a, urls=[ad.get("url")])
            if as_json:
                click.echo(json.dumps({"id": ad.get("id"), **a.to_dict()}, ensure_ascii=False))
            else:
                flag = "FLAG" if a.flagged else "    "
                click.echo(f"{str(ad.get('id')):>8}  {a.score:>3}  {a.level:<6}  {flag}  {a.summary()}")
        sys.stdout.flush()
        pending.clear()

    try:
        for where, ad in read_jsonl(file, click.ClickException):  # a bad line stops there
            problem = Ad.type_problem(ad)
            if problem:
                raise click.ClickException(f"{where}: {problem}")
            pending.append(ad)
            if len(pending) >= batch:
                flush()
    finally:  # the verdicts of the lines before a bad one are still printed
        flush()


def _engine(db_path: str | None) -> Engine:
    """The shipped engine; with a database, its similarity stage also knows the lures confirmed there."""
    if db_path is None:
        return Engine.load()
    from crawler.lureindex import known_lures
    from crawler.store import StoreError

    from ._store import open_existing

    store = open_existing(db_path)
    try:
        index = known_lures(store)
    except StoreError as exc:
        raise click.ClickException(str(exc))
    finally:
        store.close()
    return Engine.load(known_lures=index)
