"""`lurewatch review`: real Datasette in a subprocess, queried over HTTP (logged in as an analyst)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from crawler.store import Store
from output.review import ReviewError, build_metadata, check_database
from reviewapp import DEFAULT_USERS, Session, add_accounts, login, start_review_app

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


_sessions: dict[str, Session] = {}


def session(url: str) -> Session:
    """A session logged in as the analyst "ana" on the app serving `url` (one per app)."""
    origin = "/".join(url.split("/", 3)[:3])
    if origin not in _sessions:
        _sessions[origin] = login(Session(), origin, "ana", DEFAULT_USERS["ana"][1])
    return _sessions[origin]


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    return session(url).get(url, headers=headers)


def get_json(url: str):
    status, body = get(url)
    assert status == 200, f"{url}: {status} {body[:300]}"
    return json.loads(body)


@contextlib.contextmanager
def review_app(db, *args, log=None, prefix=(), users=None):
    """`lurewatch review --db DB ARGS` in a subprocess (tests/reviewapp.py); yields (base URL, process) once it
    answers. `users`: accounts to create first (default: ana and vic; {} when the database has them already)."""
    app = start_review_app(db, users, *args, log=log, prefix=prefix)
    try:
        yield app.url, app.proc
    finally:
        app.stop()


@pytest.fixture(scope="module")
def server(review_db):
    with review_app(review_db) as (base, _):
        yield f"{base}/reviewdb"


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


# The canned queries' SQL before schema 7 (evidence_with_ads then joined `evidence join ads`): the rewritten
# queries must return the same rows.
OLD_CANNED = {
    "evidence_with_ads": """select evidence.ad_id, ads.risk_score, ads.risk_level, ads.title, evidence.category,
        evidence.rule_id, evidence.matched_text, evidence.field, evidence.explanation
        from evidence join ads on ads.id = evidence.ad_id where :category = '' or evidence.category = :category
        order by ads.risk_score desc, evidence.ad_id, evidence.weight desc""",
    "unreviewed_high_risk": """select id, risk_score, risk_level, title, company, location, country, source, categories,
        summary, url, first_seen from ads where review_status = 'unreviewed' and risk_level in ('high', 'medium')
        order by risk_score desc, id""",
}


@pytest.mark.parametrize("name, params", [("evidence_with_ads", {"category": ""}),
                                          ("evidence_with_ads", {"category": "perks"}),
                                          ("unreviewed_high_risk", {})])
def test_canned_queries_return_the_rows_they_did(server, review_db, name, params):
    import sqlite3

    conn = sqlite3.connect(review_db)
    cur = conn.execute(OLD_CANNED[name], params)
    columns = [d[0] for d in cur.description]
    before = [dict(zip(columns, r)) for r in cur.fetchall()]
    conn.close()
    now = get_json(f"{server}/{name}.json?_shape=array&" + urllib.parse.urlencode(params))
    assert len(before) > 1
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731 - rows tied on every sort key may swap
    assert sorted(map(key, now)) == sorted(map(key, before))
    order = [c for c in ("risk_score", "ad_id", "id") if c in columns][:2]
    assert [[-r[order[0]], r[order[1]]] for r in now] == sorted([-r[order[0]], r[order[1]]] for r in now)


def test_categories_facet_and_filter_use_ad_categories(server):
    data = get_json(server + "/ads.json?_category=perks")
    assert data["facet_results"]["categories"]["type"] == "ad_categories"
    assert sorted(r[0] for r in data["rows"]) == sorted(
        r[0] for r in get_json(server + "/ads.json?categories__arraycontains=perks")["rows"])
    assert len(data["rows"]) == 2
    assert facet(data, "categories") == {"perks": 2, "destination": 2, "contact_channel": 1}
    toggles = {r["value"]: r["toggle_url"] for r in data["facet_results"]["categories"]["results"]}
    assert "_category=perks" not in toggles["perks"] and "_category=destination" in toggles["destination"]
    assert data["suggested_facets"] == []


def test_filtered_pages_count_facets_over_the_filtered_rows(server):
    data = get_json(server + "/ads.json?risk_level=high")
    assert facet(data, "country") == {"KH": 1, "MM": 1}
    assert facet(data, "review_status") == {"unreviewed": 1, "lure": 1}
    assert facet(data, "categories") == {"destination": 2, "perks": 1, "contact_channel": 1}
    status, page = get(server + "/ads?risk_level=high")
    assert status == 200 and "facets timed out" not in page and 'data-column="categories"' in page


def test_later_pages_and_searches_skip_the_costly_parts(server):
    first = get_json(server + "/ads.json?_size=2")
    assert first["filtered_table_rows_count"] == 4 and first["facet_results"] and first["next"]
    second = get_json(server + "/ads.json?_size=2&_next=" + urllib.parse.quote(first["next"]))
    assert len(second["rows"]) == 2 and not second["facet_results"]
    assert {r[0] for r in first["rows"]}.isdisjoint(r[0] for r in second["rows"])
    found = get_json(server + "/ads.json?_search=free")
    assert len(found["rows"]) == 3 and found["filtered_table_rows_count"] is None


def test_ranked_search_query(server):
    rows = get_json(server + "/search_ads.json?_shape=array&q=" + urllib.parse.quote("free flight"))
    assert {r["title"]: r["matched"] for r in rows} == {"CSR Sihanoukville": "[Free] [flight] to Sihanoukville, no"
                                                        " experience. Message Telegram now.",
                                                        "Data entry Myawaddy, reviewed": "Data entry, [free] [flight]"
                                                        " to Myawaddy."}
    assert [r["title"] for r in get_json(server + "/search_ads.json?_shape=array&q=accountant")] == [
        "Accountant Bangkok"]


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


# -- hardening (issue 11) ---------------------------------------------------------------------------------------
def head(url: str, headers: dict | None = None):
    sess = session(url)
    status, _ = sess.get(url, headers=headers)
    return status, sess.last_headers


@pytest.mark.parametrize("host, status", [
    ("evil.example", 400), ("evil.example:8001", 400), ("127.0.0.1.nip.io", 400), ("", 400),
    ("localhost", 200), ("LOCALHOST:1234", 200), ("127.0.0.1", 200),
])
def test_only_local_host_names_are_answered(server, host, status):
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 must not read the database."""
    got, body = get(server + "/ads.json", headers={"Host": host})
    assert got == status, body[:200]
    if status == 400:
        assert "CSR Sihanoukville" not in body and "Host not allowed" in body


def test_allow_host_adds_a_name(review_db):
    with review_app(review_db, "--allow-host", "review.lan") as (base, _):
        assert get(base + "/reviewdb/ads.json", headers={"Host": "review.lan:8001"})[0] == 200
        assert get(base + "/reviewdb/ads.json", headers={"Host": "other.lan"})[0] == 400


@pytest.mark.parametrize("path", ["/ads/1", "/ads.json", "/unreviewed_high_risk"])
def test_security_headers(server, path):
    status, headers = head(server + path)
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers.get_all("Referrer-Policy") == ["no-referrer"]


@pytest.mark.parametrize("path", ["/-/databases.json", "/-/databases", "/-/threads.json", "/-/versions.json",
                                  "/-/plugins.json", "/-/settings.json", "/-/metadata.json"])
def test_introspection_pages_are_closed(server, path):
    status, body = get(server.rsplit("/", 1)[0] + path)
    assert status == 404


@pytest.mark.parametrize("fmt", ["json", "csv", ""])
def test_database_path_is_not_disclosed_by_sql(server, review_db, fmt):
    sql = urllib.parse.quote("select file from pragma_database_list")
    status, body = get(f"{server}{'.' + fmt if fmt else ''}?sql={sql}")
    assert status == 200
    assert "reviewdb.db" in body  # the row is there, without its directory
    assert str(review_db.resolve().parent) not in body


def test_static_assets_still_served(server):
    status, body = get(server.rsplit("/", 1)[0] + "/-/static/app.css")
    assert status == 200 and body


RLO_CONTACT = "Telegram @hr_\u202egnp.exe"
RLO_URL = "http://a.example/\u2066job\u2069"


@pytest.fixture(scope="module")
def read_only_app(tmp_path_factory):
    """A database that cannot be written (a read-only file in a read-only directory), served by a process
    that cannot write it (as root: without the capability to override file permissions); its log in a file."""
    folder = Path(tempfile.mkdtemp(prefix="lurewatch-ro-"))
    db = folder / "readonly.db"
    store = Store(db)
    store.save_ad({"url": RLO_URL, "source": "a.example", "title": "Chat job \u202eabroad", "contact": RLO_CONTACT,
                   "description": "Chat job"},
                  {**assessment(60, "medium", [ev("contact.tg", "contact", "@hr_\u202egnp")]),
                   "contacts": [{"kind": "telegram", "value": "@hr_\u202egnp", "raw": "@hr_\u202egnp", "field": "contact"}]})
    store.close()
    add_accounts(db, DEFAULT_USERS)
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a file unwritable")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    log_path = tmp_path_factory.mktemp("ro-log") / "review.log"
    try:
        with open(log_path, "w") as log, review_app(db, log=log, prefix=prefix, users={}) as (base, proc):
            yield f"{base}/readonly", log_path
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


def test_read_only_database_is_served(read_only_app):
    url, _ = read_only_app
    rows = get_json(url + "/ads.json?_shape=array")
    assert [r["contact"] for r in rows] == [RLO_CONTACT]


@pytest.mark.parametrize("path, shown", [
    ("/ads/1", "Telegram @hr_&lt;U+202E&gt;gnp.exe"),
    ("/ads/1", "http://a.example/&lt;U+2066&gt;job&lt;U+2069&gt;"),
    ("/ads", "Chat job &lt;U+202E&gt;abroad"),
    ("/contacts", "&lt;U+202E&gt;"),
    ("/evidence", "@hr_&lt;U+202E&gt;gnp"),
])
def test_bidi_controls_are_visible_in_pages(read_only_app, path, shown):
    url, _ = read_only_app
    status, html = get(url + path)
    assert status == 200
    assert shown in html
    assert not any(ch in html for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("path, line", [
    ("/nosuch", "404 GET /readonly/nosuch: Table not found"),
    ("/ads/999", "404 GET /readonly/ads/999: Record not found"),
])
def test_an_error_is_one_log_line(read_only_app, path, line):
    url, log_path = read_only_app
    before = log_path.read_text()
    assert get(url + path)[0] == 404
    for _ in range(50):
        new = log_path.read_text()[len(before):]
        if new:
            break
        time.sleep(0.1)
    time.sleep(0.3)  # anything else it would print for this error
    new = log_path.read_text()[len(before):]
    assert new.splitlines() == [f"review: {line}"], new[:2000]
