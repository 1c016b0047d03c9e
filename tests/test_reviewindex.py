"""Schema 7 (crawler/reviewindex.py): ad_categories and facet_counts follow every write path of the store, the real
`lurewatch import` and `lurewatch rescan`; an older database is filled in when the store opens it."""
from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import run_cli
from crawler import reviewindex
from crawler.store import SCHEMA_VERSION, Store
from output.benchparts._scaledata import write_ads_jsonl


def assessment(*categories, level="high", score=80, contacts=("+855123",)):
    return {"score": score, "level": level, "flagged": score >= 50, "language": "en", "categories": list(categories),
            "evidence": [{"rule_id": f"r.{c}", "category": c, "weight": 1.0, "matched_text": c, "field": "title"}
                         for c in categories],
            "contacts": [{"kind": "phone", "value": v, "raw": v[-3:]} for v in contacts]}


def categories_in_sync(db_path) -> dict[int, list[str]]:
    """{ad id: sorted categories} after checking ad_categories is exactly every ad's JSON list."""
    conn = sqlite3.connect(db_path)
    try:
        expected = {ad_id: sorted(set(json.loads(cats or "[]")))
                    for ad_id, cats in conn.execute("SELECT id, categories FROM ads")}
        stored: dict[int, list[str]] = {ad_id: [] for ad_id in expected}
        for ad_id, category in conn.execute("SELECT ad_id, category FROM ad_categories ORDER BY ad_id, category"):
            stored.setdefault(ad_id, []).append(category)
        assert stored == expected
        return stored
    finally:
        conn.close()


def facet_counts_exact(db_path) -> None:
    """facet_counts holds, for each kept facet column, exactly the counts a GROUP BY gives; contact_counts the
    distinct ads of each contact."""
    conn = sqlite3.connect(db_path)
    try:
        kept = conn.execute("SELECT kind, value, ads FROM contact_counts WHERE ads > 0 ORDER BY 1, 2").fetchall()
        assert kept == conn.execute("SELECT kind, value, count(DISTINCT ad_id) FROM contacts GROUP BY kind, value"
                                    " ORDER BY 1, 2").fetchall()
        for table, columns in reviewindex.FACET_COLUMNS.items():
            for column in columns:
                expected = dict(conn.execute(f"SELECT [{column}], count(*) FROM [{table}] WHERE [{column}] IS NOT NULL"
                                             f" GROUP BY [{column}]"))
                kept = dict(conn.execute("SELECT value, n FROM facet_counts WHERE tbl = ? AND col = ? AND n > 0",
                                         [table, column]))
                assert kept == expected, (table, column)
        assert facet_pairs_recount(conn) == dict(
            ((f, fv, c, v), n) for f, fv, c, v, n in conn.execute("SELECT * FROM facet_pairs WHERE n > 0"))
    finally:
        conn.close()


def facet_pairs_recount(conn) -> dict[tuple, int]:
    """{(fcol, fval, col, value): ads} recounted from the ads and their categories lists."""
    counts: dict[tuple, int] = {}
    columns = reviewindex.FACET_COLUMNS["ads"]
    for row in conn.execute(f"SELECT categories, {', '.join(columns)} FROM ads"):
        try:
            categories = json.loads(row[0])
        except (TypeError, ValueError):
            categories = []
        values = [(c, v) for c, v in zip(columns, row[1:]) if v is not None]
        values += [("category", c) for c in sorted(set(categories if isinstance(categories, list) else []))
                   if isinstance(c, str)]
        for d, v in values:
            for e, w in values:
                if d != e or (d == "category" and v != w):
                    counts[(d, v, e, w)] = counts.get((d, v, e, w), 0) + 1
    return counts


def test_every_store_write_keeps_categories_and_counts(tmp_path):
    db = tmp_path / "s.db"
    store = Store(db)
    first, _ = store.save_ad({"url": "http://a/1", "source": "a", "title": "one", "country": "KH"},
                             assessment("perks", "destination", "perks"))
    second, _ = store.save_ad({"url": "http://a/2", "source": "a", "title": "two"}, assessment("pay", level="low"))
    assert categories_in_sync(db) == {first: ["destination", "perks"], second: ["pay"]}
    store.save_ad({"url": "http://a/1", "source": "a", "title": "one, changed", "country": "TH"},
                  assessment("urgency"))  # changed text: new assessment
    store.save_ad({"url": "http://a/2", "source": "a", "title": "two"}, assessment("other"))  # unchanged: kept
    assert categories_in_sync(db) == {first: ["urgency"], second: ["pay"]}
    store.update_assessment(second, assessment(level="none", score=0))  # rescan: no category left
    store.add_review(first, "lure", reviewer="ana")
    assert categories_in_sync(db) == {first: ["urgency"], second: []}
    store.db.execute("UPDATE ads SET categories = 'not json' WHERE id = ?", [first])
    assert store.db.execute("SELECT count(*) FROM ad_categories WHERE ad_id = ?", [first]).fetchone()[0] == 0
    store.db.execute("DELETE FROM evidence WHERE ad_id = ?", [second])
    store.db.execute("DELETE FROM ads WHERE id = ?", [second])
    store.db.conn.commit()
    facet_counts_exact(db)
    store.close()


def test_an_older_database_is_filled_in_on_open(tmp_path):
    db = tmp_path / "old.db"
    store = Store(db)
    ids = [store.save_ad({"url": f"http://a/{i}", "source": "a", "title": f"ad {i}", "country": c},
                         assessment(*cats))[0] for i, (c, cats) in enumerate([("KH", ["perks", "pay"]), ("TH", [])])]
    store.add_review(ids[0], "not_lure", reviewer="vic")
    for name in reviewindex.TRIGGERS:
        store.db.execute(f"DROP TRIGGER {name}")
    store.db.execute("DROP TABLE ad_categories")
    store.db.execute("DROP TABLE facet_counts")
    store.db.execute("DROP TABLE facet_pairs")
    store.db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    store.db.conn.commit()
    store.close()
    Store(db).close()
    assert categories_in_sync(db) == {ids[0]: ["pay", "perks"], ids[1]: []}
    facet_counts_exact(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    conn.close()


def test_retired_pair_triggers_are_replaced_on_open(tmp_path):
    """A database made before the facet_pairs decrement joined on the whole key still has its triggers under the
    retired names: opening it drops them (else each update would be counted twice) and the counts stay exact."""
    db = tmp_path / "retired.db"
    store = Store(db)
    ids = [store.save_ad({"url": f"http://a/{i}", "source": "a", "title": f"ad {i}", "country": c},
                         assessment(*cats))[0] for i, (c, cats) in enumerate([("KH", ["perks", "pay"]), ("TH", ["pay"])])]
    bodies = dict(store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    for old, new in zip(reviewindex.RETIRED_TRIGGERS, ("ads_pairs_delete", "ads_pairs_update")):
        store.db.execute(f"DROP TRIGGER {new}")
        store.db.execute(bodies[new].replace(new, old, 1))
    store.db.conn.commit()
    store.close()
    store = Store(db)
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert not names & set(reviewindex.RETIRED_TRIGGERS) and {"ads_pairs_delete", "ads_pairs_update"} <= names
    store.update_assessment(ids[0], assessment("urgency", level="low", score=20))
    store.db.execute("UPDATE ads SET country = 'LA' WHERE id = ?", [ids[1]])
    store.db.execute("DELETE FROM evidence WHERE ad_id = ?", [ids[1]])
    store.db.execute("DELETE FROM ads WHERE id = ?", [ids[1]])
    store.db.conn.commit()
    store.close()
    facet_counts_exact(db)


def test_import_and_rescan_keep_categories(tmp_path):
    data = write_ads_jsonl(tmp_path / "ads.jsonl", 40)
    db = tmp_path / "imported.db"
    proc = run_cli("import", str(data), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    imported = categories_in_sync(db)
    assert sum(map(len, imported.values())) > 10  # the realistic ads do carry categories
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE ads SET categories = '[\"stale\"]'")
    conn.close()
    assert set(sum(categories_in_sync(db).values(), [])) == {"stale"}
    proc = run_cli("rescan", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert categories_in_sync(db) == imported
    facet_counts_exact(db)


@pytest.mark.parametrize("table, columns", reviewindex.INDEXES)
def test_review_indexes_exist(tmp_path_factory, table, columns):
    db = tmp_path_factory.getbasetemp() / "indexes.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                                        [table])}
    conn.close()
    assert reviewindex.index_name(table, columns) in names


OLD_SHARED_CONTACTS = """select kind, value, count(distinct ad_id) as ads, group_concat(distinct ad_id) as ad_ids
    from contacts group by kind, value having count(distinct ad_id) > 1 order by ads desc, kind, value"""


def test_shared_contacts_query_returns_the_rows_it_did(tmp_path):
    from output.review import build_metadata

    db = tmp_path / "contacts.db"
    store = Store(db)
    phones = [("+1", "+2"), ("+1", "+1", "+3"), ("+2", "+1"), ("+4",), ("+3",)]
    ids = [store.save_ad({"url": f"http://a/{i}", "source": "a", "title": f"ad {i}"}, assessment("pay", contacts=p))[0]
           for i, p in enumerate(phones)]
    store.update_assessment(ids[2], assessment("pay", contacts=("+2", "+5")))  # +1 leaves ad 2
    store.close()
    sql = build_metadata(db)["databases"]["contacts"]["queries"]["shared_contacts"]["sql"]
    conn = sqlite3.connect(db)
    assert conn.execute(sql).fetchall() == conn.execute(OLD_SHARED_CONTACTS).fetchall() == [
        ("phone", "+1", 2, f"{ids[0]},{ids[1]}"), ("phone", "+2", 2, f"{ids[0]},{ids[2]}"),
        ("phone", "+3", 2, f"{ids[1]},{ids[4]}")]
    conn.close()
    facet_counts_exact(db)
