"""`lurewatch demo`: serve the demo board, crawl it, show what was flagged and why, open the review app."""
from __future__ import annotations

import click

from . import cli


@cli.command()
@click.option("--db", "db_path", default="lurewatch-demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="Database to crawl into (created if missing; re-running adds no duplicate ads).")
@click.option("--no-serve", is_flag=True, help="Stop after the crawl and summary instead of serving the review app.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port of the review app.")
@click.option("--board-port", default=None, type=click.IntRange(0, 65535),
              help="Port of the demo board [default: 8730]. Ads are keyed by site, so keep it stable between runs.")
def demo(db_path, no_serve, port, board_port):
    """Serve the bundled demo job board (50 invented ads in 12 languages,
    40% of them trafficking lures) on 127.0.0.1, crawl it with the
    JobPosting spider, print what was flagged and why and the campaigns
    (ads of one recruiter) it linked, then serve the
    database in the review app (Datasette) until Ctrl-C. Each run (re)sets
    the analyst account `demo` to a new random password and prints it last.

    Example:

    \b
        lurewatch demo --db lurewatch-demo.db --no-serve
    """
    from rich.console import Console

    from crawler.demo import DEFAULT_PORT, BoardDataError, DemoBoard
    from crawler.demo.summary import build_report, print_report
    from crawler.run import run_crawl
    from output.review import ReviewError, serve

    console = Console(stderr=True, highlight=False)
    if not no_serve and port and not _port_free(port):
        raise click.ClickException(f"port {port} is in use: pick another with --port, or use --no-serve")
    wanted = DEFAULT_PORT if board_port is None else board_port
    try:
        board = DemoBoard(port=wanted)
    except BoardDataError as exc:
        raise click.ClickException(str(exc))
    board.start()
    try:
        if wanted and board.site.port != wanted:
            console.print(f"[yellow]warning:[/yellow] port {wanted} is busy; the board runs on {board.site.port}, "
                          "so its ads are stored as a different site than in earlier runs")
        console.print(f"Demo board: {board.url} ({len(board.ads)} ads, {board.pages} listing pages)")
        result = run_crawl("jobposting", db=db_path, spider_kwargs={"urls": board.url}, settings={"LOG_LEVEL": "WARNING"})
        if not result.ok:
            console.print(f"[red]demo crawl failed[/red] (exit {result.exit_code}): {result.message}")
            raise SystemExit(result.exit_code or 1)
        report = build_report(db_path, board.url, board.ads)
        print_report(report, Console())
        if report.missing:
            raise click.ClickException(f"{len(report.missing)} of {len(board.ads)} demo ads were not stored")
        password = demo_account(db_path)
        if no_serve:
            click.echo(login_line(f"http://127.0.0.1:{port}", password)
                       + f"  (once served: lurewatch review --db {db_path} --port {port})")
            return

        def ready(url):
            console.print(f"Review app on {url}  (demo board still on {board.url}; Ctrl-C to stop)")
            click.echo(login_line(url.rsplit("/", 1)[0], password))

        try:
            serve(db_path, port=port, on_ready=ready)
        except ReviewError as exc:
            raise click.ClickException(str(exc))
        except KeyboardInterrupt:
            pass
    finally:
        board.stop()


DEMO_USER = "demo"


def demo_account(db_path) -> str:
    """(Re)create the demo analyst account with a new random password; returns the password."""
    import secrets

    from output.review.users import UserError, add_user

    password = secrets.token_urlsafe(12)
    try:
        add_user(db_path, DEMO_USER, "analyst", password, replace=True)
    except UserError as exc:
        raise click.ClickException(str(exc))
    return password


def login_line(origin: str, password: str) -> str:
    return f"Review app login: {origin}/-/login  user: {DEMO_USER}  password: {password}"


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is not "in use"
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
