"""The ads page at scale (output/review/plugins/lurewatch_scale.py), on a small database with the threshold
lowered (LUREWATCH_REVIEW_WALK_MIN=5): a filter or search with many matches lists its riskiest rows by walking the
risk_score index instead of sorting every match; a page filtered by one facet value reads its facets from
facet_pairs, with the counts a recount gives."""
from __future__ import annotations

import os
import sqlite3
import urllib.parse

import pytest

from crawler.store import Store
from reviewapp import DEFAULT_USERS, Session, login, start_review_app

SOURCES = ("a.example", "b.example", "c.example")
CATEGORIES = ("perks", "destination", "pay", "contact")
LEVELS = ((90, "high"), (60, "medium"), (30, "low"), (5, "none"))


def assessment(i: int) -> dict:
    score, level = LEVELS[i % 4]
    categories = [c for j, c in enumerate(CATEGORIES) if (i >> j) & 1]
    return {"score": score - i % 7, "level": level, "flagged": score >= 50, "language": ("en", "th")[i % 2],
            "categories": categories, "summary": "", "evidence": [
                {"rule_id": f"r.{c}", "category": c, "weight": 1.0, "matched_text": c, "field": "title"}
                for c in categories]}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("scale") / "scaledb.db"
    store = Store(db)
    for i in range(40):
        ad_id, _ = store.save_ad({"url": f"http://x.example/{i}", "source": SOURCES[i % 3],
                                  "country": ("KH", "TH")[i % 2], "title": f"Ad {i} " + ("free flight" if i % 3 else "accountant"),
                                  "description": "free housing" if i % 5 else "office work"}, assessment(i))
        if i % 6 == 0:
            store.add_review(ad_id, "lure", reviewer="ana")
    store.close()
    previous = os.environ.get("LUREWATCH_REVIEW_WALK_MIN")
    os.environ["LUREWATCH_REVIEW_WALK_MIN"] = "5"
    try:
        running = start_review_app(db)
    finally:
        if previous is None:
            del os.environ["LUREWATCH_REVIEW_WALK_MIN"]
        else:
            os.environ["LUREWATCH_REVIEW_WALK_MIN"] = previous
    running.session = login(Session(), running.url, "ana", DEFAULT_USERS["ana"][1])
    yield running
    running.stop()


def get_json(app, query: str) -> dict:
    import json

    status, body = app.session.get(f"{app.db_url}/ads.json?{query}")
    assert status == 200, body[:300]
    return json.loads(body)


def connect(app) -> sqlite3.Connection:
    from datasette.utils import escape_fts

    conn = sqlite3.connect(app.db_path)
    conn.create_function("escape_fts", 1, escape_fts)
    return conn


MATCHES = {"_category=perks": "id in (select ad_id from ad_categories where category = 'perks')",
           "_search=free": "id in (select rowid from ads_fts where ads_fts match '\"free\"')"}


@pytest.mark.parametrize("query", list(MATCHES))
def test_many_matches_walk_the_risk_index(app, query):
    first = get_json(app, query + "&_size=4")
    second = get_json(app, query + "&_size=4&_next=" + urllib.parse.quote(first["next"]))
    conn = connect(app)
    plan = " | ".join(r[3] for r in conn.execute("explain query plan " + first["query"]["sql"],
                                                   first["query"]["params"]))
    assert "USING INDEX idx_ads_risk_score_desc" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
    expected = [r[0] for r in conn.execute(f"select id from ads where {MATCHES[query]} order by risk_score desc, id")]
    conn.close()
    assert len(expected) > 8
    assert [r[0] for r in first["rows"] + second["rows"]] == expected[:8]


def test_a_large_search_lists_its_matches_and_says_it_counts_no_facets(app):
    data = get_json(app, "_search=free")
    assert not data["facet_results"] and "facets are counted for smaller searches" in data["human_description_en"]
    status, page = app.session.get(f"{app.db_url}/ads?_search=free")
    assert status == 200 and 'value="free"' in page


def test_a_small_search_counts_its_facets(app):
    data = get_json(app, "_search=" + urllib.parse.quote('"Ad 3"'))  # fewer matches than the threshold
    conn = connect(app)
    expected = conn.execute("select id, source from ads where title like 'Ad 3 %'").fetchall()
    conn.close()
    assert [r[0] for r in data["rows"]] == [expected[0][0]]
    assert {r["value"]: r["count"] for r in data["facet_results"]["source"]["results"]} == {expected[0][1]: 1}


FACETS = ("risk_level", "country", "source", "language", "review_status")


@pytest.mark.parametrize("query, where", [
    ("risk_level=high", "risk_level = 'high'"), ("source=b.example", "source = 'b.example'"),
    ("country__exact=TH", "country = 'TH'"), ("review_status=lure", "review_status = 'lure'"),
    ("_category=perks", "id in (select ad_id from ad_categories where category = 'perks')"),
])
def test_a_page_filtered_by_one_value_has_the_recounted_facets(app, query, where):
    data = get_json(app, query)
    conn = connect(app)
    for name in FACETS:
        expected = dict(conn.execute(f"select {name}, count(*) from ads where {where} and {name} is not null"
                                     f" group by {name}"))
        assert {r["value"]: r["count"] for r in data["facet_results"][name]["results"]} == expected, name
    expected = dict(conn.execute(f"select category, count(*) from ad_categories where ad_id in (select id from ads"
                                 f" where {where}) group by category"))
    conn.close()
    assert {r["value"]: r["count"] for r in data["facet_results"]["categories"]["results"]} == expected
