"""Big review databases for the review bench: `lurewatch import` of realistic ads (output/benchparts/_scaledata.py),
then, past `seed` ads, copies of the imported ads made by bulk SQL through crawler.store (each copy with its own
URL, site id, first-seen day, evidence, contacts and history; the FTS and ad_categories triggers fill as for any
write). Importing a million ads takes about 25 minutes of engine time on this machine; copying takes a few.

Example: python -m output.benchparts._reviewdata review-1m.db 1000000 --seed 20000
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from ._scaledata import write_ads_jsonl

LUREWATCH = Path(sys.executable).with_name("lurewatch")
REVIEWERS = ("ana", "bob", "chen")
AD_COLUMNS = ("source", "spider", "title", "company", "location", "country", "salary_text", "salary_usd_month",
              "description", "contact", "language", "posted_at", "content_hash", "last_seen", "last_crawl_id",
              "risk_score", "risk_level", "flagged", "fraud_score", "fraud_flagged", "categories", "summary",
              "nearest_lure", "ruleset_version", "assessed_at", "campaign_id")
EVIDENCE_COLUMNS = ("rule_id", "category", "weight", "matched_text", "field", "start", "end", "explanation")


def import_seed(db: Path, n: int, work: Path) -> None:
    """`lurewatch import` of n realistic ads into db (a new database)."""
    data = write_ads_jsonl(work / f"seed-{n}.jsonl", n)
    subprocess.run([str(LUREWATCH), "import", str(data), "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    data.unlink()


def grow(db: Path, target: int, batch: int = 50_000) -> int:
    """Copy the stored ads until the database holds `target` ads; ~2% of them get a review. Returns the count."""
    from crawler.store import Store

    store = Store(db)
    try:
        conn = store.db.conn
        seed_max, seed_n = conn.execute("SELECT max(id), count(*) FROM ads").fetchone()
        total = seed_n
        copy = 0
        cols = ", ".join(f"[{c}]" for c in AD_COLUMNS)
        ev_cols = ", ".join(f"[{c}]" for c in EVIDENCE_COLUMNS)
        while total < target:
            copy += 1
            offset = copy * seed_max
            for low in range(0, seed_max, batch):
                if total >= target:
                    break
                high = min(low + batch, seed_max, low + target - total)
                with conn:
                    conn.execute(
                        f"INSERT INTO ads (id, url, external_id, first_seen, review_status, {cols}) SELECT id + :o,"
                        " url || '#copy-' || (id + :o), coalesce(external_id, id) || '-c' || (id + :o),"
                        " strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || ((id * 7919 + :k * 104729) % 400)"
                        " || ' days', '-' || (id % 86400) || ' seconds'),"
                        " CASE WHEN (id + :k) % 50 = 0 THEN 'lure' WHEN (id + :k) % 50 = 1 THEN 'not_lure'"
                        f" ELSE 'unreviewed' END, {cols} FROM ads WHERE id > :lo AND id <= :hi",
                        {"o": offset, "k": copy, "lo": low, "hi": high})
                    conn.execute(f"INSERT INTO evidence (ad_id, {ev_cols}) SELECT ad_id + :o, {ev_cols} FROM evidence"
                                 " WHERE ad_id > :lo AND ad_id <= :hi", {"o": offset, "lo": low, "hi": high})
                    conn.execute("INSERT INTO contacts (ad_id, kind, value, raw, field) SELECT ad_id + :o, kind, value,"
                                 " raw, field FROM contacts WHERE ad_id > :lo AND ad_id <= :hi",
                                 {"o": offset, "lo": low, "hi": high})
                    conn.execute("INSERT INTO ad_urls (url, ad_id, kind, first_seen) SELECT url, id, 'canonical',"
                                 " first_seen FROM ads WHERE id > :lo AND id <= :hi",
                                 {"lo": low + offset, "hi": high + offset})
                    conn.execute("INSERT INTO ad_history (ad_id, crawl_id, at, event, content_hash, changed_fields)"
                                 " SELECT id, last_crawl_id, first_seen, 'new', content_hash, '' FROM ads"
                                 " WHERE id > :lo AND id <= :hi", {"lo": low + offset, "hi": high + offset})
                    conn.execute("INSERT INTO reviews (ad_id, at, reviewer, verdict, note) SELECT id, first_seen,"
                                 " :r1 || '', review_status, '' FROM ads WHERE id > :lo AND id <= :hi"
                                 " AND review_status != 'unreviewed'",
                                 {"lo": low + offset, "hi": high + offset, "r1": REVIEWERS[copy % len(REVIEWERS)]})
                total += high - low
        return store.count()
    finally:
        store.close()


def build(db: Path, target: int, seed: int, work: Path) -> int:
    """A review database of `target` ads: `seed` imported, the rest copied."""
    import_seed(db, min(seed, target), work)
    return grow(db, target)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("ads", type=int)
    parser.add_argument("--seed", type=int, default=20_000, help="ads imported with `lurewatch import`")
    args = parser.parse_args(argv)
    if args.db.exists():
        print(f"{args.db}: grown to {grow(args.db, args.ads):,} ads")
    else:
        print(f"{args.db}: {build(args.db, args.ads, args.seed, args.db.parent):,} ads")


if __name__ == "__main__":
    main()
