"""Health of scheduled jobs and crawled sources, from the database (`lurewatch status`).

One `Line` per plan job (runs in `job_runs`, counts from their `crawls` rows) or, without a plan, per
job found in the database and per source crawled outside any job. Health:

  ok        the last run finished
  pending   never run yet
  warning   the last run(s) found no ads, fewer than `broken_after` in a row; or the last run was
            partial (crawl exit 7: some requests failed or boards were not walked completely)
  failed    the last run failed (crawl exit code, timeout, or its scheduler died)      -> unhealthy
  broken    `broken_after` runs in a row found no ads or the selectors matched nothing -> unhealthy
  overdue   not running and the next run is later than `grace` past its slot          -> unhealthy

A run that the user interrupted (scheduler stopped), or a crawl marked `interrupted` (its process
was killed), does not count either way.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .joblocks import RERUN_STATUSES, lock_is_live, parse_stamp
from .plan import Job, parse_duration
from .run import EXIT_PARTIAL, EXIT_STALE_PROFILE

UNHEALTHY = ("failed", "broken", "overdue")
DEFAULT_BROKEN_AFTER = 3
MIN_GRACE = timedelta(seconds=60)
HISTORY = 50  # runs looked at per job or source


@dataclass
class Line:
    name: str
    kind: str  # job | source
    health: str = "pending"
    reasons: list[str] = field(default_factory=list)
    last_run: datetime | None = None
    result: str = "never run"  # run status: ok, failed, timeout, abandoned, interrupted (crawls: finished...)
    exit_code: int | None = None  # of the run's crawl process
    pages: int | None = None
    ads: int | None = None  # seen in the run: stored or confirmed unchanged
    new: int | None = None
    changed: int | None = None
    removed: int | None = None
    flagged: int | None = None  # ads of the run the engine flagged (crawls.flagged_ads)
    next_run: datetime | None = None
    running_since: datetime | None = None
    schedule: str = ""

    @property
    def unhealthy(self) -> bool:
        return self.health in UNHEALTHY

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def job_from_schedule(name: str, schedule: str) -> Job | None:
    """A Job with the schedule recorded in job_runs ('every 20s' / 'cron */5 * * * *'), else None."""
    kind, _, spec = (schedule or "").partition(" ")
    try:
        if kind == "every":
            return Job(name=name, every=parse_duration(spec))
        if kind == "cron" and spec:
            return Job(name=name, cron=spec)
    except ValueError:
        pass
    return None


class HealthCheck:
    def __init__(self, conn: sqlite3.Connection, *, now: datetime, broken_after: int = DEFAULT_BROKEN_AFTER,
                 grace: timedelta | None = None):
        self.conn = conn
        self.now = now
        self.broken_after = broken_after
        self.grace = grace

    # -- jobs ------------------------------------------------------------------------------
    def jobs(self, plan_jobs: list[Job] | None = None) -> list[Line]:
        """Lines for the plan's jobs, or for every job that has runs in the database."""
        if plan_jobs is None:
            names = [r["job"] for r in _rows(self.conn, "SELECT job, MAX(id) FROM job_runs GROUP BY job ORDER BY job")]
            plan_jobs = []
            for name in names:
                last = _rows(self.conn, "SELECT schedule FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1", [name])
                plan_jobs.append(job_from_schedule(name, last[0]["schedule"]) or Job(name=name, every=None))
        return [self.job(job) for job in plan_jobs]

    def job(self, job: Job) -> Line:
        line = Line(job.name, "job", schedule=job.schedule if (job.every or job.cron) else "")
        runs = _rows(self.conn, """
            SELECT r.*, c.pages, c.items, c.not_modified_ads, c.new_ads, c.changed_ads, c.removed_ads,
                   c.flagged_ads, c.errors
            FROM job_runs r LEFT JOIN crawls c ON c.id = r.crawl_id
            WHERE r.job = ? ORDER BY r.scheduled_for DESC, r.id DESC LIMIT ?""", [job.name, HISTORY])
        lock = _rows(self.conn, "SELECT * FROM job_locks WHERE job = ?", [job.name])
        running = bool(lock) and lock_is_live(lock[0], self.now)
        if running:
            line.running_since = parse_stamp(lock[0]["acquired_at"])
        for run in runs:
            if run["status"] == "running" and not (running and lock[0]["run_id"] == run["id"]):
                run["status"] = "abandoned"  # its scheduler died; the next run will close it
                run["message"] = f"its scheduler {run['holder']} stopped during the run"
        done = [r for r in runs if r["status"] != "running"]
        if done:
            self._fill(line, done[0])
        counted = [r for r in done if r["status"] != "interrupted"]
        self._judge(line, counted, describe=_run_failure)
        counted_slots = [r for r in runs if r["status"] not in RERUN_STATUSES]
        if counted_slots and (job.every or job.cron):
            last_slot = parse_stamp(counted_slots[0]["scheduled_for"])
            line.next_run = job.next_slot(last_slot)
            grace = self.grace if self.grace is not None else max(MIN_GRACE, job.period_at(last_slot))
            if not running and self.now > line.next_run + grace:
                late = _ago(self.now - line.next_run)
                line.reasons.append(f"overdue: its next run was due {late} ago (is `lurewatch schedule run` "
                                    "running?)")
                if line.health not in ("failed", "broken"):
                    line.health = "overdue"
        elif job.every or job.cron:
            line.next_run = self.now  # never run, or its last run did not complete: due now
        return line

    # -- sources crawled without a job ----------------------------------------------------------
    def sources(self) -> list[Line]:
        crawls = _rows(self.conn, "SELECT * FROM crawls WHERE job IS NULL ORDER BY id DESC")
        groups: dict[str, list[dict]] = {}
        for c in crawls:
            groups.setdefault(source_label(c), []).append(c)
        lines = []
        for label, rows in sorted(groups.items()):
            line = Line(label, "source")
            rows = rows[:HISTORY]
            for r in rows:
                r["exit_code"], r["crawl_id"] = None, r["id"]
            done = [r for r in rows if r["finished_at"] and r["status"] != "interrupted"]
            if rows and not rows[0]["finished_at"]:
                line.running_since = parse_stamp(rows[0]["started_at"])
            if done:
                self._fill(line, done[0])
            self._judge(line, done, describe=_crawl_failure)
            lines.append(line)
        return lines

    # -- shared ---------------------------------------------------------------------------------
    def _fill(self, line: Line, run: dict) -> None:
        line.last_run = parse_stamp(run["started_at"])
        line.result, line.exit_code = run["status"], run.get("exit_code")
        line.pages = run.get("pages")
        line.ads = _seen(run)
        line.new, line.changed, line.removed = run.get("new_ads"), run.get("changed_ads"), run.get("removed_ads")
        line.flagged = run.get("flagged_ads")

    def _judge(self, line: Line, runs: list[dict], describe) -> None:
        if not runs:
            line.health = "pending"
            return
        streak, selectors = 0, False
        for run in runs:
            if not _empty(run):
                break
            streak += 1
            selectors = selectors or _no_match(run)
        what = "the site profile's selectors matched nothing" if selectors else "found no ads"
        failure = None if _empty(runs[0]) else describe(runs[0])
        partial = None if failure or _empty(runs[0]) else _partial(runs[0])
        if failure:
            line.health = "failed"
            line.reasons.append(failure)
        elif partial:
            line.health = "warning"
            line.reasons.append(partial)
        elif streak >= self.broken_after:
            line.health = "broken"
            line.reasons.append(f"broken: the last {streak} runs {what} (broken after {self.broken_after} in a row)")
        elif streak:
            line.health = "warning"
            line.reasons.append(f"the last {streak} run{'s' if streak > 1 else ''} {what} "
                                f"(broken after {self.broken_after} in a row)")
        else:
            line.health = "ok"


def _seen(run: dict) -> int | None:
    """Ads the run saw: stored, or confirmed unchanged by a 304."""
    if run.get("items") is None:
        return None
    return run["items"] + (run.get("not_modified_ads") or 0)


def _errors(run: dict) -> dict:
    try:
        return json.loads(run.get("errors") or "{}")
    except ValueError:
        return {}


def _no_match(run: dict) -> bool:
    return run.get("exit_code") == EXIT_STALE_PROFILE or bool(_errors(run).get("profile_no_match"))


def _empty(run: dict) -> bool:
    """The run reached the board but it yielded no ad (or the profile's selectors matched nothing)."""
    if _no_match(run):
        return True
    ok = run.get("status") in ("ok", "finished", "partial")
    return ok and run.get("crawl_id") is not None and (_seen(run) or 0) == 0


def _last_line(message: str | None) -> str:
    lines = [ln.strip() for ln in (message or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith("error")]
    return (errors or lines or [""])[-1]


def _partial(run: dict) -> str | None:
    """Why the run was partial because something failed (a job run that exited 7, a crawl row with
    status partial and errors), else None."""
    if run.get("exit_code") == EXIT_PARTIAL or run.get("status") == "partial" and _errors(run):
        message = run.get("message") or ""
        at = message.find("partial: ")
        detail = message[at + len("partial: "):].splitlines()[0] if at >= 0 else _last_line(message)
        return f"last run partial (exit {EXIT_PARTIAL}): {detail}".rstrip(": ")
    return None


def _run_failure(run: dict) -> str | None:
    if run["status"] in ("ok", "partial"):
        return None
    code = f" (exit {run['exit_code']})" if run.get("exit_code") is not None else ""
    return f"last run {run['status']}{code}: {_last_line(run.get('message'))}".rstrip(": ")


def _crawl_failure(run: dict) -> str | None:
    if run["status"] != "failed":
        return None
    return f"last crawl failed: {_last_line(run.get('message'))}".rstrip(": ")


def source_label(crawl: dict) -> str:
    """What a crawl outside any job crawled: 'profile NAME', or the spider and its first URL."""
    try:
        args = json.loads(crawl.get("args") or "{}")
    except ValueError:
        args = {}
    if args.get("profile"):
        return f"profile {args['profile']}"
    urls = args.get("urls") or []
    if isinstance(urls, str):
        urls = [u for u in urls.split(",") if u]
    first = urls[0] if urls else ""
    more = f" (+{len(urls) - 1})" if len(urls) > 1 else ""
    return f"{crawl.get('spider') or 'crawl'} {first}{more}".strip()


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"
