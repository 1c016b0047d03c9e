"""`lurewatch export`: flagged ads and their evidence for partners (CSV, JSON Lines, STIX 2.1, MISP)."""
import click

from . import cli
from ._lazy import LazyChoice


def _formats() -> list[str]:
    from output.export import WRITERS

    return sorted(WRITERS)


def _tlp_levels() -> list[str]:
    from output.export.stix_writer import TLP2_MARKINGS

    return list(TLP2_MARKINGS)


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
@click.option("--format", "fmt", required=True, type=LazyChoice(_formats), help="Output format.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help='Output file ("-" for stdout). Written atomically: it appears only when complete.')
@click.option("--min-score", type=click.IntRange(0, 100), default=None,
              help="Export every ad scoring at least N instead of the flagged ones.")
@click.option("--after-id", type=click.IntRange(0), default=None, help="Only ads with a larger id (incremental feeds).")
@click.option("--tlp", type=LazyChoice(_tlp_levels), default="amber", show_default=True,
              help="TLP 2.0 marking of a STIX bundle or MISP event.")
def export(db_path, fmt, out, min_score, after_id, tlp):
    """Export flagged ads (or those scoring at least --min-score) with the
    evidence behind each score. JSON Lines nests evidence and contacts;
    CSV summarises them in one column each; stix writes a STIX 2.1 bundle
    and misp a MISP event, both marked with --tlp.

    Example:

    \b
        lurewatch export --db lurewatch-demo.db --format jsonl --out flagged.jsonl --min-score 50
        lurewatch export --db lurewatch-demo.db --format stix --tlp green --out flagged.stix.json
    """
    from output.export import ExportError, Selection, export as export_ads

    try:
        n = export_ads(db_path, fmt, out, Selection(min_score=min_score, after_id=after_id), tlp=tlp)
    except ExportError as exc:
        raise click.ClickException(str(exc))
    what = "flagged ads" if min_score is None else f"ads scoring >= {min_score}"
    click.echo(f"Exported {n} {what} to {out}", err=True)
