"""`lurewatch review`: real Datasette in a subprocess, queried over HTTP."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from crawler.store import Store
from output.review import ReviewError, build_metadata, check_database

REPO = Path(__file__).resolve().parent.parent
LUREWATCH = Path(sys.executable).with_name("lurewatch")


def ev(rule_id, category, text, field="description", start=-1, end=-1):
    return {"rule_id": rule_id, "category": category, "weight": 1.0, "matched_text": text, "field": field,
            "start": start, "end": end, "explanation": f"{category} rule"}


def assessment(score, level, evidence):
    return {"score": score, "level": level, "flagged": score >= 50, "language": "en",
            "categories": sorted({e["category"] for e in evidence}), "summary": f"{len(evidence)} hits", "evidence": evidence}


DESC_KH = "Free flight to Sihanoukville, no experience. Message Telegram now."
ADS = [
    ({"url": "http://a.example/1", "source": "a.example", "title": "CSR Sihanoukville", "country": "KH",
      "description": DESC_KH},
     assessment(88, "high", [ev("dest.kh", "destination", "Sihanoukville", start=15, end=28),
                             ev("perks.flight", "perks", "Free flight", start=0, end=11),
                             ev("contact.tg", "contact_channel", "Telegram", start=54, end=62)])),
    ({"url": "http://a.example/2", "source": "a.example", "title": "Chat support abroad", "country": "TH",
      "description": "Chat support job, free visa and housing."},
     assessment(55, "medium", [ev("perks.visa", "perks", "free visa"), ev("dest.hidden", "destination", "abroad", "title")])),
    ({"url": "http://b.example/3", "source": "b.example", "title": "Accountant Bangkok", "country": "TH",
      "description": "Accountant, 3 years experience."},
     assessment(5, "none", [])),
    ({"url": "http://b.example/4", "source": "b.example", "title": "Data entry Myawaddy, reviewed", "country": "MM",
      "description": "Data entry, free flight to Myawaddy."},
     assessment(75, "high", [ev("dest.mm", "destination", "Myawaddy")])),
]


@pytest.fixture(scope="module")
def review_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("review") / "reviewdb.db"
    store = Store(path)
    ids = [store.save_ad(ad, a)[0] for ad, a in ADS]
    store.add_review(ids[3], "lure", reviewer="test")
    store.close()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def get_json(url: str):
    status, body = get(url)
    assert status == 200, f"{url}: {status} {body[:300]}"
    return json.loads(body)


@pytest.fixture(scope="module")
def server(review_db):
    port = free_port()
    proc = subprocess.Popen([str(LUREWATCH), "review", "--db", str(review_db), "--port", str(port)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # wait until it answers (up to ~30 s), or it died
            if proc.poll() is not None:
                pytest.fail(f"lurewatch review exited {proc.returncode}: {proc.stderr.read()}")
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("lurewatch review did not start listening")
        yield f"{base}/reviewdb"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def facet(data, name):
    return {str(r["value"]): r["count"] for r in data["facet_results"][name]["results"]}


def test_configured_facets_on_ads(server):
    data = get_json(server + "/ads.json")
    assert facet(data, "risk_level") == {"high": 2, "medium": 1, "none": 1}
    assert facet(data, "country") == {"TH": 2, "KH": 1, "MM": 1}
    assert facet(data, "source") == {"a.example": 2, "b.example": 2}
    assert facet(data, "language") == {"en": 4}
    assert facet(data, "categories") == {"destination": 3, "perks": 2, "contact_channel": 1}


def test_evidence_facets_on_category(server):
    data = get_json(server + "/evidence.json")
    assert facet(data, "category") == {"destination": 3, "perks": 2, "contact_channel": 1}


@pytest.mark.parametrize("query, titles", [
    ("Sihanoukville", ["CSR Sihanoukville"]),
    ("accountant", ["Accountant Bangkok"]),
    ("free", ["CSR Sihanoukville", "Chat support abroad", "Data entry Myawaddy, reviewed"]),
])
def test_full_text_search(server, query, titles):
    data = get_json(server + "/ads.json?_shape=objects&_search=" + urllib.parse.quote(query))
    assert sorted(r["title"] for r in data["rows"]) == sorted(titles)


def test_canned_query_unreviewed_high_risk(server):
    rows = get_json(server + "/unreviewed_high_risk.json?_shape=array")
    assert [(r["title"], r["risk_level"]) for r in rows] == [("CSR Sihanoukville", "high"), ("Chat support abroad", "medium")]


def test_canned_query_evidence_joined_to_ads(server):
    rows = get_json(server + "/evidence_with_ads.json?_shape=array&category=perks")
    assert {(r["title"], r["matched_text"]) for r in rows} == {("CSR Sihanoukville", "Free flight"),
                                                               ("Chat support abroad", "free visa")}


def test_ad_page_highlights_matched_text(server):
    status, html = get(server + "/ads/1")
    assert status == 200
    assert '<mark title="destination: dest.kh">Sihanoukville</mark>' in html
    assert '<mark title="perks: perks.flight">Free flight</mark>' in html
    assert "/reviewdb/evidence?ad_id=1&amp;category=perks" in html


def test_evidence_rows_link_to_their_ad(server):
    status, html = get(server + "/evidence?category=contact_channel")
    assert status == 200
    assert '<a href="/reviewdb/ads/1">1</a>' in html and "CSR Sihanoukville" in html
    assert "<mark>Telegram</mark>" in html


def test_missing_database_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.db"
    proc = subprocess.run([str(LUREWATCH), "review", "--db", str(missing)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert f"database not found: {missing}" in proc.stderr


def test_not_a_lurewatch_database(tmp_path):
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("create table t (x)").connection.commit()
    with pytest.raises(ReviewError, match="not a Lurewatch database"):
        check_database(other)


def test_metadata_is_keyed_by_database_name(tmp_path):
    meta = build_metadata(tmp_path / "my-crawl.db")
    assert list(meta["databases"]) == ["my-crawl"]
    assert "unreviewed_high_risk" in meta["databases"]["my-crawl"]["queries"]
    assert "/my-crawl/unreviewed_high_risk" in meta["description_html"]


def test_highlight_survives_stale_offsets():
    """Offsets from an older text (or another normalisation) fall back to finding the matched text."""
    import importlib.util

    from output.review import PLUGINS_DIR

    spec = importlib.util.spec_from_file_location("lurewatch_review", PLUGINS_DIR / "lurewatch_review.py")
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    text = "Call us. Free flight to Bavet <b>now</b>"
    assert plugin._locate(text, 0, 4, "Free flight") == (9, 20)
    assert plugin._locate(text, 24, 29, "Bavet") == (24, 29)
    assert plugin._locate(text, 0, 3, "Telegram") is None
    html = str(plugin._highlight(text, [(24, 29, "destination: x")]))
    assert '<mark title="destination: x">Bavet</mark> &lt;b&gt;now&lt;/b&gt;' in html
