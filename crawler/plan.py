"""Crawl plan files: named crawl jobs and when to run them (schema in README, "Scheduled crawls").

    jobs:
      - name: board-a
        urls: [http://127.0.0.1:8730/]
        every: 20s
        max_pages: 300

`load_plan(path) -> Plan` validates the file; every error names the file, the line and the key:

    plan.yaml:4: job 'board-a': every: '20x' is not a duration (use e.g. 90s, 15m, 6h, 1d, 1h30m)

A job's schedule is a sequence of slots: `every` slots are `interval` apart from the job's first run,
`cron` slots are the cron expression's fire times in the machine's local time zone. `Job.due_slot()`
coalesces: however many slots were missed, the job is due once, for the latest of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from croniter import croniter

from .urls import is_http_url
from rules.yamldoc import LinedYaml

JOB_KEYS = ("name", "urls", "profile", "every", "cron", "max_pages", "timeout", "ignore_robots", "settings", "frontier",
            "push")
TOP_KEYS = ("jobs",)
DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_HINT = "use e.g. 90s, 15m, 6h, 1d, 1h30m"


class PlanError(ValueError):
    """The plan file is missing, unreadable or invalid. The message names file, line and key."""


def parse_duration(text: Any) -> timedelta:
    """'20s', '15m', '6h', '1d', '1h30m' -> timedelta; ValueError otherwise (also for zero)."""
    m = DURATION_RE.match(str(text).strip()) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration ({DURATION_HINT})")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    value = timedelta(days=d, hours=h, minutes=mi, seconds=s)
    if not value:
        raise ValueError(f"{text!r}: a duration must be longer than 0")
    return value


def format_duration(value: timedelta) -> str:
    """timedelta -> '1h30m' (whole seconds)."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


@dataclass(frozen=True)
class Job:
    name: str
    urls: tuple[str, ...] = ()
    profile: str | None = None  # profile name, or a path resolved against the plan's folder
    every: timedelta | None = None
    cron: str | None = None
    max_pages: int | None = None
    timeout: timedelta | None = None
    ignore_robots: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    frontier: str | None = None  # redis://HOST:PORT/DB: workers share the crawl (crawler/frontier.py)
    push: bool = False  # with frontier: items go to Redis for `lurewatch ingest`
    line: int = 0

    @property
    def schedule(self) -> str:
        """'every 20s' or 'cron */5 * * * *'."""
        return f"every {format_duration(self.every)}" if self.every else f"cron {self.cron}"

    @property
    def target(self) -> str:
        return f"profile {self.profile}" if self.profile else " ".join(self.urls)

    # -- slots -----------------------------------------------------------------------------
    def next_slot(self, after: datetime) -> datetime:
        """The first slot after `after` (a previous slot of this job)."""
        if self.every:
            return after + self.every
        local = after.astimezone()  # cron fire times are in the machine's local time, like cron's
        return utc(croniter(self.cron, local).get_next(datetime))

    def latest_slot(self, now: datetime) -> datetime:
        """For a job never run: the slot it runs for now (an `every` job's first slot is now)."""
        if self.every:
            return now.replace(microsecond=0)
        return utc(croniter(self.cron, now.astimezone()).get_prev(datetime))

    def due_slot(self, last_slot: datetime | None, now: datetime) -> tuple[datetime | None, datetime]:
        """(slot to run now or None, when to look again). Never run -> due now; missed slots coalesce
        into one run for the latest of them, so a run never repeats to catch up."""
        if last_slot is None:
            return self.latest_slot(now), now
        due = self.next_slot(last_slot)
        if now < due:
            return None, due
        if self.every:
            missed = (now - due) // self.every
            return due + missed * self.every, now
        return max(due, self.latest_slot(now)), now

    def period_at(self, slot: datetime) -> timedelta:
        """Time between the slot after `slot` and the one after that (an `every` job: its interval)."""
        if self.every:
            return self.every
        following = self.next_slot(slot)
        return self.next_slot(following) - following


@dataclass(frozen=True)
class Plan:
    path: Path
    jobs: tuple[Job, ...]

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    def select(self, names: tuple[str, ...] | list[str]) -> list[Job]:
        """The named jobs (all when `names` is empty); PlanError naming an unknown one."""
        if not names:
            return list(self.jobs)
        unknown = [n for n in names if n not in {j.name for j in self.jobs}]
        if unknown:
            known = ", ".join(j.name for j in self.jobs)
            raise PlanError(f"{self.path}: no job named {unknown[0]!r} (jobs: {known})")
        return [j for j in self.jobs if j.name in names]


# -- loading ---------------------------------------------------------------------------------


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file. Raises PlanError naming file, line and key."""
    path = Path(path)
    doc = LinedYaml.read(path, error=PlanError, what="plan file", items=("jobs", "job"))
    data = doc.data
    if not isinstance(data, dict):
        raise doc.fail((), "expected a mapping with a 'jobs' list")
    for key in data:
        if key not in TOP_KEYS:
            raise doc.fail((key,), f"unknown key (allowed: {', '.join(TOP_KEYS)})")
    jobs_raw = data.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise doc.fail(("jobs",), "expected a non-empty list of jobs")
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(jobs_raw):
        job = _job(doc, ("jobs", i), raw)
        if job.name in seen:
            raise doc.fail(("jobs", i, "name"), f"job name {job.name!r} already used at line {seen[job.name]}")
        seen[job.name] = job.line
        jobs.append(job)
    return Plan(path, tuple(jobs))


def _job(doc: LinedYaml, where: tuple, raw: Any) -> Job:
    name = doc.named_item(where, raw, JOB_KEYS, "name:, urls: or profile:, every: or cron:")

    def fail(key: str, message: str) -> PlanError:
        return doc.fail(where + ((key,) if key else ()), message, name)

    if ("urls" in raw) == ("profile" in raw):
        raise fail("", "give exactly one of urls: or profile:")
    urls: tuple[str, ...] = ()
    profile = None
    if "urls" in raw:
        value = raw["urls"]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise fail("urls", "expected a list of http(s) URLs")
        for j, url in enumerate(items):
            if not isinstance(url, str) or not is_http_url(url):
                raise doc.fail(where + ("urls", j), f"not an http(s) URL: {url!r}", name)
        urls = tuple(items)
    else:
        profile = raw["profile"]
        if not isinstance(profile, str) or not profile.strip():
            raise fail("profile", "expected a profile name (spiders/profiles/NAME.yaml) or a YAML path")
        profile = _resolve_profile(profile.strip(), doc.path)
    if ("every" in raw) == ("cron" in raw):
        raise fail("", "give exactly one of every: (e.g. 20s, 6h) or cron: (five fields)")
    every = cron = None
    if "every" in raw:
        try:
            every = parse_duration(raw["every"])
        except ValueError as exc:
            raise fail("every", str(exc)) from None
    else:
        cron = raw["cron"]
        if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise fail("cron", f"{cron!r} is not a five-field cron expression (minute hour day month weekday, "
                               "e.g. '*/15 * * * *')")
        cron = " ".join(cron.split())
    max_pages = raw.get("max_pages")
    if max_pages is not None and (isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1):
        raise fail("max_pages", f"expected a whole number >= 1, not {max_pages!r}")
    timeout = None
    if raw.get("timeout") is not None:
        try:
            timeout = parse_duration(raw["timeout"])
        except ValueError as exc:
            raise fail("timeout", str(exc)) from None
    ignore_robots = raw.get("ignore_robots", False)
    if not isinstance(ignore_robots, bool):
        raise fail("ignore_robots", f"expected true or false, not {ignore_robots!r}")
    settings = raw.get("settings") or {}
    if not isinstance(settings, dict) or not all(isinstance(k, str) and k for k in settings):
        raise fail("settings", "expected a mapping of Scrapy setting names to values")
    for key, value in settings.items():
        if isinstance(value, (dict, list)) or value is None:
            raise doc.fail(where + ("settings", key), "expected a plain value (number, text, true/false)", name)
    frontier = raw.get("frontier")
    if frontier is not None:
        from .frontier import FrontierError, check_url

        try:
            check_url(frontier if isinstance(frontier, str) else repr(frontier))
        except FrontierError as exc:
            raise fail("frontier", str(exc)) from None
    push = raw.get("push", False)
    if not isinstance(push, bool) or (push and not frontier):
        raise fail("push", f"expected true or false, with frontier: set, not {push!r}")
    return Job(name=name, urls=urls, profile=profile, every=every, cron=cron, max_pages=max_pages,
               timeout=timeout, ignore_robots=ignore_robots, frontier=frontier, push=push,
               settings={k: _setting_text(v) for k, v in settings.items()}, line=doc.line(where))


def _resolve_profile(value: str, plan_path: Path) -> str:
    """A profile given as a path (has '/' or ends in .yaml/.yml) is relative to the plan file's folder."""
    if "/" in value or value.endswith((".yaml", ".yml")):
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (plan_path.parent / p).resolve())
    return value


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)
