"""`lurewatch export --format misp` and MISP feed deliveries: events from a real database load back with PyMISP,
their objects use MISP's own templates, tags are real taxonomy tags, the feed directory's manifest.json and
hashes.csv match its event files (as PyMISP's own feed_meta_generator computes them), ids are stable."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from pymisp import MISPEvent
from pymisp.tools import feed_meta_generator
from pytaxonomies import Taxonomies

from conftest import run_export
from output.export import get_writer, iter_ad_records, iter_records

TEMPLATES = {"url", "domain-ip", "phone-number", "telegram-account", "email", "annotation"}


def export(db: Path, out: Path, *args: str) -> MISPEvent:
    event = MISPEvent()
    event.load_file(str(run_export(db, "misp", out, *args)))
    return event


def test_cli_event_loads_back_with_the_named_templates_and_tags(export_db, tmp_path):
    event = export(export_db, tmp_path / "event.json", "--tlp", "amber+strict")
    flagged = list(iter_records(export_db))
    names = [o.name for o in event.objects]
    assert set(names) == TEMPLATES and names.count("annotation") == len(flagged) == 3
    templates = {name: MISPEvent().add_object(name=name).template_uuid for name in TEMPLATES}  # PyMISP's own
    for obj in event.objects:
        assert obj.template_uuid == templates[obj.name]
        assert obj.attributes, obj.name
    values = {(o.name, a.object_relation, a.value) for o in event.objects for a in o.attributes}
    assert ("telegram-account", "username", "hr_kh_boss") in values
    assert ("phone-number", "phone-number", "+639171234567") in values
    assert ("email", "from", "hr.asia@jobmail.example") in values
    assert ("domain-ip", "domain", "apply.example") in values
    assert ("url", "url", "http://jobs.test/ad/2") in values
    tags = [t.name for t in event.tags]
    assert tags == ["tlp:amber+strict", 'circl:incident-classification="scam"']
    taxonomies = Taxonomies()
    for tag in tags:
        taxonomies.revert_machinetag(tag)  # raises on a tag no shipped taxonomy defines
    lure = next(r for r in flagged if r["id"] == 2)
    [note] = [a.value for o in event.objects if o.name == "annotation" for a in o.attributes
              if a.object_relation == "text" and "http://jobs.test/ad/2" in a.value]
    assert f"score: {lure['risk_score']} ({lure['risk_level']})" in note and "verdict: unreviewed" in note
    for e in lure["evidence"]:
        assert json.dumps(e["matched_text"], ensure_ascii=False) in note


def test_event_ids_are_stable_across_runs(export_db, tmp_path):
    export(export_db, tmp_path / "a.json")
    export(export_db, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def alert(ad_id: int, version: int, status: str, modified: str) -> dict:
    return {"id": f"lurewatch:feed-test:ad:{ad_id}", "version": version, "status": status,
            "created": "2026-01-05T10:00:00.000Z", "modified": modified}


def test_feed_directory_manifest_and_hashes_match_the_event_files(export_db, tmp_path):
    feed, writer = tmp_path / "feed", get_writer("misp")
    records = {r["id"]: r for r in iter_ad_records(export_db, [1, 2, 4])}
    deliveries = [([{**records[1], "alert": alert(1, 1, "active", "2026-01-05T10:00:00.000Z")},
                    {**records[2], "alert": alert(2, 1, "active", "2026-01-05T10:00:00.000Z")}], "d1"),
                  ([{**records[4], "alert": alert(4, 1, "active", "2026-01-06T10:00:00.000Z")}], "d2"),
                  ([{**records[2], "alert": alert(2, 2, "revoked", "2026-01-07T10:00:00.000Z")}], "d3")]
    written = [writer.write_dir(recs, feed, delivery, tlp="green") for recs, delivery in deliveries]
    assert all(w[1:] == [feed / "manifest.json", feed / "hashes.csv"] for w in written)
    event_files = sorted(p for p in feed.glob("*.json") if p.name != "manifest.json")
    assert sorted(w[0] for w in written) == event_files and len(event_files) == 3
    manifest = json.loads((feed / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest) == sorted(p.stem for p in event_files)
    hashes = sorted((feed / "hashes.csv").read_text(encoding="utf-8").splitlines())
    # PyMISP's feed_meta_generator recomputes both from the event files: they must agree
    copy = tmp_path / "recomputed"
    shutil.copytree(feed, copy)
    (copy / "manifest.json").unlink()
    (copy / "hashes.csv").unlink()
    feed_meta_generator(copy)
    assert json.loads((copy / "manifest.json").read_text(encoding="utf-8")) == manifest
    assert sorted((copy / "hashes.csv").read_text(encoding="utf-8").splitlines()) == hashes
    for path in event_files:
        event = MISPEvent()
        event.load_file(str(path))
        assert {o.name for o in event.objects} <= TEMPLATES
        assert [t.name for t in event.tags][0] == "tlp:green"
    revoked = MISPEvent()
    revoked.load_file(str(written[2][0]))
    assert not any(a.to_ids for o in revoked.objects for a in o.attributes)
    assert "revoked" in revoked.info and "v2 (revoked)" in next(
        a.value for o in revoked.objects if o.name == "annotation" for a in o.attributes if a.object_relation == "text")


def test_redelivering_a_delivery_replaces_its_event_and_hash_lines(export_db, tmp_path):
    feed, writer = tmp_path / "feed", get_writer("misp")
    [record] = iter_ad_records(export_db, [2])
    for _ in range(2):  # a retried delivery (same delivery id) after a crash
        writer.write_dir([{**record, "alert": alert(2, 1, "active", "2026-01-05T10:00:00.000Z")}], feed, "d1")
    [event_file] = [p for p in feed.glob("*.json") if p.name != "manifest.json"]
    event = MISPEvent()
    event.load_file(str(event_file))
    lines = (feed / "hashes.csv").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(f"{h},{event.uuid}" for h in event.attributes_hashes("md5"))
    assert list(json.loads((feed / "manifest.json").read_text(encoding="utf-8"))) == [event.uuid]


def test_dumps_is_the_single_file_event(export_db, tmp_path):
    records = list(iter_records(export_db))
    out = tmp_path / "event.json"
    export(export_db, out, "--tlp", "red")
    assert json.loads(get_writer("misp").dumps(records, tlp="red")) == json.loads(out.read_text(encoding="utf-8"))
