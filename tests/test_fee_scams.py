"""A fee scam (the recruit pays for a visa, kit, registration, training or medical to get the job) is fraud, not
a trafficking lure, unless a trafficking marker is present too (issue 12, item 7)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rules import Engine

LUREWATCH = Path(sys.executable).with_name("lurewatch")

# Fee scams written for these tests: free visa, flight and housing are the bait, the fee is the scam.
FEE_SCAMS = {
    "poland-warehouse": {
        "id": "fee-pl", "title": "POLAND WAREHOUSE JOBS - Free Visa & Flight Ticket",
        "company": "EuroLink Manpower Services", "location": "Warsaw, Poland", "salary": "EUR 1,800 per month",
        "description": "Urgent! 120 warehouse packers needed in Poland. No experience needed, age 20-45.\n"
                       "Benefits: FREE visa, FREE air ticket, FREE hostel accommodation and meals.\n"
                       "To book your slot, pay a registration fee of NGN 150,000 into our company account. "
                       "Your work permit and flight date follow within 10 days of payment. Only 30 slots left.",
        "contact": "WhatsApp +234 803 555 0199"},
    "canada-farm": {
        "id": "fee-ca", "title": "Canada Farm Workers Wanted - Visa Sponsorship, Free Flight",
        "company": "Maple Harvest Recruiters", "location": "Manitoba, Canada", "salary": "CAD 19/hour",
        "description": "Fruit pickers and greenhouse helpers, no experience and no IELTS required. The employer "
                       "gives free accommodation, free visa and a free air ticket. Send your passport copy on "
                       "WhatsApp, then pay the LMIA processing fee of KSh 42,000 to our Paybill to secure your "
                       "job offer letter. Hurry, slots are limited.",
        "contact": "WhatsApp 0712 555 880"},
    "uk-care": {
        "id": "fee-uk", "title": "UK Care Assistants - Certificate of Sponsorship + Free Flight",
        "company": "Crown Healthcare Placements", "location": "Birmingham, United Kingdom",
        "salary": "GBP 11.50/hour",
        "description": "Care assistants needed in UK care homes, age 21-40. No experience needed, free training, free "
                       "flight ticket and free accommodation for 3 months. Pay the medical fee and the "
                       "certificate of sponsorship fee of USD 1,200 before the interview. Only 15 slots left, "
                       "travel within three weeks.",
        "contact": "crown.placements.uk@gmail.com, WhatsApp +263 77 555 0123"},
}

# The same offers with one trafficking marker added: these stay trafficking lures.
MARKERS = {
    "compound-town": {"location": "Sihanoukville, Cambodia"},
    "tourist-visa": {"description_add": " You travel on a tourist visa; the company sorts out the work "
                                        "permit after you arrive."},
    "passport-held": {"description_add": " The company keeps your passport for safekeeping during the contract."},
}


def with_marker(ad: dict, marker: dict) -> dict:
    out = dict(ad)
    if "location" in marker:
        out["location"] = marker["location"]
        out["title"] = out["title"].replace("POLAND", "CAMBODIA").replace("Canada", "Cambodia").replace("UK", "Cambodia")
    if "description_add" in marker:
        out["description"] = out["description"] + marker["description_add"]
    return out


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _summary(a) -> str:
    return f"score {a.score}, fraud {a.fraud_score}: {[(e.rule_id, e.matched_text) for e in a.evidence]}"


@pytest.mark.parametrize("name", sorted(FEE_SCAMS))
def test_fee_scam_is_fraud_not_a_lure(engine, name):
    a = engine.assess(FEE_SCAMS[name])
    assert not a.flagged and a.score < engine.threshold, _summary(a)
    assert a.fraud_flagged, _summary(a)
    assert {"fees", "fraud"} & set(a.categories)  # the fee is in the evidence an analyst sees


@pytest.mark.parametrize("marker", sorted(MARKERS))
@pytest.mark.parametrize("name", sorted(FEE_SCAMS))
def test_fee_scam_with_a_trafficking_marker_stays_a_lure(engine, name, marker):
    a = engine.assess(with_marker(FEE_SCAMS[name], MARKERS[marker]))
    assert a.flagged, _summary(a)


def test_cli_assess_keeps_fee_scams_and_lures_apart():
    ads = [FEE_SCAMS["poland-warehouse"], dict(with_marker(FEE_SCAMS["poland-warehouse"], MARKERS["compound-town"]),
                                               id="fee-pl-kh")]
    res = subprocess.run([str(LUREWATCH), "assess", "--json"], input="".join(json.dumps(ad) + "\n" for ad in ads),
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    rows = {r["id"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert not rows["fee-pl"]["flagged"] and rows["fee-pl"]["fraud_flagged"], rows["fee-pl"]["summary"]
    assert rows["fee-pl-kh"]["flagged"], rows["fee-pl-kh"]["summary"]
