"""`lurewatch assess`: score ads given as JSON Lines."""
import json
import sys

import click

from rules import Engine

from . import cli


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
def assess(file, as_json):
    """Assess ads given as JSON Lines (fields: id, url, title, company,
    location, salary, description, contact; any may be missing).

    Example:

        echo '{"id": 1, "title": "Chat support, Sihanoukville"}' | lurewatch assess --json
    """
    engine = Engine.load()
    rows = []
    for lineno, line in enumerate(file, 1):
        if not line.strip():
            continue
        try:
            ad = json.loads(line)
            if not isinstance(ad, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise click.ClickException(f"{file.name}:{lineno}: invalid JSON line: {exc}")
        a = engine.assess(ad)
        out = {"id": ad.get("id"), **a.to_dict()}
        if as_json:
            click.echo(json.dumps(out, ensure_ascii=False))
            sys.stdout.flush()
        else:
            rows.append(out)
    if not as_json:
        for r in rows:
            click.echo(f"{str(r['id']):>8}  {r['score']:>3}  {r['level']:<6}  {'FLAG' if r['flagged'] else '    '}  {r['summary']}")
