"""`lurewatch import`: ads from other collectors (JSON Lines, CSV with JobSpy's columns) are assessed and stored
exactly as crawled ads, bad rows are reported by line and skipped, and a second import adds nothing."""
from __future__ import annotations

import json
import re

import pytest

from conftest import db_rows, run_cli, serve_site
from rules import Engine

ASSESSED = ("url", "source", "external_id", "title", "company", "location", "salary_text", "description", "contact",
            "posted_at", "content_hash", "risk_score", "risk_level", "flagged", "fraud_score", "fraud_flagged",
            "categories", "summary", "language", "salary_usd_month", "nearest_lure", "ruleset_version")
EXPORTED = ("url", "source", "external_id", "title", "company", "location", "salary_text", "description", "contact",
            "posted_at")


def by_url(db, table: str, columns: str) -> dict[str, list[tuple]]:
    """{ad url: sorted rows of `table` (evidence, contacts) without ids}."""
    out: dict[str, list[tuple]] = {}
    for row in db_rows(db, f"SELECT a.url AS ad_url, {columns} FROM {table} t JOIN ads a ON a.id = t.ad_id"):
        out.setdefault(row.pop("ad_url"), []).append(tuple(row.values()))
    return {url: sorted(rows, key=repr) for url, rows in out.items()}


def ads_by_url(db) -> dict[str, dict]:
    return {r["url"]: {k: r[k] for k in ASSESSED} for r in db_rows(db, "SELECT * FROM ads")}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The unseen board crawled once, and a JSON Lines dump of its ads with bad lines among them."""
    tmp = tmp_path_factory.mktemp("import")
    site = serve_site("unseen_board")
    try:
        db = tmp / "crawled.db"
        proc = run_cli("crawl", site.url("/"), "--db", str(db))
        assert proc.returncode == 0, proc.stderr
    finally:
        site.stop()
    ads = db_rows(db, f"SELECT {', '.join(EXPORTED)} FROM ads ORDER BY id")
    lines = [json.dumps({k: v for k, v in ad.items() if v is not None}, ensure_ascii=False) for ad in ads]
    bad = {2: "{not json", 4: json.dumps({"url": "https://x.test/1", "title": ["a list"]}),
           5: json.dumps({"title": "no url here"}), 7: json.dumps(["an", "array"]),
           9: json.dumps({"url": "javascript:alert(1)", "title": "x"}), 10: json.dumps({"url": "https://x.test/2"})}
    for lineno in sorted(bad):
        lines.insert(lineno - 1, bad[lineno])
    dump = tmp / "dump.jsonl"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return db, dump, ads, bad


def test_jsonl_import_stores_ads_as_the_crawl_did_and_reports_bad_lines(crawled, tmp_path):
    crawled_db, dump, ads, bad = crawled
    db = tmp_path / "imported.db"
    proc = run_cli("import", str(dump), "--db", str(db), "--workers", "2")  # two assess, this one writes
    assert proc.returncode == 0, proc.stderr
    reported = re.findall(rf"^{re.escape(str(dump))}:(\d+): (.+)$", proc.stderr, re.M)
    assert [int(n) for n, _ in reported] == sorted(bad), proc.stderr
    reasons = dict((int(n), why) for n, why in reported)
    assert reasons[2].startswith("invalid JSON") and "'title' must be a string" in reasons[4]
    assert reasons[5] == "no url" and "JSON object" in reasons[7] and "not an http(s) URL" in reasons[9]
    assert reasons[10] == "no title or description"
    assert f"{len(ads)} ads imported ({len(ads)} new, 0 changed, 0 unchanged)" in proc.stdout
    # identity, text, assessment, evidence and contacts: what the crawl stored for the same ads
    assert ads_by_url(db) == ads_by_url(crawled_db)
    evidence_columns = "rule_id, category, weight, matched_text, field, start, \"end\", explanation"
    assert by_url(db, "evidence", evidence_columns) == by_url(crawled_db, "evidence", evidence_columns)
    assert by_url(db, "contacts", "kind, value, raw, field") == by_url(crawled_db, "contacts", "kind, value, raw, field")
    [run] = db_rows(db, "SELECT * FROM crawls")
    assert (run["spider"], run["status"], run["new_ads"], run["items"]) == ("import", "partial", len(ads), len(ads))
    assert json.loads(run["errors"]) == {"bad_row": len(bad)}
    assert {r["spider"] for r in db_rows(db, "SELECT spider FROM ads")} == {"import"}

    again = run_cli("import", str(dump), "--db", str(db))  # the same file again adds nothing
    assert again.returncode == 0, again.stderr
    assert f"{len(ads)} ads imported (0 new, 0 changed, {len(ads)} unchanged), 0 assessed" in again.stdout
    assert len(db_rows(db, "SELECT id FROM ads")) == len(ads)
    assert len(db_rows(db, "SELECT id FROM ad_history")) == len(ads)  # one `new` event each, nothing since
    assert [r["unchanged_ads"] for r in db_rows(db, "SELECT unchanged_ads FROM crawls ORDER BY id")] == [0, len(ads)]


def test_import_into_the_crawled_database_finds_every_ad(crawled):
    crawled_db, dump, ads, _ = crawled
    before = len(db_rows(crawled_db, "SELECT id FROM ad_history"))
    proc = run_cli("import", str(dump), "--db", str(crawled_db))
    assert proc.returncode == 0, proc.stderr
    assert f"(0 new, 0 changed, {len(ads)} unchanged)" in proc.stdout
    assert len(db_rows(crawled_db, "SELECT id FROM ad_history")) == before


JOBSPY_CSV = (
    "id,site,job_url,job_url_direct,title,company,location,date_posted,job_type,interval,min_amount,max_amount,"
    "currency,emails,description\n"
    "in-101,indeed,https://www.indeed.test/viewjob?jk=101,https://apply.test/101,Chat Support Agent,\"Win, Ltd\","
    "\"Myawaddy, Myanmar\",2026-01-03,fulltime,monthly,3000.0,5000.0,USD,\"hr@win.test, jobs@win.test\","
    "\"Chat support in Myawaddy, Myanmar.\nFree visa and flight, food and housing. No experience needed.\"\n"
    "li-7,linkedin,https://www.linkedin.test/jobs/view/7,,Senior Accountant,Harbor Bank,\"Leeds, UK\",2026-01-04,"
    "fulltime,yearly,55000.0,70000.0,GBP,,Accounts payable and month-end close. 3 years experience.\n"
    "in-102,indeed,,,No URL,x,y,,,,,,,,text\n"
    "in-103,indeed,https://www.indeed.test/viewjob?jk=103,,Too,many,fields,,,,,,,,,,,,extra\n"
    "in-104,indeed,https://www.indeed.test/viewjob?jk=104,,Bad bytes \xff\xfe,x,y,,,,,,,,text\n"
    "\n"
    "in-105,indeed,https://www.indeed.test/viewjob?jk=105,,,,,,,,,,,,\n"
)


BAD_BYTE = JOBSPY_CSV.splitlines()[6].index("\xff") + 1


def test_jobspy_csv_columns_map_to_ads_and_bad_rows_name_their_line(tmp_path):
    data = tmp_path / "jobs.csv"
    data.write_bytes(JOBSPY_CSV.encode("latin-1"))
    db = tmp_path / "ads.db"
    proc = run_cli("import", str(data), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    # the first ad spans lines 2-3 (a quoted newline): the rows after it keep their own line numbers
    assert re.findall(r"jobs\.csv:(\d+): (.+)", proc.stderr) == [
        ("5", "no url"), ("6", "19 fields, the header names 15"), ("7", f"not UTF-8 text (byte {BAD_BYTE} of the line)"),
        ("9", "no title or description")], proc.stderr
    ads = {r["external_id"]: r for r in db_rows(db, "SELECT * FROM ads")}
    assert set(ads) == {"in-101", "li-7"}
    chat = ads["in-101"]
    assert (chat["url"], chat["source"], chat["company"], chat["posted_at"]) == (
        "https://www.indeed.test/viewjob?jk=101", "indeed", "Win, Ltd", "2026-01-03")
    assert chat["salary_text"] == "USD 3,000-5,000 per month"
    assert chat["contact"] == "hr@win.test, jobs@win.test"
    assert ads["li-7"]["salary_text"] == "GBP 55,000-70,000 per year"
    assert {r["url"]: r["kind"] for r in db_rows(db, "SELECT * FROM ad_urls WHERE ad_id = ?", [chat["id"]])} == {
        "https://www.indeed.test/viewjob?jk=101": "canonical", "https://apply.test/101": "alias"}
    engine = Engine.load()  # the stored verdict is the engine's on the mapped fields
    expected = engine.assess({"url": chat["url"], "title": chat["title"], "company": chat["company"],
                              "location": chat["location"], "salary": chat["salary_text"],
                              "description": chat["description"], "contact": chat["contact"]}).to_dict()
    assert (chat["risk_score"], chat["flagged"]) == (expected["score"], int(expected["flagged"]))
    assert [r["rule_id"] for r in db_rows(db, "SELECT rule_id FROM evidence WHERE ad_id = ? ORDER BY id", [chat["id"]])] \
        == [e["rule_id"] for e in expected["evidence"]]
    emails = {r["value"] for r in db_rows(db, "SELECT value FROM contacts WHERE ad_id = ? AND kind = 'email'",
                                          [chat["id"]])}
    assert emails == {"hr@win.test", "jobs@win.test"}

    again = run_cli("import", str(data), "--db", str(db), "--format", "csv")
    assert again.returncode == 0 and "(0 new, 0 changed, 2 unchanged)" in again.stdout, again.stdout + again.stderr
    assert len(db_rows(db, "SELECT id FROM ads")) == 2


def test_nothing_valid_exits_1_and_the_run_is_recorded_failed(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"title": "no url"}\nnot json\n', encoding="utf-8")
    db = tmp_path / "ads.db"
    proc = run_cli("import", str(data), "--db", str(db))
    assert proc.returncode == 1
    assert f"{data}:1: no url" in proc.stderr and f"{data}:2: invalid JSON" in proc.stderr
    assert "nothing valid to import" in proc.stderr
    [run] = db_rows(db, "SELECT spider, status, items FROM crawls")
    assert run == {"spider": "import", "status": "failed", "items": 0}
