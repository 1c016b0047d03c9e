"""scrapyd as the job runner: `deploy` builds the project's egg (setuptools `bdist_egg`: Scrapy's settings
entry point; the code is the `lurewatch` installed on the node) and uploads it with scrapyd's addversion.json; `Dispatcher` sends a plan's jobs to scrapyd nodes (schedule.json, through
scrapyd-client's ScrapydClient), the least loaded node first (daemonstatus.json: pending + running, plus what
this dispatch already sent), follows them (listjobs.json) and records each in `scrapyd_jobs` with its node,
its scrapyd job id and the `crawls` row the crawl wrote (crawls.job = the plan job).

A job crawls with the node's own settings plus: LUREWATCH_JOB, LUREWATCH_NODE, and either LUREWATCH_DB
(the store's path, for nodes that see it) or the job's frontier (LUREWATCH_FRONTIER, LUREWATCH_SINK=redis
with `push: true`: items go to Redis for `lurewatch ingest`).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .plan import Job
from .store import Store, now

PROJECT = "lurewatch"
SETUP_PY = """from setuptools import setup

setup(
    name="{project}",
    version="{version}",
    packages=["lurewatch_scrapyd"],
    entry_points={{"scrapy": ["settings = crawler.settings"]}},
)
"""
TABLE = ("CREATE TABLE IF NOT EXISTS scrapyd_jobs (id INTEGER PRIMARY KEY, plan_job TEXT, node TEXT, jobid TEXT,"
         " spider TEXT, status TEXT, crawl_id INTEGER, scheduled_at TEXT, finished_at TEXT, message TEXT)")
POLL = 0.5  # s between listjobs.json looks


class ScrapydError(RuntimeError):
    """A scrapyd node refused or could not be reached; the message names the node."""


def build_egg(out_dir: Path, version: str) -> Path:
    """The egg scrapyd wants for a project: Scrapy's settings entry point (crawler.settings) and the version.

    The code it runs is the `lurewatch` package installed in the node's environment (its dependencies must
    be there anyway, and Lurewatch reads its rules and profiles from package folders, which a zipped egg
    cannot hold): deploy after `pip install` of the same release on every node.
    """
    from importlib.metadata import version as installed

    work = Path(tempfile.mkdtemp(prefix="lurewatch-egg-"))
    try:
        (work / "lurewatch_scrapyd").mkdir()
        (work / "lurewatch_scrapyd" / "__init__.py").write_text(
            f'"""Lurewatch deployed to scrapyd."""\nVERSION = {version!r}\nLUREWATCH = {installed("lurewatch")!r}\n')
        (work / "setup.py").write_text(SETUP_PY.format(project=PROJECT, version=version))
        done = subprocess.run([sys.executable, "setup.py", "-q", "bdist_egg", "-d", str(out_dir)], cwd=work,
                              capture_output=True, text=True)
        if done.returncode:
            raise ScrapydError(f"building the egg failed: {done.stderr[-2000:]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    [egg] = sorted(out_dir.glob("*.egg"))
    return egg


def deploy(target: str, version: str | None = None, project: str = PROJECT) -> dict:
    """Build the egg and upload it to the scrapyd at `target` (addversion.json); scrapyd's answer."""
    import requests

    version = version or time.strftime("%Y%m%d%H%M%S")
    with tempfile.TemporaryDirectory() as out:
        egg = build_egg(Path(out), version)
        try:
            with egg.open("rb") as handle:
                response = requests.post(f"{target.rstrip('/')}/addversion.json",
                                         data={"project": project, "version": version}, files={"egg": handle}, timeout=60)
            answer = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ScrapydError(f"{target}: cannot upload the egg: {exc}") from None
    if answer.get("status") != "ok":
        raise ScrapydError(f"{target}: addversion.json refused the egg: {answer.get('message', answer)}")
    return {**answer, "version": version}


def job_request(job: Job, db: str | None, node: str) -> tuple[str, list[tuple[str, str]]]:
    """(spider, schedule.json parameters) for one plan job."""
    from .cli.crawl import spider_for_urls
    from .cli.profiles import spider_for_profile

    if job.profile:
        spider, kwargs = spider_for_profile(job.profile, (), job.max_pages)
        if "/" not in job.profile:  # a shipped profile: by name (the node has it in the egg), not by our path
            kwargs["name"] = job.profile
    else:
        spider, kwargs = spider_for_urls(job.urls, job.max_pages or 500)
    settings = {"LUREWATCH_JOB": job.name, "LUREWATCH_NODE": node, "LOG_LEVEL": "INFO", **job.settings}
    if job.ignore_robots:
        settings["ROBOTSTXT_OBEY"] = "False"
    if job.timeout:
        settings["CLOSESPIDER_TIMEOUT"] = str(int(job.timeout.total_seconds()))
    if job.frontier:
        settings["LUREWATCH_FRONTIER"] = job.frontier
    if job.push:
        settings.update(LUREWATCH_SINK="redis", LUREWATCH_DB="")
    elif db:
        settings["LUREWATCH_DB"] = db
    params = [(k, str(v)) for k, v in kwargs.items() if v is not None]
    params += [("setting", f"{k}={v}") for k, v in settings.items()]
    return spider, params


@dataclass
class Sent:
    job: Job
    node: str
    jobid: str
    row_id: int
    crawl_floor: int
    status: str = "pending"


@dataclass
class Dispatcher:
    nodes: list[str]
    store: Store
    db: str | None
    project: str = PROJECT
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))

    def __post_init__(self):
        from scrapyd_client.pyclient import ScrapydClient

        self.clients = {node: ScrapydClient(node.rstrip("/")) for node in self.nodes}
        self.store.write(lambda: self.store.db.execute(TABLE))

    def load(self, extra: dict[str, int]) -> dict[str, int]:
        """Jobs pending or running on each node (daemonstatus.json) plus the ones just sent to it."""
        loads = {}
        for node, client in self.clients.items():
            try:
                status = client.daemonstatus()
            except Exception as exc:  # noqa: BLE001 - requests and scrapyd-client errors alike
                self.log(f"{node}: unreachable ({type(exc).__name__}: {exc}); not used")
                continue
            loads[node] = int(status.get("pending", 0)) + int(status.get("running", 0)) + extra.get(node, 0)
        return loads

    def dispatch(self, jobs: list[Job]) -> list[Sent]:
        sent: list[Sent] = []
        extra: dict[str, int] = {}
        for job in jobs:
            loads = self.load(extra)
            if not loads:
                raise ScrapydError("no scrapyd node answered: " + ", ".join(self.nodes))
            node = min(loads, key=lambda n: (loads[n], self.nodes.index(n)))
            spider, params = job_request(job, self.db, node)
            jobid = f"{job.name}-{uuid.uuid4().hex[:8]}"
            floor = self.store.db.execute("SELECT COALESCE(MAX(id), 0) FROM crawls").fetchone()[0]
            try:
                self.clients[node].schedule(self.project, spider, [*params, ("jobid", jobid)])
            except Exception as exc:  # noqa: BLE001
                raise ScrapydError(f"{node}: schedule.json refused job {job.name!r}: {exc}") from None
            row_id = self.store.write(lambda: self.store.db["scrapyd_jobs"].insert(
                {"plan_job": job.name, "node": node, "jobid": jobid, "spider": spider, "status": "pending",
                 "scheduled_at": now()}).last_pk)
            extra[node] = extra.get(node, 0) + 1
            sent.append(Sent(job, node, jobid, row_id, floor))
            self.log(f"{job.name}: sent to {node} as {jobid} (load {loads[node]})")
        return sent

    def follow(self, sent: list[Sent], timeout: float = 3600) -> int:
        """Wait until every job sent has finished (listjobs.json); record status and crawl. Failures counted."""
        deadline = time.monotonic() + timeout
        waiting = {s.jobid: s for s in sent}
        while waiting and time.monotonic() < deadline:
            for node in {s.node for s in waiting.values()}:
                listing = self.clients[node].jobs(self.project)
                for state in ("running", "finished"):
                    for entry in listing.get(state, []):
                        s = waiting.get(entry["id"])
                        if s is None or s.status == state:
                            continue
                        s.status = state
                        if state == "finished":
                            self.record(s)
                            del waiting[s.jobid]
                        else:
                            self._update(s.row_id, status="running")
            if waiting:
                time.sleep(POLL)
        for s in waiting.values():
            self._update(s.row_id, status="timeout", finished_at=now(), message="still not finished when we stopped")
        return sum(1 for s in sent if s.status != "ok")

    def record(self, s: Sent) -> None:
        crawl = self.store.db.execute("SELECT id, status, message FROM crawls WHERE job = ? AND id > ?"
                                      " ORDER BY id DESC LIMIT 1", [s.job.name, s.crawl_floor]).fetchone()
        if crawl is None and not s.job.push:
            s.status = "failed"
            message = "the crawl wrote no crawls row (see the node's log)"
            crawl_id = None
        else:
            crawl_id = crawl[0] if crawl else None
            s.status = "ok" if crawl is None or crawl[1] in ("finished", "partial") else "failed"
            message = crawl[2] if crawl else "items pushed to the frontier: `lurewatch ingest` stores them"
        self._update(s.row_id, status=s.status, crawl_id=crawl_id, finished_at=now(), message=message)
        self.log(f"{s.job.name}: {s.status} on {s.node} (crawl {crawl_id if crawl_id is not None else '-'})")

    def _update(self, row_id: int, **values) -> None:
        self.store.write(lambda: self.store.db["scrapyd_jobs"].update(row_id, values))


def node_runs(store: Store) -> list[dict]:
    """The last scrapyd dispatch of each plan job: node, scrapyd job id, status, crawl and its pages."""
    if not store.db["scrapyd_jobs"].exists():
        return []
    return [dict(zip(("plan_job", "node", "jobid", "status", "crawl_id", "pages", "finished_at"), r)) for r in store.db.execute(
        "SELECT s.plan_job, s.node, s.jobid, s.status, s.crawl_id, c.pages, s.finished_at FROM scrapyd_jobs s"
        " LEFT JOIN crawls c ON c.id = s.crawl_id WHERE s.id IN (SELECT max(id) FROM scrapyd_jobs GROUP BY plan_job)"
        " ORDER BY s.plan_job")]
