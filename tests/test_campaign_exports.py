"""The campaign in every export format: csv and jsonl columns, a STIX `campaign` with its relationships (valid
under stix2-validator), a MISP tag on every attribute of a campaign's ads. Real store, real linking
(crawler.campaigns.link_store), real writers; the tests read what the export wrote."""
from __future__ import annotations

import csv
import json

import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_instance

from conftest import db_rows
from crawler.campaigns import link_store
from crawler.store import Store
from output.export import export
from output.export.misp_writer import campaign_tag
from rules.engine import FLAG_SCORE, level_for


def save(store, key, score, contacts, source):
    ad = {"url": f"http://{source}/ad/{key}", "source": source, "title": f"Job {key}",
          "description": f"Ad {key}: " + " ".join(f"{key}{i}w{i * 13}" for i in range(30))}
    assessment = {"score": score, "level": level_for(score), "flagged": score >= FLAG_SCORE, "language": "en",
                  "summary": f"ad {key}", "contacts": [{"kind": k, "value": v, "raw": v, "field": "contact"}
                                                       for k, v in contacts],
                  "evidence": [{"rule_id": "perks.free_flight", "category": "perks", "weight": 0.4,
                                "matched_text": "free flight", "field": "description", "start": -1, "end": -1,
                                "explanation": "free flight"}]}
    return store.save_ad(ad, assessment)[0]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("campaign-exports") / "ads.db"
    store = Store(path)
    ids = {"a": save(store, "a", 80, [("telegram", "goldenbay_hr")], "s1.test"),
           "b": save(store, "b", 70, [("telegram", "goldenbay_hr"), ("phone", "+85512345678")], "s2.test"),
           "c": save(store, "c", 65, [("phone", "+85512345678")], "s3.test"),
           "d": save(store, "d", 75, [("line", "spadmin99")], "s1.test"),
           "e": save(store, "e", 60, [("line", "spadmin99")], "s4.test"),
           "alone": save(store, "alone", 90, [("telegram", "nobody_else")], "s5.test")}
    link_store(store)
    store.close()
    campaign = {k: db_rows(path, "select campaign_id from ads where id = ?", [v])[0]["campaign_id"]
                for k, v in ids.items()}
    assert campaign["a"] == campaign["b"] == campaign["c"] != campaign["d"] == campaign["e"]
    assert campaign["alone"] is None and campaign["a"] is not None
    return {"path": path, "ids": ids, "campaign": campaign}


def write(db, tmp_path, fmt, suffix):
    out = tmp_path / f"out.{suffix}"
    assert export(db["path"], fmt, out) == 6
    return out


def test_csv_and_jsonl_carry_the_campaign_id(db, tmp_path):
    by_id = {int(r["id"]): r for r in csv.DictReader(write(db, tmp_path, "csv", "csv").open(encoding="utf-8"))}
    lines = [json.loads(line) for line in write(db, tmp_path, "jsonl", "jsonl").read_text(encoding="utf-8").splitlines()]
    for key, ad_id in db["ids"].items():
        expected = db["campaign"][key]
        assert by_id[ad_id]["campaign_id"] == ("" if expected is None else str(expected))
        [record] = [r for r in lines if r["id"] == ad_id]
        assert record["campaign_id"] == expected
        if expected is None:
            assert record["campaign"] is None
        else:
            assert record["campaign"]["id"] == expected and record["campaign"]["ads"] in (2, 3)
            assert record["campaign"]["ref"].endswith(f":campaign:{expected}")
    [a] = [r for r in lines if r["id"] == db["ids"]["a"]]
    assert {(c["kind"], c["value"]) for c in a["campaign"]["contacts"]} == {("telegram", "goldenbay_hr"),
                                                                            ("phone", "+85512345678")}


def test_stix_has_a_campaign_with_relationships_and_validates(db, tmp_path):
    bundle = json.loads(write(db, tmp_path, "stix", "json").read_text(encoding="utf-8"))
    result = validate_instance(bundle, ValidationOptions())
    assert result.is_valid and not result.errors, [str(e) for e in result.errors]
    objects = {o["id"]: o for o in bundle["objects"]}
    campaigns = {o["name"]: o for o in objects.values() if o["type"] == "campaign"}
    first, second = db["campaign"]["a"], db["campaign"]["d"]
    assert set(campaigns) == {f"Lurewatch campaign {first}", f"Lurewatch campaign {second}"}
    big = campaigns[f"Lurewatch campaign {first}"]
    assert big["first_seen"].endswith("Z") and big["last_seen"] >= big["first_seen"] and "3 job ads" in big["description"]
    relations = [o for o in objects.values() if o["type"] == "relationship"]
    indicates = {(objects[r["source_ref"]]["name"], objects[r["target_ref"]]["name"])
                 for r in relations if r["relationship_type"] == "indicates"}
    assert indicates == {(f"Lurewatch: Job {k}", f"Lurewatch campaign {db['campaign'][k]}") for k in "abcde"}
    related = {(objects[r["source_ref"]]["name"], r["target_ref"].split("--")[0],
                objects[r["target_ref"]].get("account_login") or objects[r["target_ref"]].get("number"))
               for r in relations if r["relationship_type"] == "related-to"}
    assert related == {(f"Lurewatch campaign {first}", "user-account", "goldenbay_hr"),
                       (f"Lurewatch campaign {first}", "phone-number", "+85512345678"),
                       (f"Lurewatch campaign {second}", "user-account", "spadmin99")}
    assert all(r["created_by_ref"] == big["created_by_ref"] and r["object_marking_refs"] == big["object_marking_refs"]
               for r in relations)


def test_misp_tags_every_attribute_of_a_campaigns_ads(db, tmp_path):
    event = MISPEvent()
    event.load_file(str(write(db, tmp_path, "misp", "json")))
    assert [t.name for t in event.tags] == ["tlp:amber", 'circl:incident-classification="scam"']
    url_of = {f"http://s{n}.test/ad/{k}": k for k, n in (("a", 1), ("b", 2), ("c", 3), ("d", 1), ("e", 4), ("alone", 5))}
    checked = set()
    for obj in event.objects:
        key = next(k for u, k in url_of.items() if f"ad {db['ids'][k]}" == obj.comment)
        expected = [] if db["campaign"][key] is None else [campaign_tag(db["campaign"][key])]
        for attribute in obj.attributes:
            assert [t.name for t in attribute.tags] == expected, (key, obj.name, attribute.object_relation)
        if obj.name == "annotation":
            text = obj.attributes[0].value
            assert (f"campaign: {db['campaign'][key]}" in text) == (db["campaign"][key] is not None)
        checked.add(key)
    assert checked == set(url_of.values())
    assert campaign_tag(db["campaign"]["a"]) == f'lurewatch:campaign="{db["campaign"]["a"]}"'
