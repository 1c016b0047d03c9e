"""Write transactions that survive other processes using the same SQLite database.

`Transactions.write(work)` runs `work()` between BEGIN IMMEDIATE and COMMIT: the write lock is
taken before anything is read, so a WAL reader never has to upgrade (which fails at once with
SQLITE_BUSY, whatever the busy timeout). "database is locked"/"busy" rolls the transaction back and
runs it again with backoff until `retry_for` seconds have passed; then StoreError names the path.
"""
from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Callable, TypeVar

BUSY_TIMEOUT = 30.0  # seconds SQLite waits for a lock before "database is locked"
RETRY_FOR = 120.0  # seconds a locked transaction is retried after that

T = TypeVar("T")


class StoreError(RuntimeError):
    """The database cannot be opened or written; the message names the path."""


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's transient lock errors ("database is locked", "database table is locked", busy)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class Transactions:
    """Mixin: needs `self.db` (sqlite_utils.Database), `self.path`, `self.retry_for`, `self._depth`."""

    path: Path
    retry_for: float
    _depth: int = 0


    def _after_rollback(self) -> None:
        """Hook: drop caches that may describe rolled-back rows."""

    def retrying(self, work: Callable[[], T]) -> T:
        """`work()`, run again with backoff while SQLite says the database is locked or busy."""
        deadline = time.monotonic() + self.retry_for
        delay = 0.02
        while True:
            try:
                return work()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or self._depth:
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(f"{self.path}: {exc} (still locked after retrying for {self.retry_for:g}s)") from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    def write(self, work: Callable[[], T]) -> T:
        """Run `work()` as one write transaction (BEGIN IMMEDIATE ... COMMIT), retried whole when locked.
        Nested calls join the open transaction."""
        if self._depth:
            return work()

        def attempt() -> T:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                result = work()
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._after_rollback()
                raise
            finally:
                self._depth -= 1

        return self.retrying(attempt)

