"""`lurewatch assess`: score ads given as JSON Lines."""
import json
import sys

import click

from rules import Engine
from rules.jsonl import read_jsonl

from . import cli


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def assess(file, as_json):
    """Assess ads given as JSON Lines (fields: id, url, title, company,
    location, salary, description, contact; any may be missing).

    Example:

    \b
        echo '{"id": 1, "title": "Chat support, Sihanoukville"}' | lurewatch assess --json
    """
    engine = Engine.load()
    for _where, ad in read_jsonl(file, click.ClickException):  # results stream out; a bad line stops there
        a = engine.assess(ad)
        if as_json:
            click.echo(json.dumps({"id": ad.get("id"), **a.to_dict()}, ensure_ascii=False))
        else:
            flag = "FLAG" if a.flagged else "    "
            click.echo(f"{str(ad.get('id')):>8}  {a.score:>3}  {a.level:<6}  {flag}  {a.summary()}")
        sys.stdout.flush()
