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
def assess(file, as_json, batch):
    """Assess ads given as JSON Lines (fields: id, url, title, company,
    location, salary, description, contact; any may be missing).

    Example:

    \b
        echo '{"id": 1, "title": "Chat support, Sihanoukville"}' | lurewatch assess --json
    """
    engine = Engine.load()
    pending: list[dict] = []

    def flush():
        for ad, a in zip(pending, engine.assess_many(pending)):
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
