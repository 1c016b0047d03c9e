"""Campaigns after a real crawl (`lurewatch crawl` of tests/sites/campaign_board, see its README) and after
`lurewatch rescan`: linking runs at the end of both, with no `lurewatch campaigns` call."""
from __future__ import annotations

import sqlite3
import subprocess

import pytest

from tests.conftest import LUREWATCH, db_rows, serve_site


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = serve_site("campaign_board")
    db = tmp_path_factory.mktemp("campaign_board") / "ads.db"
    try:
        proc = subprocess.run([str(LUREWATCH), "crawl", site.url("/"), "--db", str(db), "--no-progress"],
                              capture_output=True, text=True, timeout=240)
    finally:
        site.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db


def campaign_of(db) -> dict[str, int | None]:
    """Ad number (CB-n) -> campaign id."""
    return {r["external_id"]: (int(r["campaign_id"]) if r["campaign_id"] is not None else None)
            for r in db_rows(db, "SELECT external_id, campaign_id FROM ads")}


def test_a_crawl_sets_campaign_ids(crawled):
    g = campaign_of(crawled)
    assert len(g) == 5
    assert g["CB-1"] == g["CB-2"] is not None  # one Telegram handle, two texts
    assert g["CB-3"] == g["CB-4"] is not None  # +855 12 777 888 (WhatsApp) and 012-777-888
    assert g["CB-1"] != g["CB-3"] and g["CB-5"] is None
    reasons = {(r["kind"], r["value"]) for r in db_rows(crawled, "SELECT kind, value FROM ad_links")}
    assert reasons == {("telegram", "blue_harbor_hr"), ("phone", "+85512777888")}
    rows = db_rows(crawled, "SELECT id, ads, sources, status FROM campaigns ORDER BY id")
    assert [(r["id"], r["ads"], r["status"]) for r in rows] == [(g["CB-1"], 2, "active"), (g["CB-3"], 2, "active")]


def test_rescan_links_an_ad_whose_contacts_it_finds_again(crawled):
    """An ad stored without its contacts (an older extractor) is linked once `lurewatch rescan` finds them."""
    conn = sqlite3.connect(crawled)
    with conn:
        ad4 = conn.execute("SELECT id FROM ads WHERE external_id = 'CB-4'").fetchone()[0]
        conn.execute("DELETE FROM contacts WHERE ad_id = ?", [ad4])
    conn.close()
    full = subprocess.run([str(LUREWATCH), "campaigns", "--db", str(crawled), "--full"], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    before = campaign_of(crawled)
    assert before["CB-3"] is before["CB-4"] is None and before["CB-1"] is not None
    proc = subprocess.run([str(LUREWATCH), "rescan", "--db", str(crawled)], capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "campaigns (incremental" in proc.stdout
    after = campaign_of(crawled)
    assert after["CB-3"] == after["CB-4"] is not None and after["CB-3"] != after["CB-1"]
    assert after["CB-1"] == before["CB-1"]  # untouched campaign, same id
