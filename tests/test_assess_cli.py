"""`lurewatch assess`: JSON Lines in, one verdict per ad out, in input order."""
import json

import pytest
from click.testing import CliRunner

from crawler.cli import cli

LURE = {
    "id": "a1",
    "title": "Customer service staff, Sihanoukville",
    "salary": "USD 1,500/month",
    "description": "No experience needed. Free flight ticket, visa, food and accommodation. Leave this week.",
    "contact": "Telegram @fastjob_hr",
}
LEGIT = {"id": "b2", "title": "Accountant", "company": "Harbour Foods Ltd", "location": "Leeds, UK",
         "salary": "£32,000 a year", "description": "ACCA qualified, three years in practice."}


def run(lines, *args):
    return CliRunner().invoke(cli, ["assess", *args], input="\n".join(lines) + "\n")


def test_json_output_one_line_per_ad_in_input_order():
    result = run([json.dumps(LURE), "", json.dumps(LEGIT), json.dumps({"id": 3})], "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a1", "b2", 3]
    for r in rows:
        assert 0 <= r["score"] <= 100 and isinstance(r["flagged"], bool) and r["level"]
    assert rows[0]["flagged"] and not rows[1]["flagged"] and not rows[2]["flagged"]
    for e in rows[0]["evidence"]:
        assert {"rule_id", "category", "weight", "matched_text"} <= set(e)
        assert e["matched_text"]


def test_evidence_quotes_text_found_in_the_ad():
    [row] = [json.loads(line) for line in run([json.dumps(LURE)], "--json").output.splitlines()]
    for e in row["evidence"]:
        if e["field"] in LURE and e["start"] >= 0:
            assert LURE[e["field"]][e["start"]:e["end"]] == e["matched_text"]


def test_table_output_names_the_ad_and_why():
    result = run([json.dumps(LURE), json.dumps(LEGIT)])
    assert result.exit_code == 0
    first, second = result.output.splitlines()
    assert first.split()[0] == "a1" and "FLAG" in first and "Matched" in first
    assert second.split()[0] == "b2" and "FLAG" not in second


@pytest.mark.parametrize("bad, message", [
    ('{"id": 2, "title": "x"', "<stdin>:2: invalid JSON"),
    ("[1, 2]", "<stdin>:2: expected a JSON object"),
])
def test_bad_line_names_the_line_and_keeps_earlier_results(bad, message):
    result = run([json.dumps(LURE), bad], "--json")
    assert result.exit_code != 0
    assert message in result.output
    assert json.loads(result.output.splitlines()[0])["id"] == "a1"


def test_file_argument_names_the_file(tmp_path):
    path = tmp_path / "ads.jsonl"
    path.write_text(json.dumps(LEGIT) + "\nnot json\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["assess", str(path)])
    assert result.exit_code != 0 and f"{path}:2: invalid JSON" in result.output


@pytest.mark.parametrize("batch", ["1", "2", "256"])
def test_batch_size_changes_nothing_in_the_output(batch):
    lines = [json.dumps({**LURE, "id": i}) if i % 2 else json.dumps({**LEGIT, "id": i}) for i in range(5)]
    result = run(lines, "--json", "--batch", batch)
    assert result.exit_code == 0, result.output
    assert result.output == run(lines, "--json", "--batch", "1").output
    assert [json.loads(line)["id"] for line in result.output.splitlines()] == list(range(5))


def test_bad_line_after_a_partial_batch_keeps_its_results():
    result = run([json.dumps(LURE), json.dumps(LEGIT), "not json"], "--json", "--batch", "256")
    assert result.exit_code != 0 and "<stdin>:3: invalid JSON" in result.output
    assert [json.loads(line)["id"] for line in result.output.splitlines()[:2]] == ["a1", "b2"]
