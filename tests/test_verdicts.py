"""Analyst verdicts outside the review app: Store.add_review, `lurewatch verdict`, the confirmed-lure and
negative tables (and their migration), `lurewatch eval --reviews`, and exports that never send a not_lure ad."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import datetime, timezone

import pytest

from conftest import db_rows, run_cli
from crawler.store import SCHEMA_VERSION, VERDICTS, ReviewInputError, Store
from output.export import WRITERS, Selection, export

LURE_AD = {"url": "http://x.test/1", "source": "x.test", "title": "Typist, Golden Lotus Plaza",
           "description": "Company keeps your passport. 2,000 USDT."}
OTHER_AD = {"url": "http://x.test/2", "source": "x.test", "title": "Chat agent abroad", "description": "Free flight."}


def assessment(score, hits=()):
    return {"score": score, "level": "high" if score >= 70 else "medium", "flagged": score >= 50, "categories": [],
            "summary": "", "evidence": [{"rule_id": r, "category": c, "weight": 1.0, "matched_text": r,
                                         "field": "description"} for r, c in hits]}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ads.db")
    s.save_ad(LURE_AD, assessment(90))
    s.save_ad(OTHER_AD, assessment(60))
    yield s
    s.close()


@pytest.mark.parametrize("ad_id, verdict, reviewer, message", [
    (1, "banana", "ana", "unknown verdict 'banana'"),
    (1, "LURE", "ana", "unknown verdict 'LURE'"),
    (1, "", "ana", "unknown verdict ''"),
    (99, "lure", "ana", "no ad with id 99"),
    ("1", "lure", "ana", "ad id must be a whole number"),
    (1, "lure", "  ", "needs the reviewer"),
])
def test_add_review_refuses_bad_input_and_writes_nothing(store, ad_id, verdict, reviewer, message):
    with pytest.raises(ReviewInputError, match=re.escape(message)):
        store.add_review(ad_id, verdict, reviewer)
    assert store.count("reviews") == 0 and store.count("confirmed_lures") == 0
    assert store.db["ads"].get(1)["review_status"] == "unreviewed"
    assert issubclass(ReviewInputError, ValueError) and VERDICTS == ("lure", "not_lure", "fraud", "unsure")


def test_reviews_are_appended_and_the_latest_is_the_status(store):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    ids = [store.add_review(1, "unsure", "ana", "ask a colleague"), store.add_review(1, "lure", "bo", "passport")]
    assert ids == [1, 2]
    rows = store.reviews(1)
    assert [(r["id"], r["verdict"], r["reviewer"], r["note"]) for r in rows] == [
        (1, "unsure", "ana", "ask a colleague"), (2, "lure", "bo", "passport")]
    for r in rows:
        at = datetime.fromisoformat(r["at"])
        assert at.utcoffset().total_seconds() == 0 and at >= before  # UTC
    assert store.db["ads"].get(1)["review_status"] == "lure"


def test_a_lure_verdict_adds_the_ad_to_confirmed_lures_and_not_lure_to_negatives(store):
    review = store.add_review(1, "lure", "ana")
    store.add_review(2, "not_lure", "ana")
    [lure] = store.confirmed_lures()
    assert (lure["ad_id"], lure["review_id"], lure["url"]) == (1, review, LURE_AD["url"])
    assert lure["text"] == f"{LURE_AD['title']}\n{LURE_AD['description']}"
    assert lure["added"] == store.reviews(1)[0]["at"]
    [entry] = store.known_lure_entries()
    assert (entry["ad_id"], entry["url"], entry["origin"], entry["text"]) == (1, LURE_AD["url"], "review", lure["text"])
    assert [n["ad_id"] for n in store.negatives()] == [2]
    # a later verdict withdraws the ad from the corpus; the rows stay (append-only)
    store.add_review(1, "not_lure", "bo")
    assert store.confirmed_lures() == [] and [n["ad_id"] for n in store.negatives()] == [2, 1]  # in verdict order
    assert store.count("confirmed_lures") == 1


def test_a_schema_2_database_is_migrated_with_its_earlier_verdicts(tmp_path):
    path = tmp_path / "old.db"
    s = Store(path)
    s.save_ad(LURE_AD, assessment(90))
    s.save_ad(OTHER_AD, assessment(60))
    s.close()
    conn = sqlite3.connect(path)  # as schema 2 left it: verdicts in reviews, no corpus tables
    conn.executescript("""
        DROP TABLE confirmed_lures; DROP TABLE confirmed_negatives;
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
        INSERT INTO reviews (ad_id, at, reviewer, verdict, note)
            VALUES (1, '2026-11-02T10:00:00+00:00', 'ana', 'lure', ''),
                   (2, '2026-11-03T10:00:00+00:00', 'ana', 'not_lure', '');
        UPDATE ads SET review_status = 'lure' WHERE id = 1; UPDATE ads SET review_status = 'not_lure' WHERE id = 2;
    """)
    conn.commit()
    conn.close()
    s = Store(path)
    try:
        [lure] = s.confirmed_lures()
        assert (lure["ad_id"], lure["review_id"], lure["added"]) == (1, 1, "2026-11-02T10:00:00+00:00")
        assert [n["ad_id"] for n in s.negatives()] == [2]
        assert s.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    finally:
        s.close()


# -- lurewatch verdict ----------------------------------------------------------------------------------------
def test_verdict_cli_records_a_review(store):
    proc = run_cli("verdict", "1", "lure", "--reviewer", "ana", "--note", "held passport", "--db", str(store.path))
    assert proc.returncode == 0, proc.stderr
    assert "Review #1: ad #1 is lure (by ana)." in proc.stdout
    assert db_rows(store.path, "SELECT ad_id, reviewer, verdict, note FROM reviews") == [
        {"ad_id": 1, "reviewer": "ana", "verdict": "lure", "note": "held passport"}]
    assert db_rows(store.path, "SELECT review_status FROM ads WHERE id = 1") == [{"review_status": "lure"}]
    assert [r["ad_id"] for r in db_rows(store.path, "SELECT ad_id FROM confirmed_lures")] == [1]


@pytest.mark.parametrize("args, message", [
    (["1", "banana"], "unknown verdict 'banana'"),
    (["77", "lure"], "no ad with id 77"),
    (["seven", "lure"], "ad id must be a whole number, not 'seven'"),
])
def test_verdict_cli_refuses_an_unknown_verdict_or_ad(store, args, message):
    proc = run_cli("verdict", *args, "--reviewer", "ana", "--db", str(store.path))
    assert proc.returncode != 0
    assert message in proc.stderr
    assert db_rows(store.path, "SELECT count(*) AS n FROM reviews") == [{"n": 0}]


def test_verdict_cli_needs_an_existing_database(tmp_path):
    proc = run_cli("verdict", "1", "lure", "--reviewer", "ana", "--db", str(tmp_path / "none.db"))
    assert proc.returncode != 0 and "database not found" in proc.stderr
    assert not (tmp_path / "none.db").exists()


# -- eval --reviews -------------------------------------------------------------------------------------------
# (ad hits, verdicts as (reviewer, verdict, at)): the latest verdict counts, in its ISO week
REVIEWED = [
    ([("dest.kh", "destination"), ("perks.flight", "perks")], [("lure", "2026-11-30T09:00:00+00:00")]),  # W49
    ([("dest.kh", "destination"), ("low_bar.no_exp", "low_bar")],
     [("lure", "2026-11-30T10:00:00+00:00"), ("not_lure", "2026-12-01T10:00:00+00:00")]),  # W49, latest not_lure
    ([("low_bar.no_exp", "low_bar"), ("mitigating.licence", "mitigating")],
     [("not_lure", "2026-12-08T08:00:00+00:00")]),  # W50
    ([("dest.kh", "destination"), ("fraud.pay_to_work", "fraud")], [("fraud", "2026-12-09T08:00:00+00:00")]),  # W50
    ([("low_bar.no_exp", "low_bar")], [("unsure", "2026-12-09T09:00:00+00:00")]),  # W50: hit, not decided
    ([("low_bar.no_exp", "low_bar")], []),  # not reviewed: not counted
]


@pytest.fixture
def reviewed_db(tmp_path):
    path = tmp_path / "reviewed.db"
    s = Store(path)
    try:
        for i, (hits, verdicts) in enumerate(REVIEWED, 1):
            s.save_ad({"url": f"http://r.test/{i}", "source": "r.test", "title": f"ad {i}"}, assessment(70, hits))
            for verdict, at in verdicts:
                review = s.add_review(i, verdict, "ana")
                s.db.execute("UPDATE reviews SET at = ? WHERE id = ?", [at, review])  # a known time
        s.db.conn.commit()
    finally:
        s.close()
    return path


def table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of the rich table under `title` in the printed report."""
    block = text.split(title, 1)[1]
    rows = []
    for line in block.splitlines()[1:]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
    return rows


def test_eval_reviews_prints_precision_per_rule_and_category_week_by_week(reviewed_db):
    proc = run_cli("eval", "--reviews", "--db", str(reviewed_db))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Reviewed ads in" in out and ": 5 (lure 1, not_lure 2, fraud 1, unsure 1)" in out
    rules = {(r[0], r[1]): r[2:] for r in table_rows(out, "Precision per rule, all weeks then week by week")}
    # week, rule -> category, hits, decided, confirmed, rejected, unsure, precision
    assert rules[("all", "dest.kh")] == ["destination", "3", "3", "1", "1", "0", "33.3%"]
    assert rules[("all", "low_bar.no_exp")] == ["low_bar", "3", "2", "0", "2", "1", "0.0%"]
    assert rules[("all", "mitigating.licence")] == ["mitigating", "1", "1", "1", "0", "0", "100.0%"]
    assert rules[("all", "fraud.pay_to_work")] == ["fraud", "1", "1", "1", "0", "0", "100.0%"]
    assert rules[("2026-W49", "dest.kh")] == ["destination", "2", "2", "1", "1", "0", "50.0%"]
    assert rules[("2026-W50", "dest.kh")] == ["destination", "1", "1", "0", "0", "0", "0.0%"]
    assert rules[("2026-W50", "low_bar.no_exp")] == ["low_bar", "2", "1", "0", "1", "1", "0.0%"]
    assert ("2026-W49", "mitigating.licence") not in rules
    categories = {(r[0], r[1]): r[2:] for r in table_rows(out, "Precision per category, all weeks then week by week")}
    assert categories[("all", "destination")] == ["3", "3", "1", "1", "0", "33.3%"]
    assert categories[("all", "perks")] == ["1", "1", "1", "0", "0", "100.0%"]
    assert categories[("2026-W49", "low_bar")] == ["1", "1", "0", "1", "0", "0.0%"]
    rejected = table_rows(out, "Rules whose hits analysts most often reject (not_lure)")
    assert rejected == [["low_bar.no_exp", "low_bar", "2", "2", "100.0%"],
                        ["dest.kh", "destination", "1", "3", "33.3%"]]


def test_eval_reviews_json(reviewed_db):
    proc = run_cli("eval", "--reviews", "--db", str(reviewed_db), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["reviews"]
    assert report["reviewed_ads"] == 5 and report["weeks"] == ["2026-W49", "2026-W50"]
    assert report["rules"]["all"]["dest.kh"] == {"hits": 3, "decided": 3, "confirmed": 1, "rejected": 1, "unsure": 0,
                                                 "precision": 0.3333}
    assert [r["rule_id"] for r in report["most_rejected"]] == ["low_bar.no_exp", "dest.kh"]


def test_eval_reviews_needs_db(tmp_path):
    proc = run_cli("eval", "--reviews")
    assert proc.returncode != 0 and "--reviews needs --db" in proc.stderr
    proc = run_cli("eval", "--reviews", "--db", str(tmp_path / "none.db"))
    assert proc.returncode != 0 and "database not found" in proc.stderr


# -- exports --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(WRITERS))
@pytest.mark.parametrize("selection", [Selection(), Selection(min_score=0), Selection(after_id=0)],
                         ids=["flagged", "min-score-0", "after-id"])
def test_a_not_lure_ad_is_never_exported(store, tmp_path, fmt, selection):
    store.add_review(1, "not_lure", "ana")
    store.add_review(2, "lure", "ana")
    out = tmp_path / f"out.{fmt}"
    assert export(store.path, fmt, out, selection) == 1
    text = out.read_text(encoding="utf-8")
    assert OTHER_AD["url"] in text and LURE_AD["url"] not in text
    store.add_review(1, "lure", "bo")  # the latest verdict counts: confirmed again, exported again
    assert export(store.path, fmt, out, selection) == 2


def test_export_cli_skips_not_lure_ads(store, tmp_path):
    store.add_review(1, "not_lure", "ana")
    out = tmp_path / "flagged.csv"
    proc = run_cli("export", "--db", str(store.path), "--format", "csv", "--out", str(out), "--min-score", "0")
    assert proc.returncode == 0, proc.stderr
    assert [r["url"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))] == [OTHER_AD["url"]]
