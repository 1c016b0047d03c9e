"""crawler.store: ad identity (URL aliases, external id, content hash), history, snapshots, crawls."""
import gzip
import hashlib
import json
import sqlite3

import pytest

from crawler.store import SCHEMA_VERSION, Store, StoreError, content_hash


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "ads.db")
    yield s
    s.close()


def db_all(store, sql):
    return [tuple(r) for r in store.db.execute(sql).fetchall()]


def ad(**fields):
    base = {"url": "http://board.test/jobs/1", "source": "board.test", "spider": "test",
            "title": "Chat support", "description": "Free visa and housing", "company": "Golden Sky"}
    return {**base, **fields}


ASSESSMENT = {"score": 80, "level": "high", "flagged": True, "categories": ["destination"], "summary": "s",
              "evidence": [{"rule_id": "r1", "category": "destination", "weight": 0.5, "matched_text": "visa"}],
              "contacts": [{"kind": "telegram", "value": "@hr", "raw": "@hr", "field": "contact"}]}


def test_new_then_unchanged_then_changed(store):
    ad_id, status = store.save_ad(ad(), ASSESSMENT)
    assert status == "new"
    assert store.save_ad(ad()) == (ad_id, "unchanged")
    assert store.save_ad(ad(description="Free visa, housing and food")) == (ad_id, "changed")
    assert store.count() == 1
    [row] = store.iter_ads()
    assert row["description"] == "Free visa, housing and food"
    assert row["content_hash"] == content_hash(ad(description="Free visa, housing and food"))
    events = [h["event"] for h in store.db["ad_history"].rows_where("ad_id = ?", [ad_id], order_by="id")]
    assert events == ["new", "changed"]
    [changed] = store.db["ad_history"].rows_where("event = 'changed'")
    assert json.loads(changed["changed_fields"]) == ["description"]


def test_unchanged_bumps_last_seen_and_keeps_first_seen(store):
    ad_id, _ = store.save_ad(ad())
    store.db["ads"].update(ad_id, {"first_seen": "2020-01-01T00:00:00+00:00", "last_seen": "2020-01-01T00:00:00+00:00"})
    store.save_ad(ad(etag='"v2"'))
    row = store.db["ads"].get(ad_id)
    assert row["first_seen"] == "2020-01-01T00:00:00+00:00"
    assert row["last_seen"] > "2020-01-01T00:00:00+00:00"
    assert row["etag"] == '"v2"'


@pytest.mark.parametrize("first, second, aliases", [
    pytest.param({}, dict(url="http://board.test/jobs/1-copy"), [], id="same-text-content-hash"),
    pytest.param({}, dict(url="http://board.test/go/1", title="Edited"), ["http://board.test/jobs/1?utm_source=x"], id="known-alias"),
    pytest.param(dict(external_id="E1"), dict(url="http://board.test/x/9", external_id="E1", description="Edited"), [], id="external-id"),
    pytest.param(dict(external_id="E1"), dict(url="http://board.test/featured/1"), [], id="content-hash-one-side-without-id"),
])
def test_same_ad_reached_another_way_is_not_duplicated(store, first, second, aliases):
    first_id, _ = store.save_ad(ad(**first), aliases=["http://board.test/jobs/1?utm_source=x"])
    second_id, _ = store.save_ad(ad(**second), aliases=aliases)
    assert second_id == first_id
    assert store.count() == 1
    urls = {r["url"] for r in store.db["ad_urls"].rows_where("ad_id = ?", [first_id])}
    assert {"http://board.test/jobs/1", "http://board.test/jobs/1?utm_source=x", second["url"]} <= urls
    assert store.db["ads"].get(first_id)["url"] == "http://board.test/jobs/1"  # first canonical URL stays


@pytest.mark.parametrize("other", [
    pytest.param(dict(url="http://board.test/jobs/2", external_id="E2"), id="same text, different site ids"),
    pytest.param(dict(url="http://other.test/jobs/1", source="other.test"), id="same text, other site"),
    pytest.param(dict(url="http://board.test/jobs/3", title="Accountant"), id="different text"),
])
def test_different_ads_stay_apart(store, other):
    first_id, _ = store.save_ad(ad(external_id="E1"))
    second_id, status = store.save_ad(ad(**other))
    assert status == "new" and second_id != first_id
    assert store.count() == 2


def test_assessment_evidence_and_contacts_replaced_on_change(store):
    ad_id, _ = store.save_ad(ad(), ASSESSMENT)
    row = store.db["ads"].get(ad_id)
    assert (row["risk_score"], row["risk_level"], row["flagged"]) == (80, "high", 1)
    assert json.loads(row["categories"]) == ["destination"]
    assert store.count("evidence") == 1 and store.count("contacts") == 1
    store.save_ad(ad(description="Office job"), {**ASSESSMENT, "score": 5, "level": "none", "flagged": False,
                                                  "evidence": [], "contacts": []})
    assert store.db["ads"].get(ad_id)["flagged"] == 0
    assert store.count("evidence") == 0 and store.count("contacts") == 0


def test_snapshot_kept_for_new_and_changed_only(store):
    snap = {"url": "http://board.test/jobs/1", "status": 200, "content_type": "text/html", "body": "<html>客服</html>".encode()}
    ad_id, _ = store.save_ad(ad(), snapshot=snap)
    store.save_ad(ad(), snapshot=snap)  # unchanged: no new snapshot
    store.save_ad(ad(title="Chat support agent"), snapshot=snap)
    snaps = store.snapshots(ad_id)
    assert len(snaps) == 2
    assert snaps[0]["body"].decode() == "<html>客服</html>"


def test_one_page_body_is_stored_once_for_all_its_ads(store):
    """Issue 11: the ads of one page share its snapshot body (content-addressed by sha1)."""
    body = ("<html>" + "".join(f"<p>posting {n}: {n * 7919 % 104729:x}</p>" for n in range(150)) + "</html>").encode()
    snap = {"url": "http://board.test/list", "status": 200, "content_type": "text/html", "body": body}
    ids = [store.save_ad(ad(url=f"http://board.test/jobs/{n}", title=f"Job {n}"), snapshot=snap)[0] for n in range(150)]
    assert store.count("snapshots") == 150
    assert db_all(store, "SELECT sha1, size FROM snapshot_bodies") == [(hashlib.sha1(body).hexdigest(), len(body))]
    assert store.snapshots(ids[0])[0]["body"] == body and store.snapshots(ids[-1])[0]["body"] == body
    assert "body_gz" not in store.db["snapshots"].columns_dict


OLD_SNAPSHOTS = """
CREATE TABLE "ads" ("id" INTEGER PRIMARY KEY, "url" TEXT NOT NULL, "source" TEXT, "title" TEXT, "description" TEXT,
   "content_hash" TEXT);
CREATE TABLE "snapshots" ("id" INTEGER PRIMARY KEY, "ad_id" INTEGER, "crawl_id" INTEGER, "fetched_at" TEXT,
   "url" TEXT, "status" INTEGER, "content_type" TEXT, "body_gz" BLOB, "sha1" TEXT);
CREATE INDEX "idx_snapshots_ad_id" ON "snapshots" ("ad_id");
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def test_open_moves_snapshot_bodies_of_a_schema_1_database(tmp_path):
    """A database written by the previous version (one gzip body per snapshots row) is migrated on open."""
    path = tmp_path / "old.db"
    page, other = "<html>two ads, one page 客服</html>".encode(), b"<html>another page</html>"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SNAPSHOTS)
    for n, body in enumerate([page, page, other], start=1):
        conn.execute("INSERT INTO ads (id, url, source, title) VALUES (?, ?, 'board.test', ?)",
                     [n, f"http://board.test/jobs/{n}", f"Job {n}"])
        conn.execute("INSERT INTO snapshots (ad_id, fetched_at, url, status, content_type, body_gz, sha1)"
                     " VALUES (?, '2026-01-01T00:00:00+00:00', 'http://board.test/list', 200, 'text/html', ?, ?)",
                     [n, gzip.compress(body), hashlib.sha1(body).hexdigest()])
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        assert "body_gz" not in store.db["snapshots"].columns_dict
        assert sorted(db_all(store, "SELECT sha1, size FROM snapshot_bodies")) == sorted(
            [(hashlib.sha1(page).hexdigest(), len(page)), (hashlib.sha1(other).hexdigest(), len(other))])
        assert [[s["body"] for s in store.snapshots(n)] for n in (1, 2, 3)] == [[page], [page], [other]]
        assert db_all(store, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]  # the current schema
        store.save_ad(ad(url="http://board.test/jobs/9"), snapshot={"url": "u", "status": 200, "body": page})
        assert store.count("snapshot_bodies") == 2 and store.count("snapshots") == 4
    finally:
        store.close()
    again = Store(path)  # migrated once: opening again finds the schema current
    try:
        assert again.count("snapshots") == 4 and again.snapshots(1)[0]["body"] == page
    finally:
        again.close()


def test_crawl_rows(store):
    crawl_id = store.start_crawl("jobposting", {"urls": ["http://board.test/"]})
    store.save_ad(ad(), crawl_id=crawl_id)
    store.finish_crawl(crawl_id, status="finished", pages=3, new_ads=1, errors={"http_404": 2})
    row = store.db["crawls"].get(crawl_id)
    assert row["status"] == "finished" and row["pages"] == 3 and json.loads(row["errors"]) == {"http_404": 2}
    assert json.loads(row["args"]) == {"urls": ["http://board.test/"]}


def test_ad_without_url_is_refused(store):
    with pytest.raises(ValueError):
        store.save_ad(ad(url=""))


def test_reopen_keeps_data(tmp_path):
    path = tmp_path / "ads.db"
    s = Store(path)
    s.save_ad(ad())
    s.close()
    s = Store(path)
    assert s.count() == 1
    s.close()


@pytest.mark.parametrize("make_path", [
    pytest.param(lambda tmp: tmp / "no-such-dir" / "ads.db", id="missing-directory"),
    pytest.param(lambda tmp: (tmp / "ads.db").write_bytes(b"garbage" * 200) and tmp / "ads.db", id="not-a-database"),
])
def test_unusable_database_raises_store_error_naming_path(tmp_path, make_path):
    path = make_path(tmp_path)
    with pytest.raises(StoreError, match=str(path.parent)):
        Store(path)


def test_fts_index_follows_ads(store):
    store.save_ad(ad(title="Customer service Sihanoukville"))
    hits = store.db.execute("SELECT rowid FROM ads_fts WHERE ads_fts MATCH 'Sihanoukville'").fetchall()
    assert len(hits) == 1
    assert isinstance(store.db.conn, sqlite3.Connection)


@pytest.mark.parametrize("failing_table", ["ad_history", "evidence", "ad_urls"])
def test_save_ad_is_all_or_nothing(store, failing_table):
    """A write that fails part-way (here: a trigger refusing one table) leaves no half-stored ad behind."""
    store.db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {failing_table} BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        store.save_ad(ad(), ASSESSMENT)
    assert [store.count(t) for t in ("ads", "ad_urls", "evidence", "contacts", "ad_history")] == [0, 0, 0, 0, 0]
    store.db.execute("DROP TRIGGER refuse")
    assert store.save_ad(ad(), ASSESSMENT)[1] == "new"  # the next write is not caught in a leftover transaction


def test_unchanged_ad_is_found_only_when_its_text_is_the_same(store):
    assert store.unchanged_ad(ad()) is None  # not stored yet
    ad_id, _ = store.save_ad(ad(), ASSESSMENT)
    assert store.unchanged_ad(ad())["id"] == ad_id
    assert store.unchanged_ad(ad(url="http://board.test/jobs/1?ref=x"), aliases=["http://board.test/jobs/1"])["id"] == ad_id
    assert store.unchanged_ad(ad(description="Now with a bonus")) is None  # changed: assess again
    store.save_ad(ad(url="http://board.test/jobs/2", title="Unassessed"))
    assert store.unchanged_ad(ad(url="http://board.test/jobs/2", title="Unassessed")) is None  # never assessed
