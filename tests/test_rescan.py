"""`lurewatch rescan`: re-assess stored ads with the current engine, no recrawl."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.store import Store
from rules import Engine

STALE = {"score": 0, "level": "none", "flagged": False, "categories": [], "summary": "stale", "evidence": [
    {"rule_id": "old.rule", "category": "old", "weight": 1.0, "matched_text": "x", "field": "title"}]}
ADS = [
    {"url": "http://x/1", "source": "x", "title": "Customer service in Cambodia",
     "description": "Work in Sihanoukville, Cambodia. Free flight, visa, food and housing. No experience. Telegram @hr_kh"},
    {"url": "http://x/2", "source": "x", "title": "Accountant", "description": "Accounts payable, Leeds. 3 years experience."},
    {"url": "http://x/3", "source": "x", "title": "Chat support Myanmar", "description": "Myawaddy office, USDT salary"},
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "rescan.db"
    store = Store(path)
    for ad in ADS:
        store.save_ad(ad, STALE)
    store.add_review(1, "lure", reviewer="analyst")
    store.close()
    return path


def test_rescan_replaces_assessments_with_the_current_engine(db):
    engine = Engine.load()
    expected = {i + 1: engine.assess(ad).to_dict() for i, ad in enumerate(ADS)}
    result = CliRunner().invoke(cli, ["rescan", "--db", str(db)])
    assert result.exit_code == 0, result.output
    changed = sum(1 for a in expected.values() if a["level"] != "none")
    assert re.search(rf"Re-assessed 3 ads .*: {changed} changed level", result.output), result.output

    store = Store(db)
    try:
        for ad_id, a in expected.items():
            row = store.db["ads"].get(ad_id)
            assert (row["risk_score"], row["risk_level"], bool(row["flagged"])) == (a["score"], a["level"], a["flagged"])
            assert json.loads(row["categories"]) == a["categories"]
            evidence = [(r["rule_id"], r["matched_text"]) for r in store.db["evidence"].rows_where("ad_id = ?", [ad_id])]
            assert evidence == [(e["rule_id"], e["matched_text"]) for e in a["evidence"]]
        assert store.db["ads"].get(1)["review_status"] == "lure"  # analyst verdict kept
        assert store.count("ads") == 3 and store.count("ad_history") == 3  # no recrawl, no new events
    finally:
        store.close()


def test_rescan_twice_changes_nothing_the_second_time(db):
    CliRunner().invoke(cli, ["rescan", "--db", str(db)])
    result = CliRunner().invoke(cli, ["rescan", "--db", str(db)])
    assert result.exit_code == 0
    assert ": 0 changed level" in result.output


def test_rescan_missing_database(tmp_path):
    result = CliRunner().invoke(cli, ["rescan", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0 and "database not found" in result.output
    assert not (tmp_path / "none.db").exists()


RISK_COLUMNS = ("id", "risk_score", "risk_level", "flagged", "fraud_score", "fraud_flagged", "categories", "summary",
                "nearest_lure", "language", "salary_usd_month", "ruleset_version")


def test_rescan_with_two_workers_stores_the_same_verdicts_as_one(tmp_path):
    """Ads in several batches (--batch 4), one of them a confirmed lure (never its own nearest lure): the risk
    columns, evidence and contacts tables are equal, row for row, after --workers 1 and --workers 2."""
    import shutil

    from conftest import db_rows, run_cli
    from output.bench import synthetic_ads, synthetic_lures

    ads = [*ADS, *({"url": f"http://y/{i}", "source": "y", **{k: ad[k] for k in ("title", "description", "contact")}}
                   for i, ad in enumerate(synthetic_ads(20, synthetic_lures(10), target_chars=None)))]
    base = tmp_path / "base.db"
    store = Store(base)
    for ad in ads:
        store.save_ad(ad, STALE)
    store.add_review(1, "lure", reviewer="analyst")
    store.close()
    dumps = []
    for workers in ("1", "2"):
        db = tmp_path / f"workers{workers}.db"
        shutil.copy(base, db)
        proc = run_cli("rescan", "--db", str(db), "--workers", workers, "--batch", "4")
        assert proc.returncode == 0, proc.stderr
        assert f"Re-assessed {len(ads)} ads" in proc.stdout
        dumps.append((db_rows(db, f"SELECT {', '.join(RISK_COLUMNS)} FROM ads ORDER BY id"),
                      db_rows(db, "SELECT * FROM evidence ORDER BY id"), db_rows(db, "SELECT * FROM contacts ORDER BY id")))
    assert dumps[0] == dumps[1]
    risk, evidence, _ = dumps[1]
    engine = Engine.load()
    for row, ad in zip(risk[1:], ads[1:]):  # and they are the engine's verdicts (the lure aside: its own match is left out)
        assert row["risk_score"] == engine.assess(ad).score
    assert len(evidence) > len(ads)
