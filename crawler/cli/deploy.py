"""`lurewatch deploy`: package Lurewatch for scrapyd and upload it (addversion.json)."""
from __future__ import annotations

import sys

import click

from . import cli


@cli.command()
@click.option("--target", "targets", required=True, multiple=True, metavar="URL",
              help="scrapyd node to upload to, e.g. http://10.0.0.7:6800 (repeatable).")
@click.option("--version", default=None, help="Version name (default: the time, YYYYMMDDhhmmss).")
@click.option("--project", default="lurewatch", show_default=True, help="scrapyd project name.")
def deploy(targets, version, project):
    """Build the scrapyd egg of Lurewatch (Scrapy's settings entry point and a version) and upload it to
    each scrapyd --target as a new version of --project, so `lurewatch schedule run --scrapyd` can run
    jobs there. The code that runs is the lurewatch installed in scrapyd's environment (`pip install`
    the same release on every node first: rules and profiles are read from its package folders).

    Exits 0, or 4 when a node refused the egg or could not be reached.

    Example:

        lurewatch deploy --target http://10.0.0.7:6800 --target http://10.0.0.8:6800
    """
    from crawler.run import EXIT_UNREACHABLE
    from crawler.scrapyd import ScrapydError, deploy as upload

    failed = False
    for target in targets:
        try:
            answer = upload(target, version, project)
        except ScrapydError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
            continue
        click.echo(f"{target}: {project} version {answer['version']} deployed ({answer.get('spiders')} spiders)")
    if failed:
        sys.exit(EXIT_UNREACHABLE)
