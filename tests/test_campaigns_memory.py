"""`lurewatch campaigns --full` in bounded memory: its peak RSS does not grow with the store (issue 16 item 5)."""
from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from conftest import LUREWATCH, db_rows
from test_rescan_memory import PEAK_RSS, stale_store

from crawler.campaigns.groups import assign_ids, assign_ids_by_root, components, group_roots


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


@pytest.mark.parametrize("seed", range(6))
def test_array_grouping_gives_the_groups_and_ids_of_the_set_grouping(seed):
    """The full run's union-find over int arrays (group_roots, assign_ids_by_root) against the incremental run's
    (components, assign_ids) on random graphs with old campaign ids, split and merged groups among them."""
    rng = random.Random(seed)
    size = 300
    edges = [tuple(sorted(rng.sample(range(1, size), 2))) for _ in range(rng.randrange(50, 250))]
    old = {a: rng.randrange(1, 40) for a in rng.sample(range(1, size), 150)}
    next_id = 40 + seed
    groups = components(edges)
    ids, expected_next = assign_ids(groups, old, next_id)
    expected = [0] * size
    for group, cid in zip(groups, ids):
        for a in group:
            expected[a] = cid
    old_array = np.zeros(size, dtype=np.int64)
    old_array[list(old)] = list(old.values())
    new, next_after = assign_ids_by_root(group_roots(iter(edges), size), old_array, next_id)
    assert new.tolist() == expected and next_after == expected_next
