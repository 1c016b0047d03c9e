"""Run a crawl plan: each due job as its own `lurewatch crawl ... --job NAME` process.

`Runner(plan, db).run()` loops until stopped (SIGINT/SIGTERM): a job whose slot is due (see
crawler/plan.py) is started when its database lock can be taken (crawler/joblocks.py), so a job never
runs twice at once, even from two schedulers on one database. A crawl is a child process: one that
crashes, hangs past its `timeout` or cannot start is recorded as failed and the other jobs go on.
`once=True` starts what is due now, waits for those runs and returns (for cron and systemd timers).

Children are started in their own session (Ctrl-C reaches the runner only, which stops them with
SIGTERM) and, on Linux, are sent SIGTERM if the runner dies.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, TextIO

from .joblocks import HEARTBEAT_EVERY, JobLocks, Started, utcnow
from .plan import Job, Plan
from .run import EXIT_PARTIAL
from .store import Store

STOP_GRACE = 30.0  # seconds a child gets to end after SIGTERM before SIGKILL
POLL = 0.5  # seconds between looks at children and due jobs
RETRY_LOCKED = timedelta(seconds=2)  # a job locked by another scheduler is looked at again this soon
OUTPUT_TAIL = 12  # lines of a crawl's output kept in job_runs.message


def lurewatch_executable() -> str:
    """Absolute path of the `lurewatch` command of this installation."""
    sibling = Path(sys.executable).with_name("lurewatch")
    if sibling.exists():
        return str(sibling.absolute())
    found = shutil.which("lurewatch")
    if found:
        return str(Path(found).absolute())
    raise FileNotFoundError("cannot find the `lurewatch` executable (next to the Python interpreter or on PATH)")


def crawl_command(job: Job, db: str | Path) -> list[str]:
    """The `lurewatch crawl` command line that runs `job` once into `db`."""
    cmd = [lurewatch_executable(), "crawl", *job.urls, "--db", str(db), "--job", job.name, "--no-progress"]
    if job.profile:
        cmd += ["--profile", job.profile]
    if job.max_pages:
        cmd += ["--max-pages", str(job.max_pages)]
    if job.ignore_robots:
        cmd.append("--ignore-robots")
    if job.frontier:
        cmd += ["--frontier", job.frontier] + (["--push"] if job.push else [])
    for key, value in job.settings.items():
        cmd += ["-s", f"{key}={value}"]
    if job.timeout:  # Scrapy closes the crawl itself first; the runner kills it after STOP_GRACE more
        cmd += ["-s", f"CLOSESPIDER_TIMEOUT={int(job.timeout.total_seconds())}"]
    return cmd


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class RunningJob:
    job: Job
    started: Started
    proc: subprocess.Popen
    output: TextIO
    crawl_floor: int  # crawls.id before the child started: its crawls row comes after
    began: float = field(default_factory=time.monotonic)
    term_sent: float | None = None
    why_stopped: str = ""


class Runner:
    def __init__(self, plan: Plan, db: str | Path, *, jobs: list[Job] | None = None, once: bool = False,
                 log: Callable[[str], None] | None = None):
        self.plan = plan
        self.db = str(Path(db).absolute())
        self.jobs = jobs if jobs is not None else list(plan.jobs)
        self.once = once
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.store = Store(self.db)
        self.locks = JobLocks(self.store)
        self.running: dict[str, RunningJob] = {}
        self.look_at: dict[str, datetime] = {}  # job -> when to check it again
        self.reported: dict[str, str] = {}  # job -> the 'running elsewhere' already logged
        self.stopping = ""
        self.failures = 0
        self.finished = 0

    # -- main loop ---------------------------------------------------------------------------
    def run(self) -> int:
        """Run until stopped (or, with once=True, until what was due has run). Returns the exit code:
        0, or 1 when a run failed in once mode."""
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self.once:
                for job in self.jobs:
                    self._try_start(job, utcnow())
            last_beat = time.monotonic()
            while True:
                if not self.once and not self.stopping:
                    now = utcnow()
                    for job in self.jobs:
                        if job.name not in self.running and now >= self.look_at.get(job.name, now):
                            self._try_start(job, now)
                self._reap()
                if time.monotonic() - last_beat >= HEARTBEAT_EVERY.total_seconds():
                    self._heartbeat()
                    last_beat = time.monotonic()
                if (self.once or self.stopping) and not self.running:
                    break
                time.sleep(self._pause())
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.store.close()
        if self.stopping:
            self.log(f"{_now()} stopped ({self.stopping})")
        return 1 if self.once and self.failures else 0

    def _pause(self) -> float:
        if self.running or self.stopping or not self.look_at:
            return POLL
        wait = (min(self.look_at.values()) - utcnow()).total_seconds()
        return min(max(wait, 0.05), POLL)

    def _stop(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if not self.stopping:
            self.stopping = f"{name} received"
            for rj in self.running.values():
                self._terminate(rj, f"scheduler stopped by {name}")

    # -- starting ----------------------------------------------------------------------------
    def _try_start(self, job: Job, now: datetime) -> None:
        def due(last_slot, at):
            slot, look_again = job.due_slot(last_slot, at)
            self.look_at[job.name] = look_again
            return slot

        result = self.locks.start_run(job.name, job.schedule, due)
        if isinstance(result, str):
            if result != "not due":
                self.look_at[job.name] = utcnow() + RETRY_LOCKED
                if self.once or self.reported.get(job.name) != result:  # once per lock holder
                    self.log(f"{_now()} {job.name}: {'skipped' if self.once else 'waiting'}, {result}")
                    self.reported[job.name] = result
            elif self.once:
                self.log(f"{_now()} {job.name}: not due (next run {_short(self.look_at[job.name])})")
            return
        self._spawn(job, result)

    def _spawn(self, job: Job, started: Started) -> None:
        floor = self.store.db.execute("SELECT COALESCE(MAX(id), 0) FROM crawls").fetchone()[0]
        output = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        try:
            cmd = crawl_command(job, self.db)
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1"))
        except OSError as exc:
            output.close()
            self._record(job, started, status="failed", exit_code=None, crawl_id=None,
                         message=f"cannot start the crawl: {exc}")
            return
        self.locks.set_child(job.name, proc.pid)
        self.running[job.name] = RunningJob(job, started, proc, output, floor)
        self.log(f"{_now()} {job.name}: run {started.run_id} started for slot {_short(started.slot)} "
                 f"(crawl pid {proc.pid})")

    # -- watching ----------------------------------------------------------------------------
    def _reap(self) -> None:
        for name, rj in list(self.running.items()):
            code = rj.proc.poll()
            if code is None:
                self._check_timeout(rj)
                continue
            del self.running[name]
            rj.output.seek(0)
            lines = [ln.rstrip() for ln in rj.output.read().splitlines() if ln.strip()]
            rj.output.close()
            crawl = self.store.db.execute(
                "SELECT id FROM crawls WHERE job = ? AND id > ? ORDER BY id DESC LIMIT 1", [name, rj.crawl_floor]
            ).fetchone()
            tail = "\n".join(lines[-OUTPUT_TAIL:])
            if rj.why_stopped:
                status = "timeout" if rj.why_stopped.startswith("timeout") else "interrupted"
                tail = f"{rj.why_stopped}\n{tail}".strip()
            else:
                status = "ok" if code == 0 else "partial" if code == EXIT_PARTIAL else "failed"
            self._record(rj.job, rj.started, status=status, exit_code=code, crawl_id=crawl[0] if crawl else None,
                         message=tail, seconds=time.monotonic() - rj.began)

    def _check_timeout(self, rj: RunningJob) -> None:
        elapsed = time.monotonic() - rj.began
        if rj.term_sent is None and rj.job.timeout and elapsed > rj.job.timeout.total_seconds() + STOP_GRACE:
            self._terminate(rj, f"timeout: still running after {rj.job.timeout}")
        elif rj.term_sent is not None and time.monotonic() - rj.term_sent > STOP_GRACE:
            _signal(rj.proc, signal.SIGKILL)

    def _terminate(self, rj: RunningJob, why: str) -> None:
        rj.why_stopped = why
        rj.term_sent = time.monotonic()
        _signal(rj.proc, signal.SIGTERM)

    def _heartbeat(self) -> None:
        for name in self.locks.heartbeat(list(self.running)):
            self.log(f"{_now()} {name}: warning: this scheduler lost the job's lock (taken over as dead?)")

    def _record(self, job: Job, started: Started, *, status: str, exit_code: int | None, crawl_id: int | None,
                message: str, seconds: float | None = None) -> None:
        self.locks.finish_run(job.name, started.run_id, status=status, exit_code=exit_code, crawl_id=crawl_id,
                              message=message)
        self.finished += 1
        if status not in ("ok", "partial"):  # partial (exit 7) is a warning
            self.failures += 1
        took = f" in {seconds:.1f}s" if seconds is not None else ""
        head = "ok" if status == "ok" else f"{status.upper()} (exit {exit_code})"
        self.log(f"{_now()} {job.name}: run {started.run_id} {head}{took}")
        for line in message.splitlines()[-4:]:
            self.log(f"    {line}")


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the crawl and anything it started (its own session)
    except (ProcessLookupError, PermissionError):
        pass


def _now() -> str:
    return _short(utcnow())


def _short(dt: datetime) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S")
