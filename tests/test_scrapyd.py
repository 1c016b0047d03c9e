"""scrapyd as the job runner: real scrapyd daemons, `lurewatch deploy`, `lurewatch schedule run --scrapyd`."""
from __future__ import annotations

import pytest

from conftest import db_rows, run_cli, serve_site
from crawler.services import ScrapydNode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dispatched(tmp_path_factory):
    """A two-job plan dispatched to two scrapyd nodes, after deploying to both."""
    folder = tmp_path_factory.mktemp("scrapyd")
    site = serve_site("unseen_board")
    plan = folder / "plan.yaml"
    plan.write_text("jobs:\n"
                    f"  - name: board-a\n    urls: [{site.url('/')}]\n    every: 1h\n"
                    f"  - name: board-b\n    urls: [{site.url('/jobs/')}]\n    every: 1h\n    max_pages: 5\n")
    db = folder / "ads.db"
    with ScrapydNode(folder / "node1", max_proc=1) as one, ScrapydNode(folder / "node2", max_proc=1) as two:
        deployed = run_cli("deploy", "--target", one.url, "--target", two.url)
        ran = run_cli("schedule", "run", "--plan", str(plan), "--db", str(db), "--scrapyd", one.url, two.url)
        status = run_cli("status", "--db", str(db))
        yield {"nodes": (one.url, two.url), "deployed": deployed, "ran": ran, "status": status, "db": db}
    site.stop()


def test_deploy_uploads_the_project_to_each_node(dispatched):
    deployed = dispatched["deployed"]
    assert deployed.returncode == 0, deployed.stderr
    for node in dispatched["nodes"]:
        assert f"{node}: lurewatch version" in deployed.stdout


def test_plan_jobs_run_on_both_nodes_and_are_recorded(dispatched):
    ran, db = dispatched["ran"], dispatched["db"]
    assert ran.returncode == 0, ran.stderr
    jobs = db_rows(db, "SELECT plan_job, node, status, crawl_id FROM scrapyd_jobs ORDER BY plan_job")
    assert [j["plan_job"] for j in jobs] == ["board-a", "board-b"]
    assert [j["node"] for j in jobs] == list(dispatched["nodes"])  # spread by load: one job each
    assert all(j["status"] == "ok" for j in jobs), jobs
    crawls = {c["id"]: c for c in db_rows(db, "SELECT id, job, status, items, not_modified_ads FROM crawls")}
    for j in jobs:
        crawl = crawls[j["crawl_id"]]
        assert crawl["job"] == j["plan_job"] and crawl["status"] in ("finished", "partial")
        # the jobs share pages: the later one may find them unchanged (same body hash) and extract nothing again
        assert crawl["items"] + crawl["not_modified_ads"] > 0, crawl


def test_status_shows_which_node_ran_what(dispatched):
    status = dispatched["status"]
    for node, job in zip(dispatched["nodes"], ("board-a", "board-b")):  # the first job to the first idle node
        assert f"node {node}: job {job} (" in status.stdout, status.stdout
