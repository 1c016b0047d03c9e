"""Crawl plan files (crawler/plan.py): schema, errors with file and line, due slots and coalescing."""
from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import run_cli
from crawler.plan import Job, PlanError, load_plan, parse_duration

ISSUE_PLAN = """\
jobs:
  - name: board-a
    urls: [{url}]
    every: 20s
    max_pages: 300
"""


def write_plan(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


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

T0 = datetime(2026, 12, 7, 3, 0, 0, tzinfo=timezone.utc)
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
