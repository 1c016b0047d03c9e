"""The full linking run in bounded memory: what it holds does not grow with the store beyond a few bytes per ad.

  contacts   the holders of each shared contact value streamed from SQL in value order (one value at a time);
             each ad's contact keys written in a second pass in ad order
  text       band keys computed in chunks and spilled to a temporary table, written to campaign_bands in key
             order by SQLite's sorter; candidate pairs walked bucket by bucket from campaign_bands and spilled;
             the distinct pairs verified in chunks with their signatures read by SQLite
  links      written to ad_links in batches as found
  groups     union-find over int arrays indexed by ad id (groups.py: group_roots, assign_ids_by_root)

Writes what the in-memory run wrote (tests/test_campaigns_*.py, tests/test_rescan_memory.py).
"""
from __future__ import annotations

from itertools import combinations, groupby

import numpy as np

from .groups import assign_ids_by_root, group_roots
from .links import LINK_KINDS, MAX_BUCKET, PAIR_BUCKET, contact_pairs, is_generic
from .rows import write_campaign_rows
from .text import as_array, band_keys, jaccard

ROWS = 50_000  # rows per batch written
VERIFY = 5_000  # candidate pairs verified at a time (two 256-byte signatures each)
KIND_MARKS = ",".join("?" * len(LINK_KINDS))
SHARED_VALUES = (f"SELECT value FROM contacts WHERE kind IN ({KIND_MARKS}) GROUP BY value"
                 " HAVING count(DISTINCT ad_id) > 1")


def contact_links(run, holder_columns: str) -> None:
    """Links and generic values of every contact value shared by two or more ads, one value at a time."""
    db = run.db
    cursor = db.execute(f"SELECT c.value, {holder_columns} FROM contacts c JOIN ads a ON a.id = c.ad_id"
                        f" WHERE c.kind IN ({KIND_MARKS}) AND c.value IN ({SHARED_VALUES}) ORDER BY c.value",
                        [*LINK_KINDS, *LINK_KINDS])
    links: list[tuple] = []
    generic: list[tuple] = []
    for _, rows in groupby(cursor, key=lambda r: r[0]):
        holders, _ = run.holders_of(row[1:] for row in rows)
        for key in sorted(holders):
            h = holders[key]
            if len(h.ads) < 2:
                continue
            if is_generic(h, run.settings):
                generic.append((*key, len(h.sources), len(h.ads)))
            else:
                links.extend(contact_pairs(key, h.ads))
        if len(links) >= ROWS:
            run.write_links(links)
            links = []
    run.write_links(links)
    db.conn.executemany("INSERT INTO generic_contacts (kind, value, sources, ads) VALUES (?,?,?,?)", generic)


def write_bands(db) -> None:
    """campaign_bands afresh from the stored signatures: keys in chunks to a temporary table, then in order."""
    db.execute("DELETE FROM campaign_bands")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS campaign_band_spill (band_key INTEGER, ad_id INTEGER)")
    db.execute("DELETE FROM temp.campaign_band_spill")
    cursor = db.execute("SELECT ad_id, signature FROM campaign_ad_state WHERE signature IS NOT NULL")
    while rows := cursor.fetchmany(ROWS // 20):
        keys = band_keys(as_array([r[1] for r in rows]))
        ids = np.repeat(np.array([r[0] for r in rows], dtype=np.int64), keys.shape[1])
        db.conn.executemany("INSERT INTO temp.campaign_band_spill VALUES (?, ?)",
                            zip(keys.ravel().tolist(), ids.tolist()))
    db.execute("INSERT INTO campaign_bands (band_key, ad_id) SELECT DISTINCT band_key, ad_id"
               " FROM temp.campaign_band_spill ORDER BY band_key, ad_id")
    db.execute("DROP TABLE temp.campaign_band_spill")


def _bucket_pairs(members: list[int]):
    """Candidate pairs of one LSH bucket (ads ascending): every pair of a small bucket, a star around the first
    ad of a large one (links.PAIR_BUCKET, MAX_BUCKET)."""
    if len(members) <= PAIR_BUCKET:
        return combinations(members, 2)
    return ((members[0], b) for b in members[1:])


def text_links(run) -> None:
    """Text links: the pairs sharing a band key whose estimated Jaccard reaches the threshold, in (a, b) order."""
    db = run.db
    db.execute("CREATE TEMP TABLE IF NOT EXISTS campaign_pair_spill (a INTEGER, b INTEGER)")
    db.execute("DELETE FROM temp.campaign_pair_spill")
    pairs: list[tuple[int, int]] = []
    cursor = db.execute("SELECT band_key, ad_id FROM campaign_bands ORDER BY band_key, ad_id")
    for _, rows in groupby(cursor, key=lambda r: r[0]):
        members = []
        for _key, ad in rows:
            if len(members) > MAX_BUCKET:
                break
            members.append(ad)
        if not 2 <= len(members) <= MAX_BUCKET:
            continue
        pairs.extend(_bucket_pairs(members))
        if len(pairs) >= ROWS:
            db.conn.executemany("INSERT INTO temp.campaign_pair_spill VALUES (?, ?)", pairs)
            pairs = []
    db.conn.executemany("INSERT INTO temp.campaign_pair_spill VALUES (?, ?)", pairs)
    del pairs
    cursor = db.execute(
        "SELECT p.a, p.b, sa.signature, sb.signature FROM (SELECT DISTINCT a, b FROM temp.campaign_pair_spill) p"
        " JOIN campaign_ad_state sa ON sa.ad_id = p.a JOIN campaign_ad_state sb ON sb.ad_id = p.b ORDER BY p.a, p.b")
    threshold = run.settings.text_threshold
    while rows := cursor.fetchmany(VERIFY):
        est = jaccard(as_array([r[2] for r in rows]), as_array([r[3] for r in rows])).tolist()
        run.write_links([(r[0], r[1], "text", None, round(e, 4)) for r, e in zip(rows, est) if e >= threshold])
    db.execute("DROP TABLE temp.campaign_pair_spill")


def regroup(run) -> None:
    """Campaigns of the whole store from ad_links: ads.campaign_id, campaigns rows, meta campaign_next_id."""
    db = run.db
    size = (db.execute("SELECT max(id) FROM ads").fetchone()[0] or 0) + 1
    roots = group_roots(db.execute("SELECT ad_id, other_ad_id FROM ad_links"), size)
    old = np.zeros(size, dtype=np.int64)
    cursor = db.execute("SELECT id, campaign_id FROM ads WHERE campaign_id IS NOT NULL")
    while rows := cursor.fetchmany(ROWS):
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        old[ids] = np.array([int(r[1]) for r in rows], dtype=np.int64)
    new, next_id = assign_ids_by_root(roots, old, run.next_campaign_id())
    db.execute("INSERT OR REPLACE INTO meta VALUES ('campaign_next_id', ?)", [str(next_id)])
    changed = np.flatnonzero(new != old)
    for lo in range(0, len(changed), ROWS):
        part = changed[lo: lo + ROWS]
        db.conn.executemany("UPDATE ads SET campaign_id = ? WHERE id = ?",
                            [(c or None, a) for c, a in zip(new[part].tolist(), part.tolist())])
    campaign_ids = np.unique(new[new > 0])
    del roots, old, new, changed
    stale = [r[0] for r in db.execute("SELECT id FROM campaigns") if not _member(campaign_ids, r[0])]
    for lo in range(0, len(stale), 500):
        part = stale[lo: lo + 500]
        db.execute(f"DELETE FROM campaigns WHERE id IN ({','.join('?' * len(part))})", part)
    for lo in range(0, len(campaign_ids), 500):
        write_campaign_rows(db, campaign_ids[lo: lo + 500].tolist(), run.stamp)
    run.report.campaigns_touched = len(campaign_ids)


def _member(sorted_ids: np.ndarray, value) -> bool:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return False
    i = int(np.searchsorted(sorted_ids, value))
    return i < len(sorted_ids) and int(sorted_ids[i]) == value
