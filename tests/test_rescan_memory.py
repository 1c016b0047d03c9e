"""`lurewatch rescan` in bounded memory: its peak RSS does not grow with the store, and the campaigns it links
again in chunks are the ones a full link writes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import LUREWATCH, db_rows

from crawler.campaigns import link_store, relink_rescanned
from crawler.cli.rescan import rescan_store
from crawler.store import Store
from output.benchparts._scaledata import ads
from rules import Engine

STALE = {"score": 0, "level": "none", "flagged": False, "categories": [], "summary": "stale", "evidence": []}
# Runs `lurewatch ARGS` as its only child and prints that child's peak RSS in KB (Linux: ru_maxrss).
PEAK_RSS = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE).returncode;"
            " print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def stale_store(path, n: int, target_chars: int | None = 900):
    """n realistic ads stored with a stale assessment (every score and flag changes on rescan)."""
    store = Store(path)
    for ad in ads(n, target_chars=target_chars):
        store.save_ad(ad, STALE)
    return store


def rescan_peak_mb(db) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(LUREWATCH), "rescan", "--db", str(db)],
                          capture_output=True, text=True, check=True)
    rc, kb = done.stdout.split()
    assert rc == "0", done.stderr
    return int(kb) / 1024


def test_rescan_peak_memory_does_not_grow_with_the_store(tmp_path):
    """8x the ads, about the same peak (measured +7 MB, engine caches warming up): before, a rescan of a store
    never linked linked it in full, every link, signature and band key in memory (+39 MB from 500 to 4,000 ads
    here, 831 MB at 100,000)."""
    peaks = {}
    for n in (500, 4000):
        db = tmp_path / f"ads{n}.db"
        stale_store(db, n).close()
        peaks[n] = rescan_peak_mb(db)
        assert db_rows(db, "SELECT count(*) AS n FROM ads WHERE ruleset_version IS NOT NULL")[0]["n"] == n
        assert db_rows(db, "SELECT count(*) AS n FROM ads WHERE summary = 'stale'")[0]["n"] == 0
    assert peaks[4000] - peaks[500] < 20, peaks


CAMPAIGN_STATE = {
    "links": "SELECT ad_id, other_ad_id, kind, value, similarity FROM ad_links ORDER BY 1, 2, 3, 4",
    "ads": "SELECT id, campaign_id, risk_score, risk_level, flagged FROM ads ORDER BY id",
    "campaign evidence": "SELECT ad_id, rule_id, weight, explanation FROM evidence WHERE category = 'campaign'"
                         " ORDER BY ad_id, rule_id",
    "campaigns": "SELECT id, ads, sources, highest_risk, flagged_share, contacts, status FROM campaigns ORDER BY id",
    "generic": "SELECT kind, value FROM generic_contacts ORDER BY 1, 2",
}


def campaigns_after_rescan(base, db, batch: int, link) -> dict:
    """The campaign tables of a copy of `base` (at `db`) rescanned in batches of `batch`, then linked by
    `link(store, rescan result)`."""
    shutil.copy(base, db)
    store = Store(db)
    link(store, rescan_store(store, Engine.load(), batch=batch))
    store.close()
    return {name: db_rows(db, sql) for name, sql in CAMPAIGN_STATE.items()}


@pytest.mark.parametrize("n_ads, chunk, limit", [
    (120, 7, None),
    (620, 150, None),  # campaign risk over > APPLY_CHUNK ads
    (120, 7, 4),  # campaigns over the closure limit: one bounded regroup of every campaign at the end
])
def test_rescan_relinks_in_chunks_what_a_full_link_writes(tmp_path, n_ads, chunk, limit):
    """A linked store whose scores, flags and contacts all change (stored stale, without contacts): the chunked
    relink (`chunk` ads a run, then one campaign risk pass in chunks bounded by links) stores the same links,
    campaigns, campaign risk and scores as a full link after the same rescan; so does it when a campaign is too
    big to hold (more than `limit` ads: at 1M ads, one campaign of 581k held whole took 1.4 GB)."""
    base = tmp_path / "base.db"
    store = stale_store(base, n_ads, target_chars=None)
    store.add_review(5, "lure", reviewer="ana")
    link_store(store)
    store.close()

    def in_chunks(store, result):
        assert result.total == n_ads and len(result.relink) + len(result.rescored) > 20
        report = relink_rescanned(store, result.relink, result.rescored, chunk=chunk, closure_limit=limit)
        assert report.mode == "incremental" and report.ads_seen >= len(result.relink)
        assert report.regrouped_all == (limit is not None)

    states = [campaigns_after_rescan(base, tmp_path / "chunks.db", 25, in_chunks),
              campaigns_after_rescan(base, tmp_path / "full.db", 25, lambda store, result: link_store(store))]
    assert states[0] == states[1]
    assert states[0]["links"] and any(r["campaign_id"] for r in states[0]["ads"])


def test_rescan_leaves_a_store_never_linked_to_campaigns(tmp_path):
    db = tmp_path / "never.db"
    stale_store(db, 30).close()
    proc = subprocess.run([str(LUREWATCH), "rescan", "--db", str(db)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "never linked" in proc.stdout and "lurewatch campaigns --full" in proc.stdout
    assert db_rows(db, "SELECT count(*) AS n FROM ad_links")[0]["n"] == 0
    assert json.loads(db_rows(db, "SELECT categories FROM ads WHERE id = 1")[0]["categories"]) is not None


@pytest.mark.parametrize("holder_rows", [5_000, 1])
def test_incremental_link_past_the_closure_limit_regroups_like_a_full_link(tmp_path, monkeypatch, holder_rows):
    """A crawl's incremental link that touches a campaign over the closure limit regroups every campaign from the
    stored links in bounded memory: the same links, campaigns and campaign risk as a full link; so it does when the
    holders of a contact value are read one row at a time (a value shared by 10^5 ads is never held whole)."""
    from crawler.campaigns import linking

    monkeypatch.setattr(linking, "HOLDER_ROWS", holder_rows)
    base = tmp_path / "base.db"
    store = stale_store(base, 150, target_chars=None)
    link_store(store)
    store.close()

    def incrementally(store, result):
        report = link_store(store, ad_ids=range(1, 151, 3), closure_limit=3)
        assert report.mode == "incremental" and report.regrouped_all

    states = [campaigns_after_rescan(base, tmp_path / "incremental.db", 50, incrementally),
              campaigns_after_rescan(base, tmp_path / "full.db", 50, lambda store, result: link_store(store))]
    assert states[0] == states[1]
    assert any(r["campaign_id"] for r in states[0]["ads"])
