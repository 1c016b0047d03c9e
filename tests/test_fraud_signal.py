"""The fraud signal on real-style job-board fraud (issue 12, item 7): work-at-home clerical bait, pay per day or
week, identity and bank details up front, chat-only interviews, cheque printing. Ads written for these tests;
EMSCAD itself is read only by the gate at the end (skipped when ../shared or $LUREWATCH_EMSCAD is absent)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rules import Engine
from rules.calibration import Calibration
from rules.emscad import EMSCAD_DEFAULT, EMSCAD_FRAUD_LEGIT_TARGET, evaluate_emscad

LUREWATCH = Path(sys.executable).with_name("lurewatch")
ROOT = Path(__file__).resolve().parent.parent

FRAUDS = {
    "wfh-data-entry": {
        "id": "f1", "title": "Data Entry Clerk - Work From Home", "location": "Houston, TX",
        "description": "Earn $400-$600 weekly typing from the comfort of your own home. No experience needed, "
                       "full training provided and we pay weekly. Send your resume to hr.onboarding.team@gmail.com"},
    "bank-details-chat": {
        "id": "f2", "title": "Administrative Assistant (Remote)", "location": "Remote, US",
        "description": "Our company is hiring remote admin assistants. The interview will be held on Google "
                       "Hangouts. Successful applicants provide their bank account details and social security "
                       "number for direct deposit the same day."},
    "cheque-printing": {
        "id": "f3", "title": "Payroll Clerk", "location": "Dallas, TX",
        "description": "Process payroll for our clients from home. Required tools: a computer, check printing "
                       "software and MICR ink. You will print payroll checks from your home and mail them."},
    "mystery-shopper": {
        "id": "f4", "title": "Mystery Shopper", "location": "Manchester, UK",
        "description": "Be your own boss! Earn £300 per week as a mystery shopper, free to join, set your own "
                       "hours. Click here to apply."},
    # the general job-board fraud signs added for EMSCAD (each missed before: fraud score 7-22)
    "cash-jobs": {
        "id": "f5", "title": "Cash Jobs - Start Today", "location": "Phoenix, AZ",
        "description": "Work 1-2 hours per day from your phone, whenever you like. Suitable for everyone: students, "
                       "parents and retirees. Cash in hand every Friday."},
    "private-pa": {
        "id": "f6", "title": "Personal Assistant (Part Time)", "location": "Chicago, IL",
        "description": "A private individual who travels a lot seeks a personal assistant to run errands, collect "
                       "mail and keep the diary while away. $450 weekly. Send your CV to our email."},
    "vacancies-title": {
        "id": "f7", "title": "URGENT VACANCIES - Receptionist / Cleaner / Driver / Cashier",
        "location": "Birmingham, UK",
        "description": "Many positions open now at our hotel. No skills needed, anyone can apply. Email your resume "
                       "to apply."},
}

LEGIT = {
    "office-admin": {
        "id": "l1", "title": "Administrative Assistant", "company": "Harbour Foods Ltd", "location": "Leeds, UK",
        "salary": "£24,000 a year",
        "description": "Harbour Foods has supplied Yorkshire restaurants since 1987. We are looking for an "
                       "administrative assistant for our Leeds office: diary management, purchase orders and "
                       "supplier invoices. Two years of office experience required. Pension, 25 days' leave. "
                       "Apply through our careers page."},
    "hospital-data-entry": {
        "id": "l2", "title": "Data Entry Clerk", "company": "St Mary's Hospital", "location": "Boston, MA",
        "salary": "$19.50 per hour",
        "description": "Enter patient registration data into our records system at the main campus. One year of "
                       "experience with medical records required; medical, dental and 401(k)."},
    "engineer": {
        "id": "l3", "title": "Senior Backend Engineer", "company": "Northwind Analytics", "location": "London, UK",
        "description": "We're a 40-person team building forecasting tools for retailers. You'll own our Python "
                       "services. 5+ years of experience, hybrid working, private health insurance."},
    # money in the title, but by the hour or as a bonus: not the "$300 Weekly" of a scam title
    "hourly-title": {
        "id": "l4", "title": "Production Operator $16.50/hr", "company": "Midwest Plastics Inc.",
        "location": "Toledo, OH",
        "description": "Operate injection moulding machines on the day shift at our Toledo plant. Six months of "
                       "manufacturing experience and steel-toe boots required. Medical, dental, 401(k)."},
    "bonus-title": {
        "id": "l5", "title": "HVAC Service Technician - $1,500 Sign-on Bonus", "company": "Ridgeway Heating & Air",
        "location": "Raleigh, NC", "salary": "$26-$34 per hour",
        "description": "Install and service residential heating and cooling systems. EPA 608 certification and three "
                       "years in the trade required. Company van, paid holidays."},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _why(a) -> str:
    return f"fraud {a.fraud_score}, lure {a.score}: {[(e.rule_id, e.matched_text) for e in a.evidence]}"


@pytest.mark.parametrize("name", sorted(FRAUDS))
def test_job_board_fraud_is_fraud_flagged_not_a_lure(engine, name):
    a = engine.assess(FRAUDS[name])
    assert a.fraud_flagged and not a.flagged, _why(a)
    assert {"fraud", "fraud_hint"} & set(a.categories)


@pytest.mark.parametrize("name", sorted(LEGIT))
def test_ordinary_jobs_are_not_fraud_flagged(engine, name):
    a = engine.assess(LEGIT[name])
    assert not a.fraud_flagged and not a.flagged, _why(a)


def test_weak_signs_never_move_the_lure_score(engine):
    """fraud_hint evidence feeds the fraud model only: the lure score is what it would be without it."""
    cal = Calibration.load()
    assert "fraud_hint" not in cal.lure.weights and cal.fraud.weights.get("fraud_hint", 0) > 0
    ad = FRAUDS["wfh-data-entry"]
    evidence = {e.category for e in engine.assess(ad).evidence}
    assert "fraud_hint" in evidence and "fraud" not in evidence


def test_cli_assess_reports_the_fraud_signal():
    lines = "".join(json.dumps(ad) + "\n" for ad in (*FRAUDS.values(), *LEGIT.values()))
    res = subprocess.run([str(LUREWATCH), "assess", "--json"], input=lines, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    rows = {r["id"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert all(rows[ad["id"]]["fraud_flagged"] for ad in FRAUDS.values()), rows
    assert not any(rows[ad["id"]]["fraud_flagged"] for ad in LEGIT.values()), rows
    assert any(e["category"] == "fraud_hint" for e in rows["f1"]["evidence"])


@pytest.mark.slow
@pytest.mark.skipif(not EMSCAD_DEFAULT.is_file(), reason="EMSCAD (../shared or $LUREWATCH_EMSCAD) is not available")
def test_gate_emscad_fraud_signal_on_the_test_groups():
    r = evaluate_emscad(EMSCAD_DEFAULT)
    t = r.test
    assert t.fraud_on_legit.n > 150 and t.fraud_on_fraud.n > 150
    assert t.fraud_on_legit.rate <= EMSCAD_FRAUD_LEGIT_TARGET, f"{t.fraud_on_legit.hits}/{t.fraud_on_legit.n}"
    assert t.fraud_on_fraud.hits > 0  # it was 0 of 654 before fraud_hint
    assert r.lure_on_legit.hits == 0, r.flagged_legit[:5]


# Recall on the test groups at the shipped operating point (weights fitted on the train groups only, at most 0.5%
# of the legitimate train ads flagged): 31/198 when this floor was set, 11/198 before the general fraud hints.
EMSCAD_TEST_RECALL_FLOOR = 0.14


@pytest.mark.slow
@pytest.mark.skipif(not EMSCAD_DEFAULT.is_file(), reason="EMSCAD (../shared or $LUREWATCH_EMSCAD) is not available")
def test_gate_emscad_fraud_recall_floor_on_the_test_groups():
    """Only the aggregate is printed: the test groups' misses must not be read to tune on them."""
    r = evaluate_emscad(EMSCAD_DEFAULT)
    t, train = r.test, r.sides["train"]
    assert t.fraud_on_fraud.rate >= EMSCAD_TEST_RECALL_FLOOR, f"{t.fraud_on_fraud.hits}/{t.fraud_on_fraud.n}"
    assert t.fraud_on_legit.rate <= EMSCAD_FRAUD_LEGIT_TARGET, f"{t.fraud_on_legit.hits}/{t.fraud_on_legit.n}"
    assert train.fraud_on_legit.rate <= 0.005, f"{train.fraud_on_legit.hits}/{train.fraud_on_legit.n}"
    assert r.fraud_on_legit.rate <= 0.01, f"{r.fraud_on_legit.hits}/{r.fraud_on_legit.n}"  # all legit ads
