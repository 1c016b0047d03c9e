"""Job locks in the database: a plan job runs in one place at a time, across processes and hosts.

A `job_locks` row (job, holder host:pid, the crawl's child pid, acquired_at, heartbeat_at, expires_at)
exists while a scheduler runs the job. `JobLocks.start_run()` takes the lock and records the run in
`job_runs` in one write transaction (BEGIN IMMEDIATE), after checking again that the job is still due:
two schedulers that see the same slot due cannot both run it.

A lock whose holder is dead is taken over: on this host when neither the scheduler nor its crawl
process is alive any more, from another host when its heartbeat expired. The dead holder's run is
then closed as `abandoned` and, like a run stopped with the scheduler (`interrupted`), its slot is run again.
"""
from __future__ import annotations

import os
import socket
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from .store import Store

LOCK_TTL = timedelta(seconds=60)  # a holder that stops heart-beating for this long is presumed dead
HEARTBEAT_EVERY = timedelta(seconds=10)
RERUN_STATUSES = ("abandoned", "interrupted")  # runs that did not complete: their slot is run again


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def stamp(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_stamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def process_started(pid: int | None) -> str | None:
    """A token that tells a process from a later one with the same pid (Linux start time), else None.
    None too when the process does not exist or is a zombie."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return ""
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def process_alive(pid: int | None, started: str | None = None) -> bool:
    if not pid:
        return False
    if os.path.isdir("/proc"):
        now_started = process_started(pid)
        return now_started is not None and (not started or not now_started or now_started == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int

    @classmethod
    def me(cls) -> "Holder":
        return cls(socket.gethostname(), os.getpid())

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


def lock_is_live(row: dict, now: datetime, host: str | None = None) -> bool:
    """Whether the holder of a job_locks row may still be running the job."""
    host = host or socket.gethostname()
    if row["host"] == host:
        return process_alive(row["pid"], row["pid_started"]) or process_alive(row["child_pid"], row["child_started"])
    expires = parse_stamp(row["expires_at"])
    return expires is not None and expires > now


@dataclass
class Started:
    run_id: int
    slot: datetime


class JobLocks:
    """Locks and run records of plan jobs in one database (the Store owns the connection)."""

    def __init__(self, store: Store, holder: Holder | None = None):
        self.store = store
        self.conn: sqlite3.Connection = store.db.conn
        self.holder = holder or Holder.me()

    @contextmanager
    def _write(self):
        """One write transaction, the write lock taken first (waits out other writers: busy_timeout)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def _rows(self, sql: str, params=()) -> list[dict]:
        cur = self.conn.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def last_slot(self, job: str) -> datetime | None:
        """The slot of the job's last run that counts (running, or ended other than RERUN_STATUSES)."""
        marks = ",".join("?" * len(RERUN_STATUSES))
        rows = self._rows(f"SELECT MAX(scheduled_for) AS slot FROM job_runs WHERE job = ? AND status NOT IN ({marks})",
                          [job, *RERUN_STATUSES])
        return parse_stamp(rows[0]["slot"]) if rows else None

    def lock(self, job: str) -> dict | None:
        rows = self._rows("SELECT * FROM job_locks WHERE job = ?", [job])
        return rows[0] if rows else None

    def start_run(self, job: str, schedule: str,
                  due: Callable[[datetime | None, datetime], datetime | None]) -> Started | str:
        """Take `job`'s lock and record a run for the slot `due(last_slot, now)` returns.
        Returns Started, or why not: 'not due' or 'running elsewhere (host:pid)'."""
        now = utcnow()
        with self._write():
            row = self.lock(job)
            if row is not None and not lock_is_live(row, now, self.holder.host):
                self._abandon(row, now)  # its slot is run again
                row = None
            slot = due(self.last_slot(job), now)
            if slot is None:
                return "not due"
            if row is not None:
                return f"running elsewhere ({row['holder']}, since {row['acquired_at']})"
            cur = self.conn.execute(
                "INSERT INTO job_runs (job, schedule, scheduled_for, started_at, status, holder)"
                " VALUES (?, ?, ?, ?, 'running', ?)", [job, schedule, stamp(slot), stamp(now), str(self.holder)])
            run_id = cur.lastrowid
            self.conn.execute(
                "INSERT OR REPLACE INTO job_locks (job, run_id, holder, host, pid, pid_started, acquired_at,"
                " heartbeat_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [job, run_id, str(self.holder), self.holder.host, self.holder.pid, process_started(self.holder.pid),
                 stamp(now), stamp(now), stamp(now + LOCK_TTL)])
        return Started(run_id, slot)

    def _abandon(self, row: dict, now: datetime) -> None:
        """Close the run of a dead holder (inside start_run's transaction)."""
        self.conn.execute(
            "UPDATE job_runs SET status = 'abandoned', finished_at = ?, message = ? WHERE id = ? AND status = 'running'",
            [stamp(now), f"its scheduler {row['holder']} stopped during the run (lock taken over by {self.holder})",
             row["run_id"]])
        self.conn.execute("DELETE FROM job_locks WHERE job = ?", [row["job"]])

    def set_child(self, job: str, pid: int) -> None:
        with self._write():
            self.conn.execute("UPDATE job_locks SET child_pid = ?, child_started = ? WHERE job = ? AND holder = ?",
                              [pid, process_started(pid), job, str(self.holder)])

    def heartbeat(self, jobs: list[str]) -> list[str]:
        """Extend our locks on `jobs`; returns the jobs whose lock we no longer hold."""
        now = utcnow()
        lost = []
        with self._write():
            for job in jobs:
                cur = self.conn.execute(
                    "UPDATE job_locks SET heartbeat_at = ?, expires_at = ? WHERE job = ? AND holder = ?",
                    [stamp(now), stamp(now + LOCK_TTL), job, str(self.holder)])
                if cur.rowcount == 0:
                    lost.append(job)
        return lost

    def finish_run(self, job: str, run_id: int, *, status: str, exit_code: int | None, crawl_id: int | None,
                   message: str) -> None:
        """Record how the run ended and release the lock (in one transaction)."""
        with self._write():
            self.conn.execute(
                "UPDATE job_runs SET status = ?, exit_code = ?, crawl_id = ?, finished_at = ?, message = ? WHERE id = ?",
                [status, exit_code, crawl_id, stamp(utcnow()), message, run_id])
            self.conn.execute("DELETE FROM job_locks WHERE job = ? AND holder = ?", [job, str(self.holder)])
