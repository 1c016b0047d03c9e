"""`lurewatch schedule run|install`: run a crawl plan's jobs when due, or install cron/systemd triggers."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import cli

PLAN_HELP = "Crawl plan file (YAML; see README, \"Scheduled crawls\")."


class PlanUsageError(click.ClickException):
    exit_code = 2  # 1 is kept for "a run failed"


def _load(plan_path: str, jobs: tuple[str, ...] = ()):
    from crawler.plan import PlanError, load_plan

    try:
        plan = load_plan(plan_path)
        return plan, plan.select(jobs)
    except PlanError as exc:
        raise PlanUsageError(str(exc)) from None


@cli.group()
def schedule():
    """Scheduled crawls: run the jobs of a crawl plan file when they are due.

    Example:

        lurewatch schedule run --plan plan.yaml --db ads.db
    """


@schedule.command("run")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False), help=PLAN_HELP)
@click.option("--db", default="lurewatch.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database the crawls write to (also holds the job locks and run history).")
@click.option("--once", is_flag=True, help="Start the jobs that are due now, wait for them and exit (for cron).")
@click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job (repeatable).")
@click.option("--scrapyd", "nodes", multiple=True, metavar="URL",
              help="Dispatch the jobs now to these scrapyd nodes (`--scrapyd URL [URL...]`, least loaded first; "
                   "deploy there first with `lurewatch deploy`), follow them and record each with its node.")
@click.argument("more_nodes", nargs=-1, metavar="")
def run(plan_path, db, once, jobs, nodes, more_nodes):
    """Run the plan's jobs when due, each as a `lurewatch crawl` process, until stopped (Ctrl-C or
    SIGTERM stops the running crawls too). A job never runs twice at once, even from two schedulers
    on one database; a failing job does not stop the others; missed runs are caught up once.

    With --scrapyd, every selected job is sent now to the least loaded scrapyd node (schedule.json),
    followed to its end (listjobs.json) and recorded with its node (`lurewatch status` shows it); run it
    from cron or a systemd timer for repeated runs.

    Exits 0 (with --once or --scrapyd: 1 when a run failed), 2 for a bad plan, 4 when no scrapyd node
    answers, 5 when the database is not writable.

    Example:

        lurewatch schedule run --plan plan.yaml --db ads.db
        lurewatch schedule run --plan plan.yaml --db ads.db --once --job board-a
        lurewatch schedule run --plan plan.yaml --db /srv/ads.db --scrapyd http://node1:6800 http://node2:6800
    """
    from crawler.run import EXIT_DB, check_db_writable
    from crawler.schedule import Runner
    from crawler.store import StoreError
    from spiders.profiles_schema import ProfileError, load_profile

    if more_nodes and not nodes:
        raise click.UsageError(f"unexpected argument {more_nodes[0]!r} (scrapyd nodes follow --scrapyd)")
    plan, selected = _load(plan_path, jobs)
    try:
        check_db_writable(db)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_DB)
    if nodes:
        sys.exit(_dispatch(selected, db, [*nodes, *more_nodes]))
    for job in selected:
        if job.profile:
            try:
                load_profile(job.profile)
            except ProfileError as exc:  # the job will fail on its own; the others run
                click.echo(f"warning: {plan.path}:{job.line}: job {job.name!r}: {exc}", err=True)
    runner = Runner(plan, db, jobs=selected, once=once)
    if not once:
        click.echo(f"scheduler started: {len(selected)} job(s) of {plan.path} -> {runner.db} "
                   f"({', '.join(f'{j.name}: {j.schedule}' for j in selected)}); Ctrl-C stops", err=True)
    sys.exit(runner.run())


def _dispatch(selected, db: str, nodes: list[str]) -> int:
    from crawler.run import EXIT_UNREACHABLE
    from crawler.scrapyd import Dispatcher, ScrapydError
    from crawler.store import Store

    store = Store(db)
    try:
        dispatcher = Dispatcher(nodes, store, str(Path(db).absolute()))
        sent = dispatcher.dispatch(selected)
        return 1 if dispatcher.follow(sent) else 0
    except ScrapydError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_UNREACHABLE
    finally:
        store.close()


@schedule.command("install")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, exists=True), help=PLAN_HELP)
@click.option("--db", default="lurewatch.db", show_default=True, type=click.Path(dir_okay=False),
              help="SQLite database the scheduled crawls write to.")
@click.option("--systemd", "kind", flag_value="systemd", help="Write a systemd service + timer per job.")
@click.option("--cron", "kind", flag_value="cron", help="Print crontab lines, one per job.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the files: units (default ~/.config/systemd/user) or, with --cron, a "
                   "lurewatch-PLAN.crontab file besides the printed lines.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), default=None,
              help="--cron: file the jobs' output is appended to (default: DB.schedule.log).")
def install(plan_path, db, kind, out_dir, log_path):
    """Write systemd units (--systemd) or print crontab lines (--cron) that run each job of the plan
    with `lurewatch schedule run --once`, with absolute paths to lurewatch, the plan and the database.

    Example:

        lurewatch schedule install --plan plan.yaml --db ads.db --systemd
        lurewatch schedule install --plan plan.yaml --db ads.db --cron | crontab -
    """
    from crawler.schedule import lurewatch_executable
    from crawler.schedule_install import crontab_lines, systemd_units, unit_prefix

    if kind is None:
        raise click.UsageError("choose --systemd or --cron")
    plan, _ = _load(plan_path)
    db_path = Path(db).absolute()
    try:
        exe = lurewatch_executable()
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if kind == "cron":
        lines = crontab_lines(plan, db_path, exe, Path(log_path) if log_path else Path(f"{db_path}.schedule.log"))
        text = "\n".join(lines) + "\n"
        click.echo(text, nl=False)
        if out_dir:
            target = Path(out_dir) / f"{unit_prefix(plan)}.crontab"
            _write(target, text)
            click.echo(f"wrote {target.absolute()} (install with: crontab -l | cat - {target.absolute()} | crontab -)",
                       err=True)
        return
    folder = Path(out_dir) if out_dir else Path.home() / ".config" / "systemd" / "user"
    units = systemd_units(plan, db_path, exe)
    for name, text in units.items():
        _write(folder / name, text)
        click.echo(f"wrote {folder.absolute() / name}")
    timers = " ".join(n for n in units if n.endswith(".timer"))
    click.echo(f"enable with: systemctl --user daemon-reload && systemctl --user enable --now {timers}", err=True)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc}") from None
