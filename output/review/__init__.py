"""The analyst review app: the Lurewatch SQLite database served by Datasette with our metadata and plugins.

    from output.review import make_datasette, serve
    serve("lurewatch.db", host="127.0.0.1", port=8001)   # blocks until Ctrl-C
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
METADATA_PATH = HERE / "metadata.yaml"
PLUGINS_DIR = HERE / "plugins"
TEMPLATES_DIR = HERE / "templates"
TEMPLATE_DB_KEY = "lurewatch"  # database key used in metadata.yaml

SETTINGS = {
    "default_page_size": 50,
    "facet_time_limit_ms": 1000,
    "suggest_facets": False,  # suggestions ran a query per column (seconds at 100k ads); facets are in metadata.yaml
    "sql_time_limit_ms": 5000,
    "truncate_cells_html": 400,
    "allow_download": False,  # the file holds the users table's password hashes
}


class ReviewError(RuntimeError):
    """The review app cannot start: the message names the database or config file."""


def database_name(db_path: Path | str) -> str:
    """The name Datasette gives a database file (its stem)."""
    return Path(db_path).stem


def build_metadata(db_path: Path | str, metadata_path: Path = METADATA_PATH) -> dict[str, Any]:
    """metadata.yaml with its template database key renamed to this database's name."""
    try:
        meta = yaml.safe_load(Path(metadata_path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReviewError(f"{metadata_path}: cannot read review metadata: {exc}") from exc
    if not isinstance(meta, dict) or TEMPLATE_DB_KEY not in (meta.get("databases") or {}):
        raise ReviewError(f"{metadata_path}: expected databases.{TEMPLATE_DB_KEY} in the review metadata")
    meta = copy.deepcopy(meta)
    name = database_name(db_path)
    meta["databases"] = {name: meta["databases"].pop(TEMPLATE_DB_KEY), **meta["databases"]}
    if "description_html" in meta:
        meta["description_html"] = meta["description_html"].replace("{db}", name)
    return meta


def is_read_only(path: Path) -> bool:
    """The database file or its directory cannot be written (SQLite then cannot make its -wal/-shm files)."""
    import os

    return not (os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else Path("."), os.W_OK))


def check_database(db_path: Path | str) -> Path:
    """The database path, after checking it is a Lurewatch database; ReviewError otherwise."""
    import sqlite3

    path = Path(db_path)
    if not path.is_file():
        raise ReviewError(f"database not found: {path} (create one with `lurewatch demo` or `lurewatch crawl`)")
    try:
        conn = _connect_read_only(path)
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ReviewError(f"{path}: not a readable SQLite database: {exc}") from exc
    missing = {"ads", "evidence"} - tables
    if missing:
        raise ReviewError(f"{path}: not a Lurewatch database (missing tables: {', '.join(sorted(missing))})")
    return path


def _connect_read_only(path: Path):
    import sqlite3
    from urllib.parse import quote

    mode = "immutable=1" if is_read_only(path) else "mode=ro"
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?{mode}", uri=True)


def count_accounts(db_path: Path | str) -> int:
    """Review accounts in the database (output/review/users.py), read without writing; 0 without a users table."""
    import sqlite3

    from .users import TABLE

    conn = _connect_read_only(Path(db_path))
    try:
        return conn.execute(f"select count(*) from {TABLE}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _quiet_tracebacks() -> None:
    """Datasette's default error handler prints a rich traceback, with every local variable, for each error
    (a 404 is 180 lines) whenever `rich` is importable; our plugin logs one line per error instead."""
    import datasette.handle_exception

    datasette.handle_exception.rich = None


def make_datasette(db_path: Path | str, allowed_hosts: list[str] | None = None, frontier: str | None = None):
    """A configured Datasette instance for one Lurewatch database. A database that cannot be written is
    served immutable. `allowed_hosts`: the Host names it answers to (default: 127.0.0.1, localhost, ::1).
    `frontier`: the shared frontier's redis:// URL, shown live on /-/lurewatch/health."""
    from datasette.app import Datasette

    from .guard import allowed_hosts as default_hosts

    path = check_database(db_path)
    _quiet_tracebacks()
    metadata = build_metadata(path)
    metadata.setdefault("plugins", {})["lurewatch-review"] = {"allowed_hosts": allowed_hosts or default_hosts()}
    if frontier:
        metadata["plugins"]["lurewatch-health"] = {"frontier": frontier}
    read_only = is_read_only(path)
    return Datasette(
        [] if read_only else [str(path)],
        immutables=[str(path)] if read_only else [],
        metadata=metadata,
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR) if any(TEMPLATES_DIR.glob("*.html")) else None,
        settings=SETTINGS,
        cors=False,
    )


def serve(db_path: Path | str, host: str = "127.0.0.1", port: int = 8001, *, allow_hosts: tuple[str, ...] = (),
          on_ready=None, frontier: str | None = None) -> None:
    """Serve the review app until interrupted (Ctrl-C). `on_ready(url)` is called once it is listening.
    ReviewError when the database has no review accounts (output/review/users.py): nobody could log in,
    or when `frontier` is not a redis:// URL (an unreachable one is only reported on the health page).
    Requests must name 127.0.0.1, localhost, ::1, `host` or one of `allow_hosts` in their Host header."""
    import asyncio
    import logging

    import uvicorn

    from .guard import allowed_hosts

    if not count_accounts(check_database(db_path)):
        raise ReviewError(f"{db_path}: no review accounts yet, and the app needs a login. Add one with "
                          f"`lurewatch users add NAME --role analyst --db {db_path}`")
    if frontier:
        from crawler.frontier import FrontierError, check_url

        try:
            check_url(frontier)
        except FrontierError as exc:
            raise ReviewError(f"--frontier: {exc}") from None
    ds = make_datasette(db_path, allowed_hosts(host, allow_hosts), frontier=frontier)
    log = logging.getLogger("lurewatch.review")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("review: %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    config = uvicorn.Config(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    async def run():
        await ds.invoke_startup()
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started and on_ready:
            bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
            on_ready(f"http://{host}:{bound}/{database_name(db_path)}")
        await task

    try:
        asyncio.run(run())
    except SystemExit:  # uvicorn exits when it cannot bind
        raise ReviewError(f"could not listen on {host}:{port} (port in use?)") from None
    if not server.started:
        raise ReviewError(f"could not listen on {host}:{port} (port in use?)")
