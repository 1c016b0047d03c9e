"""`lurewatch campaigns --full` in bounded memory: its peak RSS does not grow with the store (issue 16 item 5)."""
from __future__ import annotations

import subprocess
import sys

from conftest import LUREWATCH, db_rows
from test_rescan_memory import PEAK_RSS, stale_store


def full_link_peak_mb(db) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(LUREWATCH), "campaigns", "--db", str(db), "--full"],
                          capture_output=True, text=True, check=True)
    rc, kb = done.stdout.split()
    assert rc == "0", done.stderr
    return int(kb) / 1024


def test_full_link_peak_memory_does_not_grow_with_the_store(tmp_path):
    """4x the ads of one giant text-linked campaign (37,742 links at 1,000 ads, 135,398 at 4,000), about the same
    peak (measured +5.5 MB): before, a full run held every signature, band key, link and ad state in memory
    (+34 MB from 1,000 to 4,000 ads here, 324 MB at 20,000)."""
    peaks = {}
    for n in (1000, 4000):
        db = tmp_path / f"ads{n}.db"
        stale_store(db, n).close()
        peaks[n] = full_link_peak_mb(db)
        links = db_rows(db, "SELECT count(*) AS n FROM ad_links WHERE kind = 'text'")[0]["n"]
        linked = db_rows(db, "SELECT count(DISTINCT campaign_id) AS c, count(campaign_id) AS n FROM ads")[0]
        assert links > 30 * n and linked["c"] >= 1 and linked["n"] > 0.95 * n, (links, linked)
    assert peaks[4000] - peaks[1000] < 15, peaks
