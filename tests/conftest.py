"""Shared test fixtures: fixture sites served by real HTTP servers (LocalSite), the CLI in a subprocess."""
from __future__ import annotations

import mimetypes
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crawler.localsite import LocalSite, Page

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"
LUREWATCH = Path(sys.executable).with_name("lurewatch")


def pytest_configure(config):
    """Check the ruleset once, before xdist starts its workers: every worker and every `lurewatch` subprocess
    then reads the cached result (rules/ruleset_cache.py) instead of each checking it again (~4 s CPU each)."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller did it
        return
    from rules.ruleset import RULESET_DIR
    from rules.ruleset_cache import load_checked

    load_checked(RULESET_DIR)


# Modules whose tests share no module-scoped fixture and are CPU-heavy one by one: xdist spreads them test by test.
SPREAD_MODULES = ("tests/test_engine_fastpaths.py",)


def pytest_xdist_make_scheduler(config, log):
    """Each test module runs on one xdist worker, so its module-scoped fixtures (crawls, demo databases, review
    apps, browsers) are built once instead of once per worker that got some of its tests. An explicit --dist
    other than the default `load` is kept."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if module in SPREAD_MODULES else module

    return ModuleScheduling(config, log)


def db_rows(db, sql: str, params=()) -> list[dict]:
    """Rows of a query on a Lurewatch database, as dicts."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def stored_body(db, sha1: str) -> bytes | None:
    """The page body stored under `sha1` (zstd with its source's dictionary, or gzip before schema 6)."""
    import sqlite_utils

    from crawler.snapshots import snapshot_body

    database = sqlite_utils.Database(db)
    try:
        return snapshot_body(database, sha1)[0]
    finally:
        database.conn.close()


TEXT_TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".txt": "text/plain"}


def load_site(name: str, base_url: str) -> dict[str, Page]:
    """Pages of tests/sites/NAME: every file at its path, plus routes.yaml (see the comment in that file)."""
    root = SITES / name
    pages: dict[str, Page] = {}

    def read(rel: str) -> str:
        return (root / rel).read_text(encoding="utf-8").replace("{{BASE}}", base_url)

    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "routes.yaml"):
        rel = path.relative_to(root).as_posix()
        ctype = TEXT_TYPES.get(path.suffix) or (mimetypes.guess_type(path.name)[0] or "text/html; charset=utf-8")
        page = Page(read(rel), content_type=ctype)
        pages["/" + rel] = page
        if path.name == "index.html":
            pages["/" + rel[: -len("index.html")]] = page
    routes_file = root / "routes.yaml"
    routes = yaml.safe_load(routes_file.read_text(encoding="utf-8")) if routes_file.exists() else {}
    for route, spec in (routes or {}).items():
        if not isinstance(spec, dict):
            raise ValueError(f"{routes_file}: route {route!r}: expected a mapping")
        body: str | bytes = read(spec["file"]) if spec.get("file") else ""
        if spec.get("encode"):
            body = body.encode(spec["encode"])
        base = pages.get(route)
        pages[route] = Page(
            body if (spec.get("file") or not base) else base.body,
            status=int(spec.get("status", 200)),
            content_type=spec.get("content_type") or (base.content_type if base else "text/html; charset=utf-8"),
            headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
        )
    return pages


def serve_site(name: str) -> LocalSite:
    """A started LocalSite serving tests/sites/NAME (stop it when done)."""
    site = LocalSite()
    site.pages.update(load_site(name, site.base_url))
    return site.start()


@pytest.fixture
def board():
    """The "unseen board": JSON-LD and microdata ads, pagination, robots.txt, sitemaps, redirects, legacy charsets."""
    site = serve_site("unseen_board")
    yield site
    site.stop()


def run_cli(*args: str, cwd: Path = REPO, timeout: int = 240) -> subprocess.CompletedProcess:
    """Run `lurewatch ARGS` in a subprocess (Scrapy's reactor cannot restart inside pytest)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
    return subprocess.run([str(LUREWATCH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def export_db(tmp_path_factory) -> Path:
    """The STIX and MISP export tests' database (tests/export_ads.py), built once; tests only read it."""
    from export_ads import build_db

    return build_db(tmp_path_factory.mktemp("export") / "ads.db")


def run_export(db: Path, fmt: str, out: Path, *args: str) -> Path:
    """`lurewatch export --db DB --format FMT --out OUT ARGS` (run_cli); the test fails on a non-zero exit."""
    done = run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), *args, timeout=120)
    assert done.returncode == 0, done.stderr
    return out
