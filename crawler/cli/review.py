"""`lurewatch review`: serve a database in Datasette with the Lurewatch review config."""
import click

from output.review import ReviewError, serve

from . import cli


@cli.command()
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="Lurewatch SQLite database.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Every page needs a login, but passwords and session cookies cross in "
                   "clear (no HTTPS): use 0.0.0.0 only on a trusted network.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Another host name the app answers to (repeatable). Requests naming any other host are "
                   "refused (DNS rebinding); 127.0.0.1, localhost and the --host address are always allowed.")
@click.option("--frontier", metavar="redis://HOST:PORT/DB", envvar="LUREWATCH_FRONTIER", default=None,
              help="The shared crawl frontier (also LUREWATCH_FRONTIER): the Crawl health page then shows its "
                   "queues, requests in flight, items waiting for ingest and pages per node.")
def review(db_path, port, host, allow_hosts, frontier):
    """Serve a database for analysts in Datasette: facets on risk level,
    country, source, language and evidence category, full-text search,
    and a canned query of unreviewed high-risk ads. Stops on Ctrl-C.
    A database that cannot be written is served read-only (immutable).
    Every page asks for a login at /-/login: add accounts first with
    `lurewatch users add` (the app refuses to start without one).
    /-/lurewatch/health shows recent crawls, jobs per scrapyd node and,
    with --frontier, the live shared frontier.

    Example:

    \b
        lurewatch review --db lurewatch-demo.db --port 8001
        lurewatch review --db ads.db --frontier redis://10.0.0.5:6379/0
    """
    def ready(url):
        click.echo(f"Review app on {url}  (log in at {url.rsplit('/', 1)[0]}/-/login; Ctrl-C to stop)")

    try:
        serve(db_path, host=host, port=port, allow_hosts=allow_hosts, on_ready=ready, frontier=frontier)
    except ReviewError as exc:
        raise click.ClickException(str(exc))
    except KeyboardInterrupt:
        pass
