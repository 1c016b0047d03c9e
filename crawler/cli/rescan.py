"""`lurewatch rescan`: re-assess stored ads with the current engine, without recrawling."""
from __future__ import annotations

import sqlite3
from array import array
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import click

from crawler.workpool import WorkerPool

from . import cli
from ._store import open_existing

BATCH = 500  # ads per id range: read, assessed and written together (one transaction per batch)


@dataclass
class RescanResult:
    total: int = 0
    changed_level: int = 0
    flagged_before: int = 0
    flagged_after: int = 0
    transitions: Counter = field(default_factory=Counter)  # (old level, new level) -> count
    relink: array = field(default_factory=lambda: array("q"))  # contacts or flag changed: linked again
    rescored: array = field(default_factory=lambda: array("q"))  # only the score changed: campaign risk again


def id_ranges(store, batch: int = BATCH) -> Iterator[tuple[int, int]]:
    """(low, high] id ranges that cover every ad, each holding at most `batch` ids; ads added while the
    rescan runs are reached too. Asked lazily: the next range starts at the next stored id."""
    last_id = 0
    while True:
        more = store.db.execute("select min(id) from ads where id > ?", [last_id]).fetchone()[0]
        if more is None:
            return
        yield more - 1, more - 1 + batch
        last_id = more - 1 + batch


Batch = list[tuple[int, str, bool, dict]]  # (ad id, old level, old flagged, new assessment) per ad


def assess_range(conn: sqlite3.Connection, engine, low: int, high: int) -> Batch:
    """(ad id, old level, old flagged, new assessment) of each ad with low < id <= high, in id order. A
    confirmed lure is not linked to itself (crawler.lureindex.without_own_lure)."""
    from crawler.lureindex import without_own_lure

    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("select * from ads where id > ? and id <= ? order by id", [low, high])]
    out = []
    for row, assessed in zip(rows, engine.assess_many(rows)):
        assessment = without_own_lure(engine, row, assessed, row["id"], [row["url"]]).to_dict()
        out.append((row["id"], row.get("risk_level") or "unscored", bool(row.get("flagged")), assessment))
    return out


_worker: dict = {}  # this process's engine and read connection (crawler.workpool.WorkerPool setup)


def _start_worker(engine, db_path: str) -> None:
    _worker["engine"] = engine  # inherited from the parent (fork): the same engine, not rebuilt
    _worker["conn"] = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)


def _assess_in_worker(low: int, high: int) -> Batch:
    return assess_range(_worker["conn"], _worker["engine"], low, high)


@contextmanager
def assessed_batches(store, engine, workers: int, batch: int = BATCH) -> Iterator[Iterator[Batch]]:
    """The assessed batches in id order, each read and assessed whole by one of `workers` processes (here for
    one), at most two batches per worker in flight (the batches in flight stay bounded). Workers start on entering."""
    with WorkerPool(workers, _start_worker, (engine, str(store.path))) as pool:
        yield pool.map(_assess_in_worker, id_ranges(store, batch))


def rescan_batches(store, batches, on_ad: Callable[[], None] | None = None) -> RescanResult:
    """Store each assessed batch (new assessment, evidence, contacts) in one write transaction, from this
    process only (workers only read), and count the level changes."""
    result = RescanResult()
    for batch in batches:
        relink, rescored = changed_for_campaigns(store, batch)
        result.relink.extend(relink)
        result.rescored.extend(rescored)
        store.write(lambda: [store.update_assessment(ad_id, assessment) for ad_id, _, _, assessment in batch])
        for _, old, flagged, assessment in batch:
            new = assessment["level"]
            result.total += 1
            result.flagged_before += int(flagged)
            result.flagged_after += int(bool(assessment["flagged"]))
            if old != new:
                result.changed_level += 1
                result.transitions[(old, new)] += 1
            if on_ad:
                on_ad()
    return result


def changed_for_campaigns(store, batch: Batch) -> tuple[list[int], list[int]]:
    """(ids whose new contacts or flag change campaign links, ids whose score alone changes: campaign risk) in
    `batch`. The flag counts for links: the generic-contact guard reads it."""
    ids = [ad_id for ad_id, _, _, _ in batch]
    if not ids:
        return [], []
    marks = ",".join("?" * len(ids))
    old_contacts: dict[int, set] = {}
    for ad_id, kind, value in store.db.execute(
            f"SELECT ad_id, kind, value FROM contacts WHERE ad_id IN ({marks})", ids):
        old_contacts.setdefault(ad_id, set()).add((kind, value))
    old_scores = dict(store.db.execute(f"SELECT id, risk_score FROM ads WHERE id IN ({marks})", ids).fetchall())
    relink, rescored = [], []
    for ad_id, _, flagged, a in batch:
        if ({(c["kind"], c["value"]) for c in a.get("contacts", [])} != old_contacts.get(ad_id, set())
                or bool(a["flagged"]) != bool(flagged)):
            relink.append(ad_id)
        elif a["score"] != old_scores.get(ad_id):
            rescored.append(ad_id)
    return relink, rescored


def rescan_store(store, engine, on_ad: Callable[[], None] | None = None, workers: int = 1,
                 batch: int = BATCH) -> RescanResult:
    """Assess every ad in `store` with `engine` (in `workers` processes) and store the new assessments."""
    with assessed_batches(store, engine, workers, batch) as batches:
        return rescan_batches(store, batches, on_ad)


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1),
              help="Processes that assess batches of ads (this one writes); same verdicts as one.")
@click.option("--batch", default=BATCH, show_default=True, type=click.IntRange(1),
              help="Ads read, assessed and written together (one transaction).")
def rescan(db_path, workers, batch):
    """Re-assess every stored ad with the current ruleset and engine (no
    recrawl): scores, levels, evidence and contacts are replaced; analyst
    reviews are kept. The similarity stage also knows the lures analysts
    confirmed in the database. Prints how many ads changed risk level, then
    links again the ads whose contacts or risk changed (campaigns), in
    chunks; a database never linked is left to `lurewatch campaigns`.
    Reads and writes in batches: memory stays flat as the store grows; with
    --workers N, N processes assess and this one writes.

    Example:

    \b
        lurewatch rescan --db lurewatch-demo.db
        lurewatch rescan --db lurewatch.db --workers 2
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from crawler.lureindex import engine_for_store
    from rules import RulesetError

    store = open_existing(db_path)
    console = Console(stderr=True)
    try:
        try:
            engine = engine_for_store(store)
        except RulesetError as exc:
            raise click.ClickException(str(exc))
        total = store.count("ads")
        with assessed_batches(store, engine, workers, batch) as batches, \
                Progress(TextColumn("Re-assessing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         console=console, transient=True) as progress:
            task = progress.add_task("ads", total=total)
            result = rescan_batches(store, batches, on_ad=lambda: progress.advance(task))
        from crawler.campaigns import relink_rescanned

        linked = relink_rescanned(store, result.relink, result.rescored)  # in chunks, never a full run
    finally:
        store.close()
    click.echo(f"Re-assessed {result.total} ads with ruleset {engine.version}: "
               f"{result.changed_level} changed level; flagged {result.flagged_before} -> {result.flagged_after}.")
    click.echo(str(linked) if linked is not None else
               "campaigns: this database was never linked (or with other settings): `lurewatch campaigns --full`"
               " links it")
    if result.transitions:
        table = Table("from", "to", "ads", title="Level changes")
        for (old, new), n in sorted(result.transitions.items(), key=lambda kv: -kv[1]):
            table.add_row(old, new, str(n))
        Console().print(table)
