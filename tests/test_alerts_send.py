"""`lurewatch alerts send` end to end: the real CLI in a subprocess, a real store, real webhook receivers on
127.0.0.1 that verify Standard Webhooks signatures, and partner directories read back."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alert_receivers import SECRET, Receiver
from conftest import REPO, db_rows
from crawler.store import Store

LUREWATCH = Path(sys.executable).with_name("lurewatch")

# url suffix, score, level, country, language, source
ADS = [
    ("1", 92, "high", "KH", "en", "a.test"),
    ("2", 81, "high", "MM", "zh-Hans", "b.test"),
    ("3", 60, "medium", "TH", "th", "a.test"),
    ("4", 20, "low", "PH", "en", "a.test"),  # not flagged: no partner below gets it unless asked
    ("5", 75, "high", "KH", "en", "a.test"),
]


def assessment(score: int, level: str, language: str = "en") -> dict:
    return {"score": score, "level": level, "flagged": score >= 50, "language": language, "categories": ["destination"],
            "summary": f"score {score}", "evidence": [{"rule_id": "dest.kh", "category": "destination", "weight": 1.0,
                                                        "matched_text": "Sihanoukville", "field": "description"}],
            "contacts": [{"kind": "telegram", "value": "@hr_golden", "raw": "TG @hr_golden", "field": "contact"}]}


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "alerts.db"
    store = Store(path)
    for suffix, score, level, country, lang, source in ADS:
        store.save_ad({"url": f"http://{source}/jobs/{suffix}", "source": source, "title": f"Typist {suffix}",
                       "description": "Work in Sihanoukville, free visa.", "country": country},
                      assessment(score, level, lang))
    store.close()
    return path


def ad_id(db: Path, suffix: str) -> int:
    return db_rows(db, "SELECT id FROM ads WHERE url LIKE ?", [f"%/jobs/{suffix}"])[0]["id"]


def write_partners(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partners.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def hook_partner(name: str, url: str, extra: str = "", to_extra: str = ", retries: 3, backoff: 0.05") -> str:
    return (f"  - name: {name}\n    formats: [jsonl]\n{extra}"
            f"    to: {{webhook: \"{url}\", secret_env: TEST_HOOK_SECRET{to_extra}}}\n")


def env(**extra: str) -> dict:
    return {**os.environ, "TEST_HOOK_SECRET": SECRET, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def lurewatch(*args: str, environ: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LUREWATCH), *map(str, args)], cwd=REPO, env=environ or env(), capture_output=True,
                          text=True, timeout=240)


def send(db: Path, partners: Path, *more: str, environ: dict | None = None) -> subprocess.CompletedProcess:
    return lurewatch("alerts", "send", "--db", db, "--partners", partners, *more, environ=environ)


def deliveries(db: Path, partner: str) -> list[dict]:
    return db_rows(db, "SELECT * FROM deliveries WHERE partner = ? ORDER BY id", [partner])


def dir_records(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines()]


# -- webhooks ---------------------------------------------------------------------------------------------

def test_webhook_partner_gets_signed_alerts_once_and_a_rerun_sends_nothing(tmp_path, db):
    with Receiver() as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url))
        first = send(db, partners)
        assert first.returncode == 0, first.stderr
        assert all(r["verified"] for r in hook.requests) and len(hook.requests) == 4  # the flagged ads 1, 2, 3, 5
        bodies = [r["payload"] for r in hook.requests]
        assert {b["type"] for b in bodies} == {"lurewatch.alert"}
        instance = db_rows(db, "SELECT value FROM meta WHERE key = 'instance_id'")[0]["value"]
        assert sorted(b["alert"]["alert"]["id"] for b in bodies) == sorted(
            f"lurewatch:{instance}:ad:{ad_id(db, s)}" for s in ("1", "2", "3", "5"))
        for body in bodies:
            record = body["alert"]
            assert record["alert"]["version"] == 1 and record["alert"]["status"] == "active"
            assert record["alert"]["created"].endswith("Z") and len(record["alert"]["created"]) == 24
            assert record["evidence"][0]["matched_text"] == "Sihanoukville"
            assert record["contacts"] == [{"kind": "telegram", "value": "@hr_golden", "raw": "TG @hr_golden",
                                           "field": "contact"}]
            assert "notes" not in record and "snapshots" not in record
        assert len({r["id"] for r in hook.requests}) == 4  # one webhook-id per alert
        assert [d["status"] for d in deliveries(db, "hotline")] == ["delivered"] * 4
        assert "hotline: ok, 4 of 4 delivered" in first.stdout

        again = send(db, partners)
        assert again.returncode == 0, again.stderr
        assert len(hook.requests) == 4  # nothing new: nothing sent
        assert "hotline: ok, 0 of 0 delivered" in again.stdout
        assert len(deliveries(db, "hotline")) == 4


def test_changes_are_updates_under_the_same_id_and_not_lure_revokes(tmp_path, db):
    out = tmp_path / "out"
    with Receiver() as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url)
                                  + "  - name: desk\n    formats: [jsonl, csv]\n    to: {dir: out}\n")
        assert send(db, partners).returncode == 0
        first = {a["id"]: a for a in hook.alerts()}
        store = Store(db)
        store.update_assessment(ad_id(db, "1"), assessment(97, "high"))  # score
        store.update_assessment(ad_id(db, "3"), assessment(72, "high", "th"))  # score and level
        store.mark_removed(ad_id(db, "2"), None, "gone from the board")  # take-down
        store.add_review(ad_id(db, "5"), "not_lure", "ana", "a real hotel job")  # revocation
        store.close()
        result = send(db, partners)
        assert result.returncode == 0, result.stderr
        updates = {a["id"]: a for a in hook.alerts()[4:]}
        assert len(hook.requests) == 8 and all(r["verified"] for r in hook.requests)
        assert set(updates) == set(first)  # the same four alert ids
        by_ad = {u["id"]: u for u in updates.values()}
        assert by_ad[ad_id(db, "1")]["risk_score"] == 97 and by_ad[ad_id(db, "3")]["risk_level"] == "high"
        assert by_ad[ad_id(db, "2")]["removed_at"]
        revoked = by_ad[ad_id(db, "5")]
        assert revoked["alert"]["status"] == "revoked" and revoked["review_status"] == "not_lure"
        assert revoked["title"] == "Typist 5"  # a revocation still carries the ad
        for alert_id, update in updates.items():
            assert update["alert"]["version"] == 2 and update["alert"]["created"] == first[alert_id]["alert"]["created"]
            assert update["alert"]["modified"] > first[alert_id]["alert"]["modified"]
            if update["id"] != ad_id(db, "5"):
                assert update["alert"]["status"] == "active"
        # a new verdict is a version too; then nothing more
        store = Store(db)
        store.add_review(ad_id(db, "1"), "lure", "bo")
        store.close()
        assert send(db, partners).returncode == 0
        [confirmed] = hook.alerts()[8:]
        assert (confirmed["id"], confirmed["review_status"], confirmed["alert"]["version"]) == (ad_id(db, "1"), "lure", 3)
        assert send(db, partners).returncode == 0 and len(hook.requests) == 9
    # the directory partner got the same versions, once each, as JSON Lines and CSV with the alert columns
    records = dir_records(out)
    assert sorted((r["id"], r["alert"]["version"], r["alert"]["status"]) for r in records) == sorted(
        [(ad_id(db, s), 1, "active") for s in ("1", "2", "3", "5")]
        + [(ad_id(db, s), 2, "active") for s in ("1", "2", "3")] + [(ad_id(db, "5"), 2, "revoked"),
                                                                     (ad_id(db, "1"), 3, "active")])
    rows = [row for f in sorted(out.glob("*.csv")) for row in csv.DictReader(f.open(encoding="utf-8"))]
    assert sorted((int(r["id"]), int(r["alert_version"]), r["alert_status"]) for r in rows) == sorted(
        (r["id"], r["alert"]["version"], r["alert"]["status"]) for r in records)


def test_a_retry_keeps_the_webhook_id_and_waits_for_retry_after(tmp_path, db):
    answers = {1: (500, {}), 2: (429, {"Retry-After": "1"})}
    with Receiver(lambda n, msg_id: answers.get(n, (200, {}))) as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url, "    min_score: 90\n"))
        result = send(db, partners)
        assert result.returncode == 0, result.stderr
    first, second, third = hook.requests
    assert first["id"] == second["id"] == third["id"] and all(r["verified"] for r in hook.requests)
    assert first["headers"]["webhook-signature"].startswith("v1,")
    assert third["arrived"] - second["arrived"] >= 0.9  # Retry-After: 1 was honoured
    assert "(Retry-After)" in result.stderr and "(backoff)" in result.stderr
    [row] = deliveries(db, "hotline")
    assert (row["status"], row["attempts"], row["delivery_id"]) == ("delivered", 3, first["id"])


def test_an_answer_that_is_not_http_is_retried(tmp_path, db):
    with Receiver(lambda n, msg_id: (0, {}) if n == 1 else (200, {})) as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url, "    min_score: 90\n"))
        result = send(db, partners)
        assert result.returncode == 0, result.stdout + result.stderr
    first, second = hook.requests
    assert first["id"] == second["id"] and "network error" in result.stderr
    [row] = deliveries(db, "hotline")
    assert (row["status"], row["attempts"]) == ("delivered", 2)


def test_a_410_disables_the_partner_until_it_is_enabled(tmp_path, db):
    gone = {"on": True}
    with Receiver(lambda n, msg_id: (410, {}) if gone["on"] else (200, {})) as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url))
        first = send(db, partners)
        assert first.returncode == 1 and "disabled until `lurewatch alerts enable hotline`" in first.stdout
        assert len(hook.requests) == 1  # no retry of a 410, and nothing more to that partner
        status = lurewatch("alerts", "status", "--db", db)
        assert "disabled since" in status.stdout and "410" in status.stdout
        gone["on"] = False
        skipped = send(db, partners)
        assert skipped.returncode == 0 and "disabled since" in skipped.stderr and len(hook.requests) == 1
        enabled = lurewatch("alerts", "enable", "hotline", "--db", db)
        assert enabled.returncode == 0 and "enabled" in enabled.stdout
        after = send(db, partners)
        assert after.returncode == 0, after.stderr
        assert len({r["id"] for r in hook.requests}) == 4 and len(hook.requests) == 5
    assert [d["status"] for d in deliveries(db, "hotline")] == ["gone"] + ["delivered"] * 4


def test_a_410_keeps_the_cursor_for_the_formats_not_tried_yet(tmp_path, db):
    run = {"n": 1}

    def answer(n, msg_id):
        csv_body = hook.requests[n - 1]["headers"]["content-type"].startswith("text/csv")
        return {1: (500 if csv_body else 200, {}), 2: (410, {})}.get(run["n"], (200, {}))

    with Receiver(answer) as hook:
        partners = write_partners(tmp_path, "partners:\n  - name: hotline\n    formats: [jsonl, csv]\n"
                                            f"    to: {{webhook: '{hook.url}', secret_env: TEST_HOOK_SECRET, retries: 0}}\n")
        assert send(db, partners).returncode == 1  # jsonl: all 4 delivered; csv: the first one fails
        store = Store(db)
        store.update_assessment(ad_id(db, "1"), assessment(99, "high"))  # a new version, past the others
        store.close()
        run["n"] = 2
        assert send(db, partners).returncode == 1  # jsonl's update meets 410: disabled before csv is tried
        run["n"] = 3
        assert lurewatch("alerts", "enable", "hotline", "--db", db).returncode == 0
        assert send(db, partners).returncode == 0
    assert all(r["verified"] for r in hook.requests)
    csv_bodies = [r["payload"] for r in hook.requests if r["headers"]["content-type"].startswith("text/csv")]
    assert csv_bodies and all(b.startswith("id,url,") and "alert_version" in b.splitlines()[0] for b in csv_bodies)
    csv_sent = db_rows(db, "SELECT DISTINCT ad_id FROM deliveries WHERE format = 'csv' AND status = 'delivered'")
    assert sorted(r["ad_id"] for r in csv_sent) == sorted(ad_id(db, s) for s in ("1", "2", "3", "5"))


def test_a_failed_or_unreachable_partner_does_not_block_the_others(tmp_path, db):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with Receiver(lambda n, msg_id: (500, {})) as broken, Receiver() as hook:
        partners = write_partners(tmp_path, "partners:\n"
                                  + hook_partner("unreachable", f"http://127.0.0.1:{closed}/hook", to_extra=", retries: 1, backoff: 0.01")
                                  + hook_partner("broken", broken.url, to_extra=", retries: 2, backoff: 0.01")
                                  + "  - name: desk\n    formats: [jsonl]\n    to: {dir: out}\n"
                                  + hook_partner("hotline", hook.url))
        result = send(db, partners)
        assert result.returncode == 1
        assert "2 partner(s) failed: unreachable, broken" in result.stderr
        assert len(broken.requests) == 3 and len({r["id"] for r in broken.requests}) == 1  # 1 + 2 retries, one alert
        assert len(hook.requests) == 4 and all(r["verified"] for r in hook.requests)
    assert len(dir_records(tmp_path / "out")) == 4
    assert [d["status"] for d in deliveries(db, "unreachable")] == ["failed"]
    assert "network error" in deliveries(db, "unreachable")[0]["response"]
    assert db_rows(db, "SELECT cursor FROM alert_partners WHERE name = 'broken'")[0]["cursor"] == 0


def test_a_run_killed_midway_loses_nothing_and_resends_nothing_acknowledged(tmp_path, db):
    partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", "URL", "    min_score: 0\n"))
    with Receiver(hold=3) as slow:
        partners.write_text(partners.read_text().replace("URL", slow.url))
        proc = subprocess.Popen([str(LUREWATCH), "alerts", "send", "--db", str(db), "--partners", str(partners)],
                                cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert slow.holding.wait(120), "the third alert never arrived"
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            proc.kill()
        slow.release.set()
        acknowledged = [r["id"] for r in slow.requests[:2]]
        in_flight = slow.requests[2]["id"]
        assert len(slow.requests) == 3
    assert [d["status"] for d in deliveries(db, "hotline")] == ["delivered", "delivered", "pending"]
    with Receiver() as hook:
        partners.write_text(partners.read_text().replace(slow.url, hook.url))
        result = send(db, partners)
        assert result.returncode == 0, result.stderr
        resent = [r["id"] for r in hook.requests]
    everything = acknowledged + [in_flight] + resent
    assert len(set(everything)) == len(ADS)  # nothing lost: every ad's alert arrived
    assert not set(acknowledged) & set(resent)  # nothing acknowledged was sent twice
    assert resent[0] == in_flight  # the unacknowledged one again, under the same webhook-id
    rows = deliveries(db, "hotline")
    assert [r["status"] for r in rows] == ["delivered"] * len(ADS)
    assert len({(r["alert_id"], r["version"]) for r in rows}) == len(ADS)


# -- safety: secrets and notes ------------------------------------------------------------------------------

def test_secrets_are_never_printed_or_stored(tmp_path, db):
    with Receiver(lambda n, msg_id: (500, {})) as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url + "?token=abc123",
                                                                         to_extra=", retries: 1, backoff: 0.01"))
        outputs = [send(db, partners), lurewatch("alerts", "status", "--db", db)]
    missing = send(db, partners, environ={k: v for k, v in env().items() if k != "TEST_HOOK_SECRET"})
    assert missing.returncode == 1 and "environment variable TEST_HOOK_SECRET is not set" in missing.stdout
    bad = send(db, partners, environ=env(TEST_HOOK_SECRET="not-a-secret"))
    assert "does not hold a Standard Webhooks secret" in bad.stdout and "not-a-secret" not in bad.stdout + bad.stderr
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("alerts.db*"))
    for output in [*outputs, missing, bad]:
        text = output.stdout + output.stderr
        assert SECRET not in text and SECRET.removeprefix("whsec_") not in text and "abc123" not in text
    assert SECRET.removeprefix("whsec_").encode() not in stored and b"abc123" not in stored
    assert db_rows(db, "SELECT DISTINCT target FROM deliveries") == [{"target": hook.url}]


def test_analyst_notes_go_only_to_partners_that_ask(tmp_path, db):
    store = Store(db)
    store.add_review(ad_id(db, "1"), "lure", "ana", "same recruiter as case 17")
    store.close()
    partners = write_partners(tmp_path, "partners:\n"
                              "  - name: plain\n    formats: [jsonl]\n    to: {dir: plain}\n"
                              "  - name: trusted\n    formats: [jsonl]\n    include_notes: true\n    to: {dir: trusted}\n")
    assert send(db, partners).returncode == 0
    assert "case 17" not in "".join(f.read_text() for f in (tmp_path / "plain").iterdir())
    assert all("notes" not in r for r in dir_records(tmp_path / "plain"))
    notes = {r["id"]: r["notes"] for r in dir_records(tmp_path / "trusted")}
    [note] = notes[ad_id(db, "1")]
    assert (note["reviewer"], note["verdict"], note["note"]) == ("ana", "lure", "same recruiter as case 17")
    assert notes[ad_id(db, "2")] == []


# -- filters and cursors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("filters, expected", [
    ("", {"1", "2", "3", "5"}),  # flagged
    ("    min_level: high\n", {"1", "2", "5"}),
    ("    min_level: low\n", {"1", "2", "3", "4", "5"}),
    ("    min_score: 80\n", {"1", "2"}),
    ("    countries: [kh]\n", {"1", "5"}),
    ("    languages: [zh]\n", {"2"}),
    ("    sources: [b.test]\n", {"2"}),
    ("    verdicts: [lure]\n", {"3"}),
    ("    min_score: 0\n    verdicts: [unreviewed]\n", {"1", "2", "4", "5"}),
])
def test_partner_filters(tmp_path, db, filters, expected):
    store = Store(db)
    store.add_review(ad_id(db, "3"), "lure", "ana")
    store.close()
    partners = write_partners(tmp_path, f"partners:\n  - name: desk\n    formats: [jsonl]\n{filters}    to: {{dir: out}}\n")
    result = send(db, partners)
    assert result.returncode == 0, result.stderr
    assert {r["url"].rsplit("/", 1)[1] for r in dir_records(tmp_path / "out")} == expected


def test_a_changed_filter_restarts_the_cursor_but_sends_nothing_twice(tmp_path, db):
    partners = write_partners(tmp_path, "partners:\n  - name: desk\n    formats: [jsonl]\n    min_score: 80\n"
                                        "    to: {dir: out}\n")
    assert send(db, partners).returncode == 0
    cursor = db_rows(db, "SELECT cursor FROM alert_partners")[0]["cursor"]
    assert cursor >= 2
    partners.write_text(partners.read_text().replace("min_score: 80", "min_score: 0"))
    assert send(db, partners).returncode == 0
    urls = [r["url"] for r in dir_records(tmp_path / "out")]
    assert len(urls) == len(set(urls)) == len(ADS)


def test_the_review_app_shows_deliveries_without_secrets(tmp_path, db):
    from test_review import get, get_json, review_app

    with Receiver() as hook:
        partners = write_partners(tmp_path, "partners:\n" + hook_partner("hotline", hook.url + "?token=abc123"))
        assert send(db, partners).returncode == 0
    with review_app(db) as (base, _):
        rows = get_json(f"{base}/alerts/deliveries.json?_shape=array")
        assert sorted((r["partner"], r["status"], r["format"]) for r in rows) == [("hotline", "delivered", "jsonl")] * 4
        assert {r["delivery_id"] for r in rows} == {r["id"] for r in hook.requests}
        status, html = get(f"{base}/alerts/deliveries")
        assert status == 200 and "Alert deliveries" in html
        for table in ("deliveries", "alerts", "alert_partners"):
            status, html = get(f"{base}/alerts/{table}")
            assert status == 200 and "abc123" not in html and SECRET.removeprefix("whsec_") not in html


def test_stix_and_misp_webhooks_carry_one_signed_alert_each(tmp_path, db):
    from pymisp import MISPEvent
    from stix2validator import ValidationOptions, validate_instance

    with Receiver() as hook:
        partners = write_partners(tmp_path, "partners:\n  - name: cert\n    formats: [stix, misp]\n    min_score: 80\n"
                                            f"    tlp: red\n    to: {{webhook: '{hook.url}', secret_env: TEST_HOOK_SECRET}}\n")
        result = send(db, partners)
        assert result.returncode == 0, result.stdout + result.stderr
    assert len(hook.requests) == 4 and all(r["verified"] for r in hook.requests)  # 2 ads x 2 formats
    stix = [r["payload"] for r in hook.requests if r["headers"]["content-type"].startswith("application/stix+json")]
    assert len(stix) == 2 and all(validate_instance(b, ValidationOptions()).is_valid for b in stix)
    assert all(len([o for o in b["objects"] if o["type"] == "indicator"]) == 1 for b in stix)
    misp = [r for r in hook.requests if not r["headers"]["content-type"].startswith("application/stix+json")]
    for request in misp:
        event = MISPEvent()
        event.from_dict(**request["payload"])
        assert "tlp:red" in [t.name for t in event.tags]
