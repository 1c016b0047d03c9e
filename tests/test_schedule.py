"""`lurewatch schedule run`: database job locks, due jobs run on time, never twice at once, failures
isolated, stop and death handled (real schedulers and crawls in subprocesses against the demo board)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli
from crawler.joblocks import JobLocks, Started
from crawler.store import Store
from sites.switchboard import SwitchBoard
from test_plan import ISSUE_PLAN, write_plan

pytestmark = pytest.mark.serial  # timing and process coordination: run alone (`make test` runs these after the rest)


@pytest.fixture
def board():
    b = SwitchBoard().start()
    yield b
    b.stop()


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- store and locks ----------------------------------------------------------------------------

WRITER = """
import sys, time
from crawler.store import Store
db, tag, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(max(0, start - time.time()))
store = Store(db)
for i in range(150):
    store.save_ad({"url": f"http://board-{tag}.example/ad/{i}", "source": tag, "title": f"ad {i}", "description": "d"})
store.close()
"""


def test_parallel_jobs_writing_one_database_lose_no_ads(tmp_path):
    """Regression: Store writes began as deferred transactions, so a process that read and then wrote
    failed at once with 'database is locked' whenever another one had written in between."""
    db = tmp_path / "shared.db"
    Store(db).close()
    start = time.time() + 2
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), tag, str(start)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for tag in "abcd"]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    counts = {r["source"]: r["n"] for r in db_rows(db, "SELECT source, COUNT(*) AS n FROM ads GROUP BY source")}
    assert counts == {tag: 150 for tag in "abcd"}


def _due_now(last, now):
    return now


def test_a_live_lock_blocks_and_a_dead_holders_lock_is_taken_over(tmp_path):
    db = tmp_path / "locks.db"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from crawler.joblocks import JobLocks
        from crawler.store import Store
        print(JobLocks(Store({str(db)!r})).start_run("board-a", "every 20s", lambda last, now: now), flush=True)
        time.sleep(600)
    """)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert "Started(run_id=1" in holder.stdout.readline()
        locks = JobLocks(Store(db))
        blocked = locks.start_run("board-a", "every 20s", _due_now)
        assert blocked.startswith("running elsewhere (") and f":{holder.pid}," in blocked
    finally:
        holder.kill()
        holder.wait()
    taken = locks.start_run("board-a", "every 20s", _due_now)
    assert isinstance(taken, Started) and taken.run_id == 2
    runs = db_rows(db, "SELECT id, status, message FROM job_runs ORDER BY id")
    assert runs[0]["status"] == "abandoned" and f":{holder.pid} stopped during the run" in runs[0]["message"]
    assert db_rows(db, "SELECT run_id, pid FROM job_locks") == [{"run_id": 2, "pid": os.getpid()}]


@pytest.mark.parametrize("expires_in, taken_over", [(timedelta(seconds=-5), True), (timedelta(seconds=50), False)])
def test_a_lock_from_another_host_is_taken_over_only_when_its_heartbeat_expired(tmp_path, expires_in, taken_over):
    db = tmp_path / "locks.db"
    store = Store(db)
    now = datetime.now(timezone.utc)
    store.db["job_runs"].insert({"id": 7, "job": "a", "schedule": "every 1m", "scheduled_for": now.isoformat(),
                                 "started_at": now.isoformat(), "status": "running", "holder": "elsewhere:42"})
    store.db["job_locks"].insert({"job": "a", "run_id": 7, "holder": "elsewhere:42", "host": "elsewhere", "pid": 42,
                                  "acquired_at": now.isoformat(), "heartbeat_at": now.isoformat(),
                                  "expires_at": (now + expires_in).isoformat(timespec="seconds")})
    result = JobLocks(store).start_run("a", "every 1m", _due_now)
    assert isinstance(result, Started) is taken_over, result
    status = db_rows(db, "SELECT status FROM job_runs WHERE id = 7")[0]["status"]
    assert status == ("abandoned" if taken_over else "running")


# -- schedule run --once ----------------------------------------------------------------------------

def once(plan: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once", *extra)


def test_once_runs_only_the_jobs_that_are_due(board, tmp_path):
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: often, urls: ["{board.url}"], every: 1s}}
          - {{name: hourly, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    first = once(plan, db)
    assert first.returncode == 0, first.stderr
    time.sleep(1.5)  # `often` is due again, `hourly` is not
    second = once(plan, db)
    assert second.returncode == 0, second.stderr
    assert "hourly: not due (next run" in second.stderr
    crawls = db_rows(db, "SELECT job, status, items, not_modified_ads FROM crawls ORDER BY id")
    assert sorted(c["job"] for c in crawls) == ["hourly", "often", "often"]
    assert all(c["status"] == "finished" and c["items"] + c["not_modified_ads"] == 50 for c in crawls), crawls
    runs = db_rows(db, "SELECT job, status, exit_code, crawl_id FROM job_runs ORDER BY id")
    assert sorted((r["job"], r["status"], r["exit_code"]) for r in runs) == [
        ("hourly", "ok", 0), ("often", "ok", 0), ("often", "ok", 0)]
    assert all(r["crawl_id"] for r in runs)


def test_failing_jobs_do_not_stop_the_others(board, tmp_path):
    dead = closed_port_url()
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: missing-profile, profile: ./no-such-profile.yaml, every: 1h}}
          - {{name: unreachable, urls: ["{dead}"], every: 1h}}
          - {{name: good, urls: ["{board.url}"], every: 1h, max_pages: 300}}
        """)
    db = tmp_path / "ads.db"
    result = once(plan, db)
    assert result.returncode == 1, result.stderr  # a run failed
    runs = {r["job"]: r for r in db_rows(db, "SELECT * FROM job_runs")}
    assert (runs["good"]["status"], runs["good"]["exit_code"]) == ("ok", 0)
    assert db_rows(db, "SELECT COUNT(*) AS n FROM ads")[0]["n"] == 50
    assert runs["missing-profile"]["status"] == "failed" and runs["missing-profile"]["exit_code"] != 0
    assert "no-such-profile.yaml: profile file not found" in runs["missing-profile"]["message"]
    assert (runs["unreachable"]["status"], runs["unreachable"]["exit_code"]) == ("failed", 4)
    assert f"unreachable host: {dead}" in runs["unreachable"]["message"]
    assert f"job 'missing-profile': {tmp_path / 'no-such-profile.yaml'}: profile file not found" in result.stderr
    assert db_rows(db, "SELECT COUNT(*) AS n FROM job_locks")[0]["n"] == 0  # every lock released


# -- schedule run, long-running --------------------------------------------------------------------

def start_scheduler(plan: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen([str(LUREWATCH), "schedule", "run", "--plan", str(plan), "--db", str(db)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def stop_schedulers(procs: list[subprocess.Popen]) -> list[str]:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    logs = []
    for p in procs:
        _, err = p.communicate(timeout=90)
        assert p.returncode == 0, err
        logs.append(err)
    return logs


def assert_no_overlap(rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: r["started_at"])
    for before, after in zip(rows, rows[1:]):
        assert before["finished_at"] and ts(after["started_at"]) >= ts(before["finished_at"]), (before, after)


@pytest.mark.slow
def test_the_issue_plan_runs_on_time_for_a_minute_without_overlap_from_two_schedulers(board, tmp_path):
    plan = write_plan(tmp_path, ISSUE_PLAN.format(url=board.url))
    db = tmp_path / "ads.db"
    Store(db).close()
    schedulers = [start_scheduler(plan, db), start_scheduler(plan, db)]
    time.sleep(62)
    logs = stop_schedulers(schedulers)  # a run that started on the last slot is stopped with them
    runs = db_rows(db, "SELECT * FROM job_runs WHERE job = 'board-a' ORDER BY scheduled_for")
    assert 3 <= len(runs) <= 4, (runs, logs)
    assert [r["status"] for r in runs[:-1]] == ["ok"] * (len(runs) - 1), (runs, logs)
    assert runs[-1]["status"] in ("ok", "interrupted"), (runs, logs)
    slots = [ts(r["scheduled_for"]) for r in runs]
    assert [b - a for a, b in zip(slots, slots[1:])] == [timedelta(seconds=20)] * (len(runs) - 1)  # one run a slot
    for run in runs:  # each started on its slot (the previous run had ended well before)
        assert timedelta(0) <= ts(run["started_at"]) - ts(run["scheduled_for"]) <= timedelta(seconds=3), run
    crawls = db_rows(db, "SELECT * FROM crawls WHERE job = 'board-a' ORDER BY id")
    ok_crawls = {r["crawl_id"] for r in runs if r["status"] == "ok"}
    assert ok_crawls <= {c["id"] for c in crawls} and len(ok_crawls) >= 3
    assert all(c["status"] == "finished" and c["items"] + c["not_modified_ads"] == 50 for c in crawls if c["id"] in ok_crawls), crawls
    assert_no_overlap([c for c in crawls if c["finished_at"]])
    assert_no_overlap(runs)
    assert db_rows(db, "SELECT COUNT(*) AS n FROM job_locks")[0]["n"] == 0
    status = run_cli("status", "--db", str(db), "--plan", str(plan))
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.startswith("job board-a: ok; ")


@pytest.mark.slow
def test_two_schedulers_never_run_a_slow_job_twice_at_once(board, tmp_path):
    board.delay = 0.25  # a crawl takes longer than the job's interval
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: slow-board, urls: ["{board.url}"], every: 2s, settings: {{CONCURRENT_REQUESTS_PER_DOMAIN: 2}}}}
        """)
    db = tmp_path / "ads.db"
    Store(db).close()
    schedulers = [start_scheduler(plan, db), start_scheduler(plan, db)]
    time.sleep(25)
    logs = stop_schedulers(schedulers)
    runs = db_rows(db, "SELECT * FROM job_runs ORDER BY id")
    assert len(runs) >= 2, logs
    assert len({r["scheduled_for"] for r in runs}) == len(runs)  # no slot ran twice
    for run in runs:  # missed slots coalesce: each run is for the latest slot, not a backlog of old ones
        assert ts(run["started_at"]) - ts(run["scheduled_for"]) < timedelta(seconds=3), run
    gaps = [ts(b["scheduled_for"]) - ts(a["scheduled_for"]) for a, b in zip(runs, runs[1:])]
    assert all(gap > timedelta(seconds=2) for gap in gaps), gaps  # slower than every 2s: slots were skipped
    assert_no_overlap([r for r in runs if r["finished_at"]])
    assert_no_overlap(db_rows(db, "SELECT * FROM crawls WHERE finished_at IS NOT NULL"))
    assert {r["status"] for r in runs} <= {"ok", "interrupted"}, runs
    assert db_rows(db, "SELECT COUNT(*) AS n FROM job_locks")[0]["n"] == 0


# -- stopping, dying, timeouts -------------------------------------------------------------------------

def wait_for_running_run(db: Path, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                rows = db_rows(db, "SELECT r.*, l.child_pid FROM job_runs r JOIN job_locks l ON l.run_id = r.id"
                                   " WHERE r.status = 'running' AND l.child_pid IS NOT NULL")
            except sqlite3.OperationalError:  # the scheduler is still creating the tables
                rows = []
            if rows:
                return rows[0]
        time.sleep(0.2)
    raise AssertionError("no run started")


def pid_gone(pid: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_stopping_the_scheduler_stops_its_crawl_and_records_the_run_interrupted(board, tmp_path):
    board.delay = 0.5
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    scheduler = start_scheduler(plan, db)
    run = wait_for_running_run(db)
    (log,) = stop_schedulers([scheduler])
    assert pid_gone(run["child_pid"], timeout=5)
    row = db_rows(db, "SELECT status, exit_code, finished_at, message FROM job_runs WHERE id = ?", [run["id"]])[0]
    assert row["status"] == "interrupted" and row["finished_at"], (row, log)
    assert row["message"].startswith("scheduler stopped by SIGTERM")
    assert db_rows(db, "SELECT COUNT(*) AS n FROM job_locks")[0]["n"] == 0
    assert "stopped (SIGTERM received)" in log


@pytest.mark.slow
def test_a_killed_schedulers_crawl_stops_and_the_next_scheduler_takes_the_job_over(board, tmp_path):
    board.delay = 0.5
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    scheduler = start_scheduler(plan, db)
    run = wait_for_running_run(db)
    scheduler.kill()  # SIGKILL: no clean-up; the lock row stays behind
    scheduler.communicate()
    assert pid_gone(run["child_pid"]), "the crawl outlived its scheduler"
    board.delay = 0
    result = run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once")
    assert result.returncode == 0, result.stderr  # the lock is taken over; the unfinished slot runs again
    runs = db_rows(db, "SELECT id, status, message, scheduled_for FROM job_runs ORDER BY id")
    assert [(r["id"], r["status"]) for r in runs] == [(run["id"], "abandoned"), (run["id"] + 1, "ok")], runs
    assert f":{scheduler.pid} stopped during the run" in runs[0]["message"]
    assert runs[1]["scheduled_for"] >= runs[0]["scheduled_for"]


def test_a_job_timeout_closes_its_crawl(board, tmp_path):
    board.delay = 1.0
    plan = write_plan(tmp_path, f"""\
        jobs:
          - {{name: slow, urls: ["{board.url}"], every: 1h, timeout: 3s}}
        """)
    db = tmp_path / "ads.db"
    result = run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once")
    assert result.returncode == 0, result.stderr
    crawl = db_rows(db, "SELECT c.items FROM job_runs r JOIN crawls c ON c.id = r.crawl_id")[0]
    assert crawl["items"] < 50  # closed before the board was read
