"""`lurewatch status`: last run, result, counts, next run and health of each job (or source)."""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from . import cli
from .schedule import PlanUsageError, _load


def _duration(ctx, param, value):
    if value is None:
        return None
    from crawler.plan import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _time(dt: datetime | None) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else "-"


def _n(value) -> str:
    return "-" if value is None else str(value)


@cli.command()
@click.option("--db", default="lurewatch.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database of the crawls.")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False), default=None,
              help="Crawl plan: report its jobs (next runs from their schedules). Without it: every job "
                   "in the database and every source crawled outside a job.")
@click.option("--broken-after", default=3, show_default=True, type=click.IntRange(min=1),
              help="A job is broken after this many runs in a row that found no ads (or whose profile "
                   "selectors matched nothing).")
@click.option("--grace", default=None, callback=_duration, metavar="DURATION",
              help="How late a next run may be before the job is overdue (default: one period of the "
                   "job, at least 1m).")
@click.option("--frontier", metavar="redis://HOST:PORT/DB", default=None,
              help="Also show the shared frontier: per crawl its run, queue length, requests in flight, items "
                   "waiting for `lurewatch ingest`, and each worker's node, state and pages.")
def status(db, plan_path, broken_after, grace, frontier):
    """One line per job: last run, result, pages, ads (new/changed/removed/flagged), next run and
    health (ok, pending, warning, failed, broken, overdue) with the reason.

    Exits 0 when every job is healthy, 1 when any is failed, broken or overdue (the lines name
    them), 2 when the database or plan cannot be read.

    Jobs dispatched to scrapyd (`schedule run --scrapyd`) are listed with the node that ran them.

    Example:

        lurewatch status --db ads.db --plan plan.yaml
        lurewatch status --db ads.db --frontier redis://10.0.0.5:6379/0
    """
    from crawler.health import HealthCheck
    from crawler.store import Store, StoreError

    if not Path(db).is_file():
        raise PlanUsageError(f"database not found: {db}")
    plan_jobs = _load(plan_path)[1] if plan_path else None
    try:
        store = Store(db)
    except StoreError as exc:
        raise PlanUsageError(str(exc)) from None
    try:
        check = HealthCheck(store.db.conn, now=datetime.now(timezone.utc), broken_after=broken_after, grace=grace)
        lines = check.jobs(plan_jobs)
        if plan_jobs is None:
            lines += check.sources()
        from crawler.scrapyd import node_runs

        nodes = node_runs(store)
    finally:
        store.close()
    for run in nodes:
        click.echo(f"node {run['node']}: job {run['plan_job']} ({run['jobid']}) {run['status']}; "
                   f"crawl={_n(run['crawl_id'])} pages={_n(run['pages'])} finished={run['finished_at'] or '-'}")
    if frontier:
        _frontier(frontier)
    if not lines:
        click.echo("no crawls yet", err=True)
        return
    if sys.stdout.isatty():
        _table(lines)
    else:
        for line in lines:
            click.echo(_plain(line))
    bad = [ln.name for ln in lines if ln.unhealthy]
    click.echo(f"{len(lines)} checked: {len(lines) - len(bad)} healthy, {len(bad)} unhealthy"
               + (f" ({', '.join(bad)})" if bad else ""), err=True)
    sys.exit(1 if bad else 0)


def _result(line) -> str:
    exit_code = f" (exit {line.exit_code})" if line.exit_code not in (None, 0) else ""
    running = f"; running since {_time(line.running_since)}" if line.running_since else ""
    return line.result + exit_code + running


def _plain(line) -> str:
    text = (f"{line.kind} {line.name}: {line.health.upper() if line.unhealthy else line.health}; "
            f"last={_time(line.last_run)} result={line.result.replace(' ', '-')} exit={_n(line.exit_code)} "
            f"pages={_n(line.pages)} "
            f"ads={_n(line.ads)} new={_n(line.new)} changed={_n(line.changed)} removed={_n(line.removed)} "
            f"flagged={_n(line.flagged)} next={'running' if line.running_since else _time(line.next_run)}")
    return text + (f"; {line.reason}" if line.reason else "")


def _table(lines) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    colour = {"ok": "green", "pending": "cyan", "warning": "yellow", "failed": "bold red", "broken": "bold red",
              "overdue": "bold red"}
    table = Table(title="Lurewatch jobs (times UTC)")
    for col in ("job / source", "health", "last run", "result", "pages", "ads", "new", "changed", "removed",
                "flagged", "next run", "reason"):
        table.add_column(col, overflow="fold", justify="right" if col in ("pages", "ads", "new", "changed",
                                                                          "removed", "flagged") else "left")
    for ln in lines:
        table.add_row(escape(ln.name) + (f"\n[dim]{escape(ln.schedule)}[/dim]" if ln.schedule else ""),
                      f"[{colour.get(ln.health, 'white')}]{ln.health}[/]", _time(ln.last_run), _result(ln),
                      _n(ln.pages), _n(ln.ads), _n(ln.new), _n(ln.changed), _n(ln.removed), _n(ln.flagged),
                      "running" if ln.running_since else _time(ln.next_run), escape(ln.reason))
    Console().print(table)


def _frontier(url: str) -> None:
    from crawler.frontier import FrontierError, connect, overview

    try:
        crawls = overview(connect(url))
    except FrontierError as exc:
        raise PlanUsageError(str(exc)) from None
    for c in crawls:
        in_flight = sum(w.get("in_flight", 0) for w in c["workers"].values())
        click.echo(f"frontier {c['crawl']} run {c['run']}: {c['state']}; queue={c['queue']} in_flight={in_flight} "
                   f"waiting_ingest={c['waiting_ingest']} workers={len(c['workers'])}")
        for worker, w in sorted(c["workers"].items()):
            click.echo(f"    worker {worker} on {w.get('node') or w.get('host')}: {w.get('state')} "
                       f"pages={w.get('pages', 0)} in_flight={w.get('in_flight', 0)}")
