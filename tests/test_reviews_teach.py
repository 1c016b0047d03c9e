"""Verdicts teach the engine: an ad confirmed a lure (`lurewatch verdict ID lure`) joins the known-lure corpus
of its database, and a reworded copy seen later on another site is linked to it by the next crawl,
`assess --db` and `rescan` (nearest_lure names the confirmed ad's id and URL; evidence "similar to confirmed
lure #ID"). Real crawls of local sites (tests/sites/lure_copies), the real CLI in a subprocess."""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import LUREWATCH, REPO, db_rows, run_cli, serve_site
from crawler.lureindex import cache_path, engine_for_store
from crawler.store import Store

COPY = {"id": "copy-1", "title": "Typist (nights) - Golden Lotus Plaza",
        "description": "We need typists at the Golden Lotus Plaza complex by the Moei river. For safekeeping the "
                       "company holds your passport during the contract. Pay is 2,000 USDT a month, paid every week. "
                       "Our driver arranges the ticket and the border crossing. Seats are limited: message "
                       "Telegram @lotus_hr88 now."}


def crawl(site_name, db):
    site = serve_site(f"lure_copies/{site_name}")
    try:
        proc = run_cli("crawl", site.url("/"), "--db", str(db))
        assert proc.returncode == 0, proc.stderr
        return site.base_url
    finally:
        site.stop()


def similarity_evidence(db, ad_id):
    return db_rows(db, "SELECT * FROM evidence WHERE ad_id = ? AND rule_id = 'similarity.known_lure'", [ad_id])


@pytest.fixture(scope="module")
def confirmed(tmp_path_factory):
    """A crawl of the first site, then its lure confirmed through the CLI: (db, confirmed ad row)."""
    db = tmp_path_factory.mktemp("teach") / "ads.db"
    base = crawl("first", db)
    [lure] = db_rows(db, "SELECT * FROM ads WHERE url = ?", [base + "/jobs/7.html"])
    proc = run_cli("verdict", str(lure["id"]), "lure", "--reviewer", "ana", "--note", "passport held", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert f"ad #{lure['id']} is lure" in proc.stdout
    return db, lure


def test_the_next_crawl_links_a_reworded_copy_on_another_site_to_the_confirmed_lure(confirmed, tmp_path):
    db, lure = confirmed
    base = crawl("second", db)
    [copy] = db_rows(db, "SELECT * FROM ads WHERE url = ?", [base + "/jobs/311.html"])
    nearest = json.loads(copy["nearest_lure"])
    assert (nearest["ad_id"], nearest["url"]) == (lure["id"], lure["url"])
    assert nearest["similarity"] >= 0.6
    [evidence] = similarity_evidence(db, copy["id"])
    assert f"similar to confirmed lure #{lure['id']} ({lure['url']})" in evidence["explanation"]
    # the unrelated ad of the first crawl is linked to nothing
    [bookkeeper] = db_rows(db, "SELECT nearest_lure FROM ads WHERE title = 'Bookkeeper (part time)'")
    assert bookkeeper["nearest_lure"] is None


def test_assess_db_links_the_copy_and_assess_without_db_does_not(confirmed):
    db, lure = confirmed
    line = json.dumps(COPY) + "\n"
    plain = run_cli_input(["assess", "--json"], line)
    assert json.loads(plain)["nearest_lure"] is None  # the shipped corpus alone does not know it
    row = json.loads(run_cli_input(["assess", "--json", "--db", str(db)], line))
    assert (row["nearest_lure"]["ad_id"], row["nearest_lure"]["url"]) == (lure["id"], lure["url"])
    assert any(f"similar to confirmed lure #{lure['id']}" in e["explanation"] for e in row["evidence"])
    # the confirmed ad itself (same URL) is not its own nearest lure; the same text under another URL is linked
    own = {"title": lure["title"], "description": lure["description"]}
    lines = "".join(json.dumps({"id": i, **own, **extra}) + "\n" for i, extra in enumerate(
        [{"url": lure["url"]}, {"url": "http://elsewhere.test/ad/1"}]))
    same, elsewhere = [json.loads(x) for x in run_cli_input(["assess", "--json", "--db", str(db)], lines).splitlines()]
    assert same["nearest_lure"] is None
    assert elsewhere["nearest_lure"]["ad_id"] == lure["id"] and elsewhere["nearest_lure"]["similarity"] == 1.0


def run_cli_input(args, stdin):
    proc = subprocess.run([str(LUREWATCH), *args], cwd=REPO, input=stdin, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, COLUMNS="200"))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_rescan_links_a_copy_stored_before_the_verdict(tmp_path):
    db = tmp_path / "ads.db"
    first = crawl("first", db)
    second = crawl("second", db)  # the copy is stored while nothing is confirmed yet
    [copy] = db_rows(db, "SELECT * FROM ads WHERE url = ?", [second + "/jobs/311.html"])
    assert copy["nearest_lure"] is None and not similarity_evidence(db, copy["id"])
    [lure] = db_rows(db, "SELECT * FROM ads WHERE url = ?", [first + "/jobs/7.html"])
    assert run_cli("verdict", str(lure["id"]), "lure", "--reviewer", "ana", "--db", str(db)).returncode == 0

    proc = run_cli("rescan", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    [copy] = db_rows(db, "SELECT * FROM ads WHERE id = ?", [copy["id"]])
    nearest = json.loads(copy["nearest_lure"])
    assert (nearest["ad_id"], nearest["url"]) == (lure["id"], lure["url"])
    [evidence] = similarity_evidence(db, copy["id"])
    assert f"similar to confirmed lure #{lure['id']}" in evidence["explanation"]
    # the confirmed ad is not its own nearest lure (the copy is not confirmed, so it has none)
    [again] = db_rows(db, "SELECT * FROM ads WHERE id = ?", [lure["id"]])
    assert again["nearest_lure"] is None and not similarity_evidence(db, lure["id"])

    # a later verdict withdraws the lure from the corpus: the next rescan no longer links the copy to it
    assert run_cli("verdict", str(lure["id"]), "not_lure", "--reviewer", "bo", "--db", str(db)).returncode == 0
    assert run_cli("rescan", "--db", str(db)).returncode == 0
    [copy] = db_rows(db, "SELECT * FROM ads WHERE id = ?", [copy["id"]])
    assert copy["nearest_lure"] is None or "ad_id" not in json.loads(copy["nearest_lure"])
    assert not similarity_evidence(db, copy["id"])


def test_the_index_cache_follows_the_confirmed_lures(tmp_path):
    """The built index is cached beside the database, keyed by content: a new verdict is never missed."""
    db = tmp_path / "ads.db"
    store = Store(db)
    try:
        first, _ = store.save_ad({"url": "http://a.test/1", "source": "a.test", "title": "Night shift typist",
                                  "description": COPY["description"]})
        store.add_review(first, "lure", "ana")
        assert engine_for_store(store).assess(COPY).nearest_lure["ad_id"] == first
        cached = cache_path(db)
        assert cached.is_file()
        other = {"title": "Dealer trainee, Kings Roman zone", "description": re.sub(
            r"\s+", " ", """Casino dealer trainees for the Kings Roman special zone on the Laos side. Bring your
            passport, our team holds it during training. 1,800 USDT monthly. Boat crossing at night arranged.""")}
        second, _ = store.save_ad({"url": "http://b.test/9", "source": "b.test", **other})
        assert (engine_for_store(store).assess(other).nearest_lure or {}).get("ad_id") is None  # not confirmed yet
        built = cached.stat().st_mtime_ns
        store.add_review(second, "lure", "ana")
        assert engine_for_store(store).assess(other).nearest_lure["ad_id"] == second  # the cache was rebuilt
        rebuilt = cached.stat().st_mtime_ns
        assert rebuilt != built
        assert engine_for_store(store).assess(COPY).nearest_lure["ad_id"] == first
        assert cached.stat().st_mtime_ns == rebuilt  # same confirmed lures: the cache is read, not rewritten
    finally:
        store.close()
