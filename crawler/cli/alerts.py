"""`lurewatch alerts send | status | enable`: partner alerts (output/alerts), sent incrementally per partner."""
from __future__ import annotations


import click

from . import cli

from ._store import open_existing as _store

DB_OPTION = click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False),
                         help="Lurewatch SQLite database.")




@cli.group()
def alerts():
    """Alerts for partners (CERTs, hotlines, trust-and-safety teams): each
    partner in a partners file (YAML, see output/alerts/README.md) gets what
    is new or changed since its last delivery, as STIX 2.1, a MISP feed,
    JSON Lines or CSV, in a directory or by signed webhook.

    Example:

    \b
        lurewatch alerts send --db lurewatch-demo.db --partners partners.yaml
    """


@alerts.command()
@DB_OPTION
@click.option("--partners", "partners_file", required=True, type=click.Path(dir_okay=False),
              help="Partners file (YAML): who gets which alerts, in which format, where.")
@click.option("--partner", "only", default=None, metavar="NAME", help="Send to this partner only.")
def send(db_path, partners_file, only):
    """Send each partner the alerts that are new or changed since its last
    delivery: a changed score, level, verdict or take-down is an update under
    the same alert id with a higher version; a later not_lure verdict revokes
    the alert. A run killed midway loses nothing: the next run sends again
    what was not acknowledged (same webhook-id) and nothing that was. A
    partner that fails does not stop the others; the command exits 1 if any
    partner failed, after trying them all. Secrets come from the environment
    variables the file names and are never printed or stored.

    Example:

    \b
        HOTLINE_SECRET=whsec_... lurewatch alerts send --db lurewatch-demo.db --partners partners.yaml
    """
    from crawler.store import StoreError
    from output.alerts import PartnersError, load_partners, send_alerts

    try:
        partners = load_partners(partners_file)
        results = send_alerts(db_path, partners, only, say=lambda line: click.echo(line, err=True))
    except (PartnersError, StoreError) as exc:
        raise click.ClickException(str(exc))
    for r in results:
        click.echo(f"{r.name}: {r.status}, {r.delivered} of {r.due} delivered" + (f" ({r.message})" if r.message else ""))
    failed = [r.name for r in results if r.status == "failed"]
    if failed:
        click.echo(f"Error: {len(failed)} partner(s) failed: {', '.join(failed)} (they get the rest next run)", err=True)
        raise SystemExit(1)


@alerts.command()
@DB_OPTION
def status(db_path):
    """Show each partner's deliveries: delivered, pending (sent or about to
    be, not yet acknowledged), failed, superseded by a newer version, its
    cursor, the last delivery and whether a 410 disabled it.

    Example:

    \b
        lurewatch alerts status --db lurewatch-demo.db
    """
    from rich.console import Console
    from rich.table import Table

    store = _store(db_path)
    try:
        rows = store.alerts.status()
    finally:
        store.close()
    if not rows:
        click.echo("No alerts sent yet (lurewatch alerts send).")
        return
    table = Table(title="Partner alerts")
    for column in ("partner", "state", "cursor", "delivered", "pending", "failed", "superseded", "last delivery"):
        table.add_column(column)
    for r in rows:
        state = f"disabled since {r['disabled_at']}: {r['disabled_reason']}" if r["disabled_at"] else "enabled"
        last = f"{r['last']['at']} {r['last']['status']}: {r['last']['response']}" if r["last"] else "-"
        c = r["counts"]
        table.add_row(r["name"], state, str(r["cursor"]), str(c["delivered"]), str(c["pending"]),
                      str(c["failed"] + c["gone"]), str(c["superseded"]), last)
    Console(width=200).print(table)


@alerts.command()
@click.argument("name")
@DB_OPTION
def enable(name, db_path):
    """Send to partner NAME again after a 410 Gone disabled it.

    Example:

    \b
        lurewatch alerts enable hotline --db lurewatch-demo.db
    """
    store = _store(db_path)
    try:
        changed = store.alerts.enable(name)
    finally:
        store.close()
    click.echo(f"Partner {name!r} enabled: the next `alerts send` delivers to it." if changed
               else f"Partner {name!r} was not disabled.")
