"""`lurewatch rescan`: re-assess stored ads with the current engine, without recrawling."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click

from . import cli

BATCH = 500  # ads read per query; updates happen between batches, never under an open cursor


@dataclass
class RescanResult:
    total: int = 0
    changed_level: int = 0
    flagged_before: int = 0
    flagged_after: int = 0
    transitions: Counter = field(default_factory=Counter)  # (old level, new level) -> count
    relink: list = field(default_factory=list)  # ads whose contacts, score or flag changed: linked again


def rescan_store(store, engine, on_ad: Callable[[], None] | None = None) -> RescanResult:
    """Assess every ad in `store` with `engine` and store the new assessment and evidence. A confirmed lure
    is not linked to itself (crawler.lureindex.without_own_lure)."""
    from crawler.lureindex import without_own_lure

    result = RescanResult()
    last_id = 0
    while True:
        batch = list(store.iter_ads("id > ? and id <= ?", [last_id, last_id + BATCH]))
        if not batch:
            more = store.db.execute("select min(id) from ads where id > ?", [last_id]).fetchone()[0]
            if more is None:
                break
            last_id = more - 1
            continue
        old_contacts: dict[int, set] = {}
        marks = ",".join("?" * len(batch))
        for ad_id, kind, value in store.db.execute(
                f"SELECT ad_id, kind, value FROM contacts WHERE ad_id IN ({marks})", [r["id"] for r in batch]):
            old_contacts.setdefault(ad_id, set()).add((kind, value))
        for row, assessed in zip(batch, engine.assess_many(batch)):
            assessment = without_own_lure(engine, row, assessed, row["id"], [row["url"]]).to_dict()
            if ({(c["kind"], c["value"]) for c in assessment.get("contacts", [])} != old_contacts.get(row["id"], set())
                    or assessment["score"] != row.get("risk_score") or bool(assessment["flagged"]) != bool(row.get("flagged"))):
                result.relink.append(row["id"])
            store.update_assessment(row["id"], assessment)
            old, new = row.get("risk_level") or "unscored", assessment["level"]
            result.total += 1
            result.flagged_before += int(bool(row.get("flagged")))
            result.flagged_after += int(bool(assessment["flagged"]))
            if old != new:
                result.changed_level += 1
                result.transitions[(old, new)] += 1
            if on_ad:
                on_ad()
        last_id = batch[-1]["id"]
    return result


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
def rescan(db_path):
    """Re-assess every stored ad with the current ruleset and engine (no
    recrawl): scores, levels, evidence and contacts are replaced; analyst
    reviews are kept. The similarity stage also knows the lures analysts
    confirmed in the database. Prints how many ads changed risk level, then
    links again the ads whose contacts or risk changed (campaigns).

    Example:

    \b
        lurewatch rescan --db lurewatch-demo.db
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from crawler.lureindex import engine_for_store
    from crawler.store import Store, StoreError
    from rules import RulesetError

    if not Path(db_path).is_file():
        raise click.ClickException(f"database not found: {db_path}")
    try:
        store = Store(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc))
    console = Console(stderr=True)
    try:
        try:
            engine = engine_for_store(store)
        except RulesetError as exc:
            raise click.ClickException(str(exc))
        total = store.count("ads")
        with Progress(TextColumn("Re-assessing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("ads", total=total)
            result = rescan_store(store, engine, on_ad=lambda: progress.advance(task))
        from crawler.campaigns import link_changed

        linked = link_changed(store, result.relink)  # campaigns of the ads whose contacts or risk changed
    finally:
        store.close()
    click.echo(f"Re-assessed {result.total} ads with ruleset {engine.version}: "
               f"{result.changed_level} changed level; flagged {result.flagged_before} -> {result.flagged_after}.")
    click.echo(str(linked))
    if result.transitions:
        table = Table("from", "to", "ads", title="Level changes")
        for (old, new), n in sorted(result.transitions.items(), key=lambda kv: -kv[1]):
            table.add_row(old, new, str(n))
        Console().print(table)
