"""The end-of-crawl campaign linking in the assess child (LUREWATCH_LINK_PROCESS, crawler/pipelines.py's
StorePipeline.link_campaigns, crawler/assessproc.py): the same campaigns, links, campaign risk and stats
lurewatch/campaigns/* as the run in the crawl process; a failed run counts lurewatch/campaigns/failed and loses no ad."""
from __future__ import annotations

import re

import pytest

from conftest import db_rows, run_cli, serve_site
from crawler.store import Store

WAYS = {"assess child": (), "crawl process": ("-s", "LUREWATCH_LINK_PROCESS=False")}
CAMPAIGN_STATS = ("links_added", "campaigns", "ads_linked", "failed", "linked_in_child")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Each way crawls tests/sites/campaign_board twice (new ads: a full linking run; then the same ads again);
    and once more into a database whose ad_links refuse inserts (the child's linking run fails)."""
    site = serve_site("campaign_board")
    tmp = tmp_path_factory.mktemp("linkprocess")
    runs = {}
    try:
        for n, (way, settings) in enumerate(WAYS.items()):
            db = str(tmp / f"{n}.db")
            runs[way] = (db, [run_cli("crawl", site.url("/"), "--db", db, "--no-progress", "-s", "LOG_LEVEL=INFO",
                                      "-s", "LUREWATCH_HASH_FIRST=False", *settings) for _ in range(2)])
        broken = str(tmp / "broken.db")
        Store(broken).close()  # the schema, then a trigger that makes every link insert fail
        with __import__("sqlite3").connect(broken) as conn:
            conn.execute("CREATE TRIGGER no_links BEFORE INSERT ON ad_links BEGIN SELECT RAISE(ABORT, 'links refused'); END")
        runs["broken"] = (broken, [run_cli("crawl", site.url("/"), "--db", broken, "--no-progress", "-s", "LOG_LEVEL=INFO")])
    finally:
        site.stop()
    return runs


def stats(output: str) -> dict[str, int]:
    return {name: int(m.group(1)) for name in CAMPAIGN_STATS
            if (m := re.search(rf"'lurewatch/campaigns/{name}': (\d+)", output))}


def campaign_state(db: str) -> dict[str, list]:
    """The campaign tables, with ads named by URL and campaigns by their ads' URLs (ids may differ between crawls)."""
    members: dict[int, tuple] = {}
    for row in db_rows(db, "SELECT campaign_id, group_concat(url, ' ') AS urls FROM (SELECT campaign_id, url FROM ads"
                           " WHERE campaign_id IS NOT NULL ORDER BY url) GROUP BY campaign_id"):
        members[int(row["campaign_id"])] = tuple(row["urls"].split(" "))
    url = {r["id"]: r["url"] for r in db_rows(db, "SELECT id, url FROM ads")}
    return {
        "ads": sorted((r["url"], members.get(r["campaign_id"]), r["risk_score"], r["risk_level"], r["flagged"])
                      for r in db_rows(db, "SELECT url, campaign_id, risk_score, risk_level, flagged FROM ads")),
        "links": sorted((*sorted((url[r["ad_id"]], url[r["other_ad_id"]])), r["kind"], r["value"], r["similarity"])
                        for r in db_rows(db, "SELECT ad_id, other_ad_id, kind, value, similarity FROM ad_links")),
        "campaigns": sorted((members[r["id"]], r["ads"], r["sources"], r["countries"], r["languages"], r["highest_risk"],
                             r["flagged_share"], r["contacts"], r["status"]) for r in db_rows(db, "SELECT * FROM campaigns")),
        "campaign_risk": sorted((url[r["ad_id"]], r["engine_score"], r["engine_level"], r["engine_flagged"], r["score"],
                                 members.get(r["campaign_id"])) for r in db_rows(db, "SELECT * FROM campaign_risk")),
        "evidence": sorted((url[r["ad_id"]], r["rule_id"], r["weight"], r["field"], r["start"], r["end"])
                           for r in db_rows(db, "SELECT * FROM evidence WHERE category = 'campaign'")),
        "generic": sorted(tuple(r.values()) for r in db_rows(db, "SELECT * FROM generic_contacts")),
    }


def test_linking_in_the_child_gives_the_same_campaigns_as_in_the_crawl_process(crawls):
    for db, done in crawls.values():
        assert all(proc.returncode == 0 for proc in done), done[-1].stderr[-3000:]
    child, here = campaign_state(crawls["assess child"][0]), campaign_state(crawls["crawl process"][0])
    assert len(child["campaigns"]) == 2 and child["links"] and child["campaign_risk"]  # the board's two campaigns
    assert child == here


def test_the_child_links_and_the_stats_are_the_same(crawls):
    for n in range(2):  # the first crawl (a full run) and the second (incremental, no ad changed)
        child, here = (stats(crawls[way][1][n].stderr) for way in WAYS)
        assert child.pop("linked_in_child") == 1 and "linked_in_child" not in here
        assert child == here and "failed" not in child
    assert stats(crawls["assess child"][1][0].stderr)["campaigns"] == 2


def test_a_failed_linking_run_in_the_child_counts_and_keeps_every_ad(crawls):
    db, (proc,) = crawls["broken"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = stats(proc.stderr)
    assert found.get("failed") == 1 and found.get("linked_in_child") == 1
    assert "campaign linking failed" in proc.stderr and "links refused" in proc.stderr
    assert len(db_rows(db, "SELECT id FROM ads")) == 5 and not db_rows(db, "SELECT id FROM ad_links")
