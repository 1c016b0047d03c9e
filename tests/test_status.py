"""`lurewatch status`: one line per job with its last run and health; exit 1 naming an unhealthy job.
Real scheduled runs (`schedule run --once` in a subprocess) against the demo board on 127.0.0.1."""
from __future__ import annotations

import os
import pty
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from conftest import LUREWATCH, REPO, run_cli
from sites.switchboard import SwitchBoard


@pytest.fixture
def board():
    b = SwitchBoard().start()
    yield b
    b.stop()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_once(plan: Path, db: Path) -> subprocess.CompletedProcess:
    time.sleep(1.1)  # the jobs run every second: the next slot is due
    return run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once")


def status(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("status", "--db", str(db), *args)


def job_line(result: subprocess.CompletedProcess, job: str) -> str:
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith(f"job {job}: ")]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


def test_status_is_0_when_healthy_and_1_naming_the_job_when_the_board_fails(board, tmp_path):
    plan = write(tmp_path, "plan.yaml", f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1s, max_pages: 300}}
        """)
    db = tmp_path / "ads.db"
    assert run_once(plan, db).returncode == 0
    healthy = status(db, "--plan", str(plan))
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    line = job_line(healthy, "board-a")
    assert line.startswith("job board-a: ok; last=")
    assert " result=ok exit=0 " in line and " ads=50 new=50 changed=0 removed=0 flagged=20 next=" in line
    assert "1 checked: 1 healthy, 0 unhealthy" in healthy.stderr

    board.mode = "error"  # the board starts failing: every page is a 500
    assert run_once(plan, db).returncode == 1
    failing = status(db, "--plan", str(plan))
    assert failing.returncode == 1
    line = job_line(failing, "board-a")
    assert line.startswith("job board-a: FAILED; ")
    # robots.txt answers 500 too: the board is off limits (RFC 9309, fails closed)
    assert "last run failed (exit 3): error: nothing fetched" in line and "robots_unavailable" in line
    assert "1 unhealthy (board-a)" in failing.stderr

    board.stop()  # and then it is gone
    assert run_once(plan, db).returncode == 1
    gone = status(db, "--plan", str(plan))
    assert gone.returncode == 1
    assert f"last run failed (exit 4): error: unreachable host: {board.url}" in job_line(gone, "board-a")


def test_a_board_that_yields_no_ads_is_broken_after_n_runs_in_a_row(board, tmp_path):
    board.mode = "empty"  # pages load, but carry no ad
    plan = write(tmp_path, "plan.yaml", f"""\
        jobs:
          - {{name: quiet-board, urls: ["{board.url}"], every: 1s}}
        """)
    db = tmp_path / "ads.db"
    assert run_once(plan, db).returncode == 0  # finding no ads is not a failed crawl
    first = status(db, "--plan", str(plan), "--broken-after", "2")
    assert first.returncode == 0, first.stdout
    assert "job quiet-board: warning; " in first.stdout and "the last 1 run found no ads (broken after 2" in first.stdout
    assert run_once(plan, db).returncode == 0
    second = status(db, "--plan", str(plan), "--broken-after", "2")
    assert second.returncode == 1
    line = job_line(second, "quiet-board")
    assert line.startswith("job quiet-board: BROKEN; ") and "ads=0" in line
    assert "broken: the last 2 runs found no ads (broken after 2 in a row)" in line
    # the default is 3 in a row
    assert status(db, "--plan", str(plan)).returncode == 0


def test_a_profile_whose_selectors_match_nothing_is_broken(board, tmp_path):
    write(tmp_path, "stale.yaml", f"""\
        name: stale
        start_urls: ["{board.url}jobs/"]
        listing:
          link: {{css: 'ul.ads li.ad a.ad-link::attr(href)'}}
        detail:
          title: {{css: 'h1.post-title'}}
          description: {{css: 'div.body'}}
        """)
    plan = write(tmp_path, "plan.yaml", """\
        jobs:
          - {name: stale-board, profile: stale.yaml, every: 1s}
        """)
    db = tmp_path / "ads.db"
    for _ in range(2):
        assert run_once(plan, db).returncode == 1  # the crawl exits 6: stale profile
    result = status(db, "--plan", str(plan), "--broken-after", "2")
    assert result.returncode == 1
    line = job_line(result, "stale-board")
    assert line.startswith("job stale-board: BROKEN; ") and "exit=6" in line
    assert "the last 2 runs the site profile's selectors matched nothing" in line


@pytest.mark.serial
def test_a_job_whose_next_run_is_late_is_overdue(board, tmp_path):
    plan = write(tmp_path, "plan.yaml", f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1s}}
          - {{name: later, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    assert run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once", "--job", "board-a").returncode == 0
    time.sleep(3)
    assert status(db, "--plan", str(plan)).returncode == 0  # default grace: at least a minute
    late = status(db, "--plan", str(plan), "--grace", "1s")
    assert late.returncode == 1
    line = job_line(late, "board-a")
    assert line.startswith("job board-a: OVERDUE; ") and "overdue: its next run was due" in line
    assert "is `lurewatch schedule run` running?" in line
    assert job_line(late, "later").startswith("job later: pending; last=- result=never-run")
    assert "1 unhealthy (board-a)" in late.stderr


def test_without_a_plan_status_lists_jobs_and_sources_from_the_database(board, tmp_path):
    plan = write(tmp_path, "plan.yaml", f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    assert run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once").returncode == 0
    board.mode = "error"
    assert run_cli("crawl", board.url, "--db", str(db), "--no-progress").returncode == 3
    result = status(db)
    assert result.returncode == 1
    assert job_line(result, "board-a").startswith("job board-a: ok; ")
    source = [ln for ln in result.stdout.splitlines() if ln.startswith("source ")]
    assert len(source) == 1 and source[0].startswith(f"source jobposting {board.url}: FAILED; "), result.stdout
    assert "last crawl failed" in source[0]


def test_status_of_a_missing_database_exits_2(tmp_path):
    result = status(tmp_path / "none.db")
    assert result.returncode == 2 and f"database not found: {tmp_path / 'none.db'}" in result.stderr


def test_status_draws_a_table_on_a_terminal(board, tmp_path):
    plan = write(tmp_path, "plan.yaml", f"""\
        jobs:
          - {{name: board-a, urls: ["{board.url}"], every: 1h}}
        """)
    db = tmp_path / "ads.db"
    assert run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--once").returncode == 0
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(LUREWATCH), "status", "--db", str(db), "--plan", str(plan)], cwd=REPO,
                            stdin=follower, stdout=follower, stderr=follower,
                            env=dict(os.environ, COLUMNS="200", TERM="xterm"))
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = output.decode("utf-8", "replace")
    assert "Lurewatch jobs (times UTC)" in text and "board-a" in text and "every 1h" in text
    assert "health" in text and "next run" in text
