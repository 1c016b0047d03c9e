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
    "sql_time_limit_ms": 5000,
    "truncate_cells_html": 400,
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


def check_database(db_path: Path | str) -> Path:
    """The database path, after checking it is a Lurewatch database; ReviewError otherwise."""
    import sqlite3

    path = Path(db_path)
    if not path.is_file():
        raise ReviewError(f"database not found: {path} (create one with `lurewatch demo` or `lurewatch crawl`)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
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


def make_datasette(db_path: Path | str):
    """A configured Datasette instance for one Lurewatch database."""
    from datasette.app import Datasette

    path = check_database(db_path)
    return Datasette(
        [str(path)],
        metadata=build_metadata(path),
        plugins_dir=str(PLUGINS_DIR),
        template_dir=str(TEMPLATES_DIR) if any(TEMPLATES_DIR.glob("*.html")) else None,
        settings=SETTINGS,
        cors=False,
    )


def serve(db_path: Path | str, host: str = "127.0.0.1", port: int = 8001, *, on_ready=None) -> None:
    """Serve the review app until interrupted (Ctrl-C). `on_ready(url)` is called once it is listening."""
    import asyncio

    import uvicorn

    ds = make_datasette(db_path)
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
