"""`lurewatch schedule install`: systemd units or crontab lines that run a plan with `schedule run --once`.

Each job gets its own trigger, so a long crawl of one job never delays another: a systemd timer +
oneshot service pair, or one crontab line, each running `lurewatch schedule run --once --job NAME`.
The trigger only wakes the job up (every minute, or more often for `every:` under a minute); whether it
is due is decided from the database, as by a long-running `schedule run`. Every path is absolute.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from .plan import Job, Plan, format_duration

MINUTE_DIVISORS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)


def unit_prefix(plan: Plan) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", plan.path.stem.lower()).strip("-") or "plan"
    return f"lurewatch-{slug}"


def job_command(exe: str, plan: Plan, db: Path, job: Job) -> list[str]:
    return [exe, "schedule", "run", "--once", "--plan", str(plan.path.absolute()), "--db", str(db.absolute()),
            "--job", job.name]


def wake_seconds(job: Job) -> int:
    """How often the trigger wakes the job up: 60 s, or the largest divisor of a minute that is not
    longer than an `every:` under a minute."""
    if job.every and job.every.total_seconds() < 60:
        return max(d for d in MINUTE_DIVISORS if d <= job.every.total_seconds())
    return 60


def systemd_quote(arg: str) -> str:
    """One ExecStart argument: specifiers (%) and variables ($) escaped, quoted when needed."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@+=:,./%$-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(plan: Plan, db: Path, exe: str) -> dict[str, str]:
    """{unit file name: text}: a oneshot service and a timer per job."""
    units: dict[str, str] = {}
    prefix = unit_prefix(plan)
    workdir = str(plan.path.absolute().parent).replace("%", "%%")
    for job in plan.jobs:
        name = f"{prefix}-{job.name}"
        units[f"{name}.service"] = (
            f"# Written by `lurewatch schedule install --systemd` for job {job.name!r} of {plan.path.absolute()}\n"
            "[Unit]\n"
            f"Description=Lurewatch scheduled crawl {job.name} ({job.schedule})\n"
            "Wants=network-online.target\n"
            "After=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=oneshot\n"
            f"WorkingDirectory={workdir}\n"
            f"ExecStart={' '.join(systemd_quote(a) for a in job_command(exe, plan, db, job))}\n"
            # exit 1 = the crawl failed: the unit shows as failed in `systemctl --user list-units --failed`
        )
        wake = wake_seconds(job)
        calendar = f"*-*-* *:*:00/{wake}" if wake < 60 else "*-*-* *:*:00"
        units[f"{name}.timer"] = (
            f"# Written by `lurewatch schedule install --systemd`: wakes {name}.service every {wake}s;\n"
            f"# `lurewatch schedule run --once` runs the job when it is due ({job.schedule}).\n"
            "[Unit]\n"
            f"Description=Wake Lurewatch job {job.name} ({job.schedule})\n"
            "\n"
            "[Timer]\n"
            f"OnCalendar={calendar}\n"
            "AccuracySec=1s\n"
            "Persistent=true\n"
            f"Unit={name}.service\n"
            "\n"
            "[Install]\n"
            "WantedBy=timers.target\n"
        )
    return units


def crontab_lines(plan: Plan, db: Path, exe: str, log: Path) -> list[str]:
    """Crontab lines (with comments): one per job, its output appended to `log`."""
    def cron_quote(arg: str) -> str:
        return shlex.quote(arg).replace("%", "\\%")  # cron turns a bare % into a newline

    lines = [f"# Lurewatch plan {plan.path.absolute()} -> {db.absolute()} "
             "(written by `lurewatch schedule install --cron`)"]
    for job in plan.jobs:
        command = " ".join(cron_quote(a) for a in job_command(exe, plan, db, job))
        if job.cron:
            when = job.cron
            lines.append(f"# {job.name}: {job.schedule}")
        else:
            when = "* * * * *"
            note = ("; cron wakes it once a minute, so it runs at most once a minute"
                    if job.every.total_seconds() < 60 else "; woken every minute, runs when due")
            lines.append(f"# {job.name}: every {format_duration(job.every)}{note}")
        lines.append(f"{when} {command} >> {cron_quote(str(log.absolute()))} 2>&1")
    return lines
