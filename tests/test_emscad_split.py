"""EMSCAD's template-grouped train/test split (rules/emscad.py) on small written CSVs, and on the real file when
../shared (or $LUREWATCH_EMSCAD) has it."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from rules.emscad import EMSCAD_DEFAULT, TEST_SHARE, EmscadError, load_emscad, template_groups

LUREWATCH = Path(sys.executable).with_name("lurewatch")
HEADER = ["job_id", "title", "location", "department", "salary_range", "company_profile", "description",
          "requirements", "benefits", "industry", "function", "fraudulent"]

PITCH = ("Earn from your kitchen table: our home assistants process simple online forms for our clients and are "
         "paid every Friday, no experience needed, all training is online and you can start today")
BLURB = ("Harbour Freight Lines has moved containers between the North Sea ports for forty years and employs "
         "nine hundred people across four depots")


def row(i: int, title: str, description: str, fraudulent: int, profile: str = "", requirements: str = "") -> dict:
    return {"job_id": str(i), "title": title, "location": "US, TX, Austin", "department": "", "salary_range": "",
            "company_profile": profile, "description": description, "requirements": requirements,
            "benefits": "", "industry": "", "function": "", "fraudulent": str(fraudulent)}


def written_rows() -> list[dict]:
    rows = []
    # one scam template posted under several titles, with small edits
    for i, title in enumerate(["Data Entry Clerk", "Admin Assistant", "Typist", "Payroll Clerk"]):
        rows.append(row(100 + i, title, f"{PITCH}. Position {i}: {title}.", 1))
    # one employer's profile on many different jobs
    for i, title in enumerate(["Forklift Driver", "Port Planner", "HGV Mechanic"]):
        rows.append(row(200 + i, title, f"We need a {title.lower()} for the {i + 1}th depot, shifts on rota.", 0,
                        profile=BLURB))
    # the same company blurb pasted into the description of a scam ad
    rows.append(row(300, "Logistics Coordinator (remote)", f"{BLURB}. {PITCH}", 1))
    # unrelated singletons
    for i in range(12):
        rows.append(row(400 + i, f"Role {i}", f"Distinct text number {i} about task {i * 7} and tool {i * 13}.",
                        i % 2))
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        w.writerows(rows)
    return path


def test_templates_and_pasted_blurbs_share_a_group():
    rows = written_rows()
    groups = template_groups(rows)
    by_id = {r["job_id"]: g for r, g in zip(rows, groups)}
    scam = {by_id[str(100 + i)] for i in range(4)}
    employer = {by_id[str(200 + i)] for i in range(3)}
    assert len(scam) == 1 and len(employer) == 1
    assert by_id["300"] in scam and by_id["300"] in employer  # the pasted blurb joins both, transitively
    assert len({by_id[str(400 + i)] for i in range(12)}) == 12


def test_split_is_deterministic_keeps_groups_whole_and_ignores_row_order(tmp_path):
    rows = written_rows()
    first = load_emscad(write_csv(tmp_path / "a.csv", rows))
    again = load_emscad(write_csv(tmp_path / "b.csv", rows))
    shuffled = load_emscad(write_csv(tmp_path / "c.csv", rows[::-1]))
    side = {r.ad.id: (r.group, r.split) for r in first}
    assert side == {r.ad.id: (r.group, r.split) for r in again} == {r.ad.id: (r.group, r.split) for r in shuffled}
    sides_of_group = defaultdict(set)
    for r in first:
        sides_of_group[r.group].add(r.split)
    assert all(len(s) == 1 for s in sides_of_group.values())
    assert {r.split for r in first} == {"train", "test"}
    test_ids = {r.ad.id for r in load_emscad(tmp_path / "a.csv", split="test")}
    assert test_ids == {i for i, (_, s) in side.items() if s == "test"}
    assert first[0].line == 2 and first[0].fraudulent == 1


def test_bad_csv_names_file_and_line(tmp_path):
    rows = written_rows()
    rows[3]["fraudulent"] = "yes"
    with pytest.raises(EmscadError, match=r"bad\.csv:5: 'fraudulent' must be 0 or 1"):
        load_emscad(write_csv(tmp_path / "bad.csv", rows))
    with pytest.raises(EmscadError, match="unknown split"):
        load_emscad(write_csv(tmp_path / "ok.csv", written_rows()), split="dev")


def test_cli_prints_test_group_numbers_and_the_split(tmp_path):
    path = write_csv(tmp_path / "mini.csv", written_rows())
    res = subprocess.run([str(LUREWATCH), "eval", "--emscad", str(path), "--json"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    em = json.loads(res.stdout)["emscad"]
    assert "template groups" in em["split"]["method"]
    assert em["split"]["train"]["legit"] + em["split"]["test"]["legit"] == em["legit"] == 9
    assert em["split"]["train"]["fraud"] + em["split"]["test"]["fraud"] == em["fraud"] == 11
    assert set(em["fraud_test"]) == {"recall", "legit_flag_rate", "legit_flag_target", "met"}
    tables = subprocess.run([str(LUREWATCH), "eval", "--emscad", str(path)], capture_output=True, text=True,
                            timeout=300).stdout
    for text in ("Split: template groups", "Fraud signal on the TEST groups", "Lure flag rate on real legit ads"):
        assert text in tables, text


@pytest.mark.skipif(not EMSCAD_DEFAULT.is_file(), reason="EMSCAD (../shared or $LUREWATCH_EMSCAD) is not available")
def test_real_emscad_split_sizes():
    rows = load_emscad(EMSCAD_DEFAULT)
    sides_of_group = defaultdict(set)
    for r in rows:
        sides_of_group[r.group].add(r.split)
    assert all(len(s) == 1 for s in sides_of_group.values())
    for label in (0, 1):
        n = sum(1 for r in rows if r.fraudulent == label)
        test = sum(1 for r in rows if r.fraudulent == label and r.split == "test")
        assert TEST_SHARE - 0.1 <= test / n <= TEST_SHARE + 0.01, (label, test, n)
