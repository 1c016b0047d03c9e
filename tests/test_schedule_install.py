"""`lurewatch schedule install`: systemd units and crontab lines (content checked: units parsed as INI,
crontab times as five-field cron expressions)."""
from __future__ import annotations

import configparser
from pathlib import Path

from croniter import croniter

from conftest import LUREWATCH, run_cli
from test_plan import write_plan


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
