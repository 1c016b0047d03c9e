"""The CLI's one way to open an existing database: a clear error, not an empty new file, for a wrong path.

Example: store = open_existing(db_path)
"""
from __future__ import annotations

from pathlib import Path

import click


def open_existing(db_path: str):
    """The Store at `db_path`; click's error (exit 1, path named) when the file is missing or unreadable.

    Example: store = open_existing("lurewatch-demo.db")
    """
    from crawler.store import Store, StoreError

    if not Path(db_path).is_file():
        raise click.ClickException(f"database not found: {db_path}")
    try:
        return Store(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc))
