"""`lurewatch campaigns`: link ads into campaigns (shared contacts, near-duplicate texts) and show them."""
from __future__ import annotations

import json

import click

from . import cli
from ._store import open_existing


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
@click.option("--full", is_flag=True, help="Rebuild every link and campaign (default: link the ads new or "
                                           "changed since the last run; a full run when the settings changed).")
@click.option("--show", "show_id", type=int, default=None, metavar="ID", help="Print campaign ID (no linking).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0),
              help="Rows in the table of the largest campaigns.")
@click.option("--generic-sources", type=click.IntRange(min=1), default=None,
              help="A contact value in more sources than this is generic and links nothing "
                   "(default: LUREWATCH_CAMPAIGN_GENERIC_SOURCES).")
@click.option("--generic-ads", type=click.IntRange(min=2), default=None,
              help="A contact value in more ads than this is generic (default: LUREWATCH_CAMPAIGN_GENERIC_ADS).")
@click.option("--text-threshold", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Estimated Jaccard of two template texts that links them "
                   "(default: LUREWATCH_CAMPAIGN_TEXT_THRESHOLD).")
def campaigns(db_path, full, show_id, top, generic_sources, generic_ads, text_threshold):
    """Link the stored ads into campaigns: ads sharing a contact (phone,
    Telegram, WhatsApp, LINE, WeChat, Zalo, email, recruiter domain) or a
    reworded copy of one template text are linked; connected ads form a
    campaign with a stable id (ads.campaign_id). Contact values shared too
    widely (a board's support email, an agency hotline) link nothing and are
    listed in generic_contacts. Prints the campaigns, ads linked, links by
    kind and the largest campaigns. Linking also runs after every crawl and
    rescan, on the new or changed ads only.

    Example:

    \b
        lurewatch campaigns --db lurewatch-demo.db
        lurewatch campaigns --db lurewatch-demo.db --show 3
    """
    from crawler.campaigns import LinkSettings, link_pending, link_store
    from crawler.store import StoreError

    store = open_existing(db_path)
    try:
        if show_id is not None:
            _show(store, show_id)
            return
        base = LinkSettings()
        try:
            settings = LinkSettings(generic_sources=generic_sources or base.generic_sources,
                                    generic_ads=generic_ads or base.generic_ads,
                                    text_threshold=text_threshold or base.text_threshold)
        except ValueError as exc:
            raise click.BadParameter(str(exc))
        report = _link(store, settings, link_store if full else link_pending)
        click.echo(str(report))
        _summary(store, report, top)
    except StoreError as exc:
        raise click.ClickException(str(exc))
    finally:
        store.close()


def _link(store, settings, link_store):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("linking", total=None)

        def step(done, total, what):
            progress.update(task, description=f"linking: {what}", completed=done, total=total)

        return link_store(store, progress=step, settings=settings)


def _summary(store, report, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    db = store.db
    kinds = db.execute("SELECT kind, count(*) FROM ad_links GROUP BY kind ORDER BY 2 DESC, 1").fetchall()
    click.echo(f"{report.campaigns} campaigns, {report.ads_linked} ads linked; links by kind: "
               + (", ".join(f"{k}={n}" for k, n in kinds) or "none")
               + f"; {report.generic_skipped} generic contact values skipped")
    rows = db.execute("SELECT id, ads, sources, languages, highest_risk, flagged_share, contacts, status FROM campaigns"
                      " ORDER BY ads DESC, id LIMIT ?", [top]).fetchall()
    if not rows:
        return
    table = Table("id", "ads", "sources", "languages", "highest risk", "flagged", "shared contacts", "status",
                  title="Largest campaigns")
    for cid, n, sources, langs, risk, share, contacts, status in rows:
        shared = ", ".join(f"{c['kind']} {c['value']} ({c['ads']})" for c in json.loads(contacts or "[]")[:3])
        table.add_row(str(cid), str(n), ", ".join(json.loads(sources or "[]")), ", ".join(json.loads(langs or "[]")),
                      str(risk if risk is not None else "-"), f"{(share or 0):.0%}", shared or "text", status)
    Console(width=160).print(table)


def _show(store, campaign_id: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    db = store.db
    row = db.execute("SELECT * FROM campaigns WHERE id = ?", [campaign_id]).fetchone()
    if row is None:
        raise click.ClickException(f"no campaign {campaign_id} in {store.path}")
    c = dict(zip([d[0] for d in db.execute("SELECT * FROM campaigns LIMIT 0").description], row))
    click.echo(f"campaign {c['id']} ({c['key']}): {c['ads']} ads, {c['status']}, seen {c['first_seen']} .. "
               f"{c['last_seen']}, highest risk {c['highest_risk']}, {c['flagged_share']:.0%} flagged")
    click.echo(f"sources: {', '.join(json.loads(c['sources']))}; countries: {', '.join(json.loads(c['countries'])) or '-'}"
               f"; languages: {', '.join(json.loads(c['languages'])) or '-'}")
    for contact in json.loads(c["contacts"] or "[]"):
        click.echo(f"shared {contact['kind']}: {contact['value']} ({contact['ads']} ads)")
    table = Table("ad", "source", "title", "risk", "flagged", "linked by", title=f"Ads of campaign {campaign_id}")
    for ad_id, source, title, risk, flagged in db.execute(
            "SELECT id, source, title, risk_score, flagged FROM ads WHERE campaign_id = ? ORDER BY id", [campaign_id]):
        reasons = db.execute(
            "SELECT DISTINCT kind, value FROM ad_links WHERE ad_id = ? OR other_ad_id = ? ORDER BY kind, value",
            [ad_id, ad_id]).fetchall()
        table.add_row(str(ad_id), escape(source or ""), escape((title or "")[:60]), str(risk if risk is not None else "-"),
                      "yes" if flagged else "no", escape(", ".join(k if v is None else f"{k} {v}" for k, v in reasons)))
    Console(width=160).print(table)
