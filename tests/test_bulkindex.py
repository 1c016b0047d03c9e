"""Issue 16: a large batch (Store.add_many, `lurewatch import`) keeps FTS, ad_categories, facet_counts and
contact_counts with bulk statements (crawler/bulkindex.py) and stores exactly what one ad at a time (the triggers)
stores; every count equals a recount after an import, a changed re-import and a verdict."""
from __future__ import annotations

import json
import sqlite3

import pytest

from crawler import reviewindex
from crawler.bulkindex import BULK_MIN, PAIRS_TRIGGER, SCORE_TRIGGERS, SUSPENDED, update_scores
from crawler.importer import assessing, import_file
from crawler.lureindex import engine_for_store
from crawler.store import Store
from output.benchparts._scaledata import ads as scale_ads

STAMPS = {"first_seen", "last_seen", "assessed_at", "at", "removed_at", "started_at", "finished_at"}
TABLES = ("ads", "ad_urls", "evidence", "contacts", "ad_history", "ad_categories")


def assessment(categories, contacts=(), country_level="high"):
    return {"score": 70, "level": country_level, "flagged": True, "language": "en", "categories": categories,
            "summary": "s", "evidence": [{"rule_id": f"r.{c}", "category": c, "weight": 1.0, "matched_text": c,
                                          "field": "description"} for c in categories],
            "contacts": [{"kind": k, "value": v, "raw": v, "field": "contact"} for k, v in contacts]}


def entry(n, title="Chat support", country="KH", categories=("pay",), contacts=(("phone", "+85512"),), **extra):
    ad = {"url": f"http://board.test/{n}", "source": "board.test", "spider": "test", "title": f"{title} {n}",
          "description": f"Visa and housing paid, job {n}", "company": "Acme" if n % 2 else None, "country": country,
          **extra}
    a = None if categories is None else assessment(list(categories), contacts, "high" if n % 3 else "low")
    return {"ad": ad, "assessment": a, "aliases": [f"http://board.test/j/{n}"], "snapshot": None}


ROUNDS = [
    # new ads: shared and repeated contacts, a repeated category, no country, no assessment, one ad twice
    [entry(1), entry(2, contacts=(("phone", "+85512"), ("phone", "+85512"), ("telegram", "@hr"))),
     entry(3, country=None, categories=("pay", "visa", "pay")), entry(4, categories=None), entry(5, country=7),
     entry(1), *(entry(n, categories=("perks",), contacts=(("email", f"a{n % 3}@x.test"),)) for n in range(6, 16))],
    # changed text (new categories, country, contacts), unchanged, new
    [entry(1, title="Sales", country="TH", categories=("urgency",), contacts=(("telegram", "@hr"),)),
     entry(2), entry(3, title="Sales", categories=(), contacts=()), entry(4, title="Now assessed"),
     *(entry(n, title="Host", categories=("perks", "pay")) for n in range(6, 12)), entry(16), entry(17),
     entry(18, country="LA", categories=("lodging",)), entry(18, title="Driver", country="VN")],  # new, changed at once
]


def stored(db) -> dict:
    """Every row of the ad tables (without time stamps), the non-zero counts and the FTS index's instances."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    out = {t: sorted(tuple((k, r[k]) for k in r.keys() if k not in STAMPS) for r in conn.execute(f"SELECT * FROM {t}"))
           for t in TABLES}
    out["facet_counts"] = sorted(map(tuple, conn.execute("SELECT tbl, col, value, n FROM facet_counts WHERE n > 0")))
    out["contact_counts"] = sorted(map(tuple, conn.execute("SELECT * FROM contact_counts WHERE ads > 0")))
    out["facet_pairs"] = sorted(map(tuple, conn.execute("SELECT fcol, fval, col, value, n FROM facet_pairs")))
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, ads_fts, instance)")
    out["fts"] = sorted(map(tuple, conn.execute("SELECT term, doc, col, offset FROM temp.vocab")))
    conn.close()
    return out


def recounted(db) -> None:
    """facet_counts, contact_counts and ad_categories equal a recount; the FTS index matches the ads."""
    conn = sqlite3.connect(db)
    for table, columns in reviewindex.FACET_COLUMNS.items():
        for column in columns:
            assert dict(conn.execute("SELECT value, n FROM facet_counts WHERE tbl = ? AND col = ? AND n != 0",
                                     [table, column])) == dict(conn.execute(
                f"SELECT [{column}], count(*) FROM [{table}] WHERE [{column}] IS NOT NULL GROUP BY 1")), (table, column)
    assert sorted(conn.execute("SELECT kind, value, ads FROM contact_counts WHERE ads != 0")) == sorted(conn.execute(
        "SELECT kind, value, count(DISTINCT ad_id) FROM contacts GROUP BY kind, value"))
    assert sorted(conn.execute("SELECT ad_id, category FROM ad_categories")) == sorted(
        {(ad_id, c) for ad_id, cats in conn.execute("SELECT id, categories FROM ads") for c in json.loads(cats or "[]")})
    conn.execute("INSERT INTO ads_fts (ads_fts, rank) VALUES ('integrity-check', 1)")  # raises when out of sync
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {*SUSPENDED, PAIRS_TRIGGER} <= triggers  # every trigger is back after the batch
    conn.close()


def test_a_batch_stores_what_one_ad_at_a_time_stores(tmp_path):
    one, batched = Store(tmp_path / "one.db"), Store(tmp_path / "batched.db")
    for entries in ROUNDS:
        assert len(entries) >= BULK_MIN
        singly = [one.add_many([e], crawl_id=None)[0] for e in entries]
        assert batched.add_many(entries, crawl_id=None) == singly
        assert {"new", "changed", "unchanged"} <= {status for _, status in singly} or entries is ROUNDS[0]
    one.mark_removed(1, None)
    batched.mark_removed(1, None)
    one.add_many([ROUNDS[1][0]])  # reappeared, unchanged
    batched.add_many([ROUNDS[1][0]] * BULK_MIN)
    one.close()
    batched.close()
    assert stored(tmp_path / "one.db") == stored(tmp_path / "batched.db")
    recounted(tmp_path / "batched.db")


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """Realistic ads as import rows: 120 new ones, then 40 of them changed plus 20 more."""
    rows = list(scale_ads(140, seed=3))
    changed = [{**r, "description": r["description"] + " Telegram @recruit_now, free visa."} for r in rows[:40]]
    tmp = tmp_path_factory.mktemp("bulk")
    files = []
    for name, part in (("first", rows[:120]), ("second", changed + rows[120:])):
        files.append(tmp / f"{name}.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    return tmp, files


def imported(db, files, batch: int) -> list[dict]:
    store = Store(db)
    engine = engine_for_store(store)
    results = []
    with assessing(store, engine) as pool:
        for path in files:
            results.append(import_file(store, pool, str(path), "jsonl", batch=batch).counts)
    store.close()
    return results


def test_import_in_batches_stores_what_one_ad_at_a_time_stores_and_counts_stay_exact(realistic):
    tmp, files = realistic
    batched = imported(tmp / "batched.db", files, batch=64)
    assert imported(tmp / "one.db", files, batch=1) == batched
    assert batched[1]["changed"] == 40 and batched[1]["new"] == 20
    assert stored(tmp / "one.db") == stored(tmp / "batched.db")
    recounted(tmp / "batched.db")
    store = Store(tmp / "batched.db")
    flagged = store.db.execute("SELECT id FROM ads WHERE flagged = 1 ORDER BY id").fetchall()
    store.add_review(flagged[0][0], "lure", reviewer="ana")
    store.add_review(flagged[1][0], "not_lure", reviewer="ana")
    store.close()
    recounted(tmp / "batched.db")


def test_scores_updated_in_bulk_store_what_the_triggers_store(tmp_path):
    """Campaign risk raises many ads at once (crawler/campaigns/risk.py): update_scores keeps facet_counts and
    facet_pairs in bulk, exactly as the review index's triggers do one ad at a time."""
    paths = (tmp_path / "triggers.db", tmp_path / "bulk.db")
    for path in paths:
        store = Store(path)
        store.add_many(ROUNDS[0], crawl_id=None)
        store.close()
    ids = [r[0] for r in sqlite3.connect(paths[0]).execute("SELECT id FROM ads ORDER BY id")]
    levels = ["critical", "high", None, "low", "medium"]  # raised, unchanged, cleared, ... and an unknown ad
    scores = [(90 - n, levels[n % len(levels)], n % 2, ad_id) for n, ad_id in enumerate(ids)] + [(5, "low", 0, 999)]
    assert len(scores) >= BULK_MIN
    for path, bulk in zip(paths, (False, True)):
        store = Store(path)
        if bulk:
            store.write(lambda: update_scores(store.db.conn, scores))
        else:
            store.write(lambda: store.db.conn.executemany(
                "UPDATE ads SET risk_score = ?, risk_level = ?, flagged = ? WHERE id = ?", scores))
        store.close()
    with_triggers, in_bulk = (stored(p) for p in paths)
    assert in_bulk == with_triggers
    assert any(("risk_level", "critical") == row[:2] for row in in_bulk["facet_pairs"])
    recounted(paths[1])
    conn = sqlite3.connect(paths[1])
    assert set(SCORE_TRIGGERS) <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
