"""Scheduled crawls: plan files, due slots, database job locks, `lurewatch schedule run|install`
(real schedulers and crawls in subprocesses against the demo board on 127.0.0.1)."""
from __future__ import annotations

import configparser
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
from croniter import croniter

from conftest import LUREWATCH, REPO, db_rows, run_cli
from crawler.joblocks import JobLocks, Started
from crawler.plan import Job, PlanError, load_plan, parse_duration
from crawler.store import Store
from sites.switchboard import SwitchBoard

ISSUE_PLAN = """\
jobs:
  - name: board-a
    urls: [{url}]
    every: 20s
    max_pages: 300
"""
T0 = datetime(2026, 12, 7, 3, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def board():
    b = SwitchBoard().start()
    yield b
    b.stop()


def write_plan(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- plan files -------------------------------------------------------------------------------

def test_the_plan_from_the_issue_loads_as_written(tmp_path):
    plan = load_plan(write_plan(tmp_path, ISSUE_PLAN.format(url="http://127.0.0.1:8730/")))
    (job,) = plan.jobs
    assert (job.name, job.urls, job.every, job.max_pages, job.line) == (
        "board-a", ("http://127.0.0.1:8730/",), timedelta(seconds=20), 300, 2)
    assert job.schedule == "every 20s"


def test_profile_paths_are_relative_to_the_plan_and_names_stay_names(tmp_path):
    plan = load_plan(write_plan(tmp_path, """\
        jobs:
          - {name: a, profile: boards/x.yaml, cron: "*/15 * * * *"}
          - {name: b, profile: jobsdb_hk, every: 1h30m, timeout: 10m, settings: {DOWNLOAD_DELAY: 2}}
        """))
    a, b = plan.jobs
    assert a.profile == str(tmp_path / "boards" / "x.yaml") and a.cron == "*/15 * * * *"
    assert b.profile == "jobsdb_hk" and b.every == timedelta(hours=1, minutes=30)
    assert b.timeout == timedelta(minutes=10) and b.settings == {"DOWNLOAD_DELAY": "2"}


@pytest.mark.parametrize("body, line, message", [
    ("jobs: []\n", 1, "jobs: expected a non-empty list of jobs"),
    ("job:\n  - name: a\n", 1, "job: unknown key"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    every: 20x\n", 4,
     "job 'a': every: '20x' is not a duration"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    every: 20\n", 4, "job 'a': every: 20 is not a duration"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    cron: '*/5 * * *'\n", 4,
     "job 'a': cron: '*/5 * * *' is not a five-field cron expression"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    cron: '61 * * * *'\n", 4, "is not a five-field cron"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n", 2, "job 'a': give exactly one of every:"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    profile: p\n    every: 1m\n", 2,
     "job 'a': give exactly one of urls: or profile:"),
    ("jobs:\n  - name: a\n    every: 1m\n", 2, "give exactly one of urls: or profile:"),
    ("jobs:\n  - name: a\n    every: 1m\n    urls:\n      - http://x.org/\n      - ftp://y.org/\n", 6,
     "job 'a': urls.1: not an http(s) URL: 'ftp://y.org/'"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    every: 1m\n    max_pages: 0\n", 5,
     "job 'a': max_pages: expected a whole number >= 1"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/]\n    every: 1m\n    evry: 2m\n", 5, "job 'a': evry: unknown key"),
    ("jobs:\n  - name: Board A\n    urls: [http://x.org/]\n    every: 1m\n", 2, "name: required: lower-case"),
    ("jobs:\n  - {name: a, urls: [http://x.org/], every: 1m}\n  - {name: a, urls: [http://y.org/], every: 1m}\n",
     3, "job name 'a' already used at line 2"),
    ("jobs:\n  - name: a\n    urls: [http://x.org/\n", 4, "invalid YAML"),
    ("jobs:\n  - name: a\n    name: b\n", 3, "duplicate key 'name'"),
])
def test_plan_errors_name_the_file_and_line(tmp_path, body, line, message):
    path = write_plan(tmp_path, body)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert message in str(err.value)


def test_a_bad_plan_stops_the_cli_with_exit_2_and_the_line(tmp_path):
    path = write_plan(tmp_path, "jobs:\n  - name: a\n    urls: [http://x.org/]\n    every: soon\n")
    result = run_cli("schedule", "run", "--plan", str(path), "--db", str(tmp_path / "x.db"), "--once")
    assert result.returncode == 2
    assert f"{path}:4: job 'a': every: 'soon' is not a duration" in result.stderr


# -- due slots ----------------------------------------------------------------------------------

EVERY_20S = Job(name="j", every=parse_duration("20s"))


@pytest.mark.parametrize("last_slot, now, slot, look_again", [
    (None, T0 + timedelta(seconds=3.7), T0 + timedelta(seconds=3), None),  # never run: due now
    (T0, T0 + timedelta(seconds=19), None, T0 + timedelta(seconds=20)),  # not yet
    (T0, T0 + timedelta(seconds=20.4), T0 + timedelta(seconds=20), None),  # on time
    (T0, T0 + timedelta(seconds=95), T0 + timedelta(seconds=80), None),  # missed 3 slots: one run, the latest
])
def test_every_slots_coalesce_missed_runs(last_slot, now, slot, look_again):
    got_slot, got_look = EVERY_20S.due_slot(last_slot, now)
    assert got_slot == slot
    assert got_look == (look_again or now)


def test_cron_slots_follow_the_expression_and_coalesce():
    job = Job(name="c", cron="*/15 * * * *")
    last = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
    assert job.due_slot(last, last + timedelta(minutes=14)) == (None, last + timedelta(minutes=15))
    slot, _ = job.due_slot(last, last + timedelta(minutes=50))  # 03:15, 03:30 and 03:45 missed: one run
    assert slot == last + timedelta(minutes=45)
    assert job.period_at(last) == timedelta(minutes=15)


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
        assert blocked.startswith(f"running elsewhere (") and f":{holder.pid}," in blocked
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


# -- schedule install ----------------------------------------------------------------------------------

def install_plan(tmp_path: Path) -> Path:
    return write_plan(tmp_path, """\
        jobs:
          - {name: board-a, urls: ["http://127.0.0.1:8730/"], every: 20s, max_pages: 300}
          - {name: nightly, profile: jobsdb_hk, cron: "30 2 * * *"}
          - {name: six-hourly, urls: ["http://127.0.0.1:8730/"], every: 6h}
        """, name="my plan.yaml")


def test_install_systemd_writes_a_service_and_a_timer_per_job(tmp_path):
    plan = install_plan(tmp_path)
    out = tmp_path / "units"
    result = run_cli("schedule", "install", "--plan", plan.name, "--db", "ads.db", "--systemd", "--out", "units",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"lurewatch-my-plan-{job}.{kind}" for job in ("board-a", "nightly", "six-hourly")
                           for kind in ("service", "timer"))
    expected_calendar = {"board-a": "*-*-* *:*:00/20", "nightly": "*-*-* *:*:00", "six-hourly": "*-*-* *:*:00"}
    for job, calendar in expected_calendar.items():
        service, timer = (configparser.ConfigParser(interpolation=None, strict=True) for _ in range(2))
        service.optionxform = timer.optionxform = str
        service.read(out / f"lurewatch-my-plan-{job}.service")
        timer.read(out / f"lurewatch-my-plan-{job}.timer")
        assert service["Service"]["Type"] == "oneshot"
        assert service["Service"]["ExecStart"] == (
            f'{LUREWATCH} schedule run --once --plan "{tmp_path / "my plan.yaml"}" --db {tmp_path / "ads.db"} '
            f"--job {job}")
        assert service["Service"]["WorkingDirectory"] == str(tmp_path)
        assert timer["Timer"]["OnCalendar"] == calendar
        assert timer["Timer"]["Unit"] == f"lurewatch-my-plan-{job}.service"
        assert timer["Timer"]["AccuracySec"] == "1s"
        assert timer["Install"]["WantedBy"] == "timers.target"
    assert "systemctl --user enable --now lurewatch-my-plan-board-a.timer" in result.stderr


def test_install_cron_prints_valid_five_field_lines_with_absolute_paths(tmp_path):
    plan = install_plan(tmp_path)
    result = run_cli("schedule", "install", "--plan", plan.name, "--db", "ads.db", "--cron", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = [ln for ln in result.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(entries) == 3
    schedules = []
    for entry in entries:
        fields = entry.split()
        when, command = " ".join(fields[:5]), fields[5:]
        assert croniter.is_valid(when), entry
        schedules.append(when)
        assert command[0] == str(LUREWATCH) and Path(command[0]).is_absolute()
        assert command[1:5] == ["schedule", "run", "--once", "--plan"]
        assert f"--plan '{tmp_path / 'my plan.yaml'}' --db {tmp_path / 'ads.db'} --job" in entry
        assert entry.endswith(f">> {tmp_path / 'ads.db'}.schedule.log 2>&1")
    assert schedules == ["* * * * *", "30 2 * * *", "* * * * *"]
    assert "# board-a: every 20s; cron wakes it once a minute" in result.stdout


def test_install_needs_a_kind(tmp_path):
    result = run_cli("schedule", "install", "--plan", str(install_plan(tmp_path)))
    assert result.returncode == 2 and "choose --systemd or --cron" in result.stderr


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
