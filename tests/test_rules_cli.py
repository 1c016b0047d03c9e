"""`lurewatch rules test|lint|coverage`, including malformed concept and pack files (each reported with file,
line and concept id)."""
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli

ROOT = Path(__file__).resolve().parents[1]

CONCEPTS = """\
concepts:
  - id: destination.test_place
    description: Names a test place
    category: destination
    weight: 0.5
  - id: bait.test_role
    description: Offers a test role
    category: bait_role
    weight: 0.5
"""
GOOD_PACK = """\
language: en
name: English
concepts:
  destination.test_place:
    patterns: ['\\bexampleville\\b']
    match: ["work in Exampleville"]
    no_match: ["work in Sampletown"]
  bait.test_role:
    patterns: ['\\btest agent\\b']
    match: ["hiring a test agent"]
"""


def run(*args):
    return CliRunner().invoke(cli, list(args))


def ruleset(tmp_path, packs: dict[str, str], concepts: str = CONCEPTS) -> Path:
    (tmp_path / "packs").mkdir(exist_ok=True)
    (tmp_path / "concepts.yaml").write_text(concepts, encoding="utf-8")
    for name, body in packs.items():
        (tmp_path / "packs" / name).write_text(body, encoding="utf-8")
    return tmp_path


def test_shipped_ruleset_passes_test_lint_and_coverage():
    res = run("rules", "test")
    assert res.exit_code == 0, res.output
    assert " 0 failed" in res.output
    res = run("rules", "lint")
    assert res.exit_code == 0, res.output
    assert "rules OK" in res.output
    res = run("rules", "coverage")
    assert res.exit_code == 0, res.output
    assert "0 missing concept(s): clean" in res.output


def test_rules_test_via_installed_command():
    exe = Path(sys.executable).parent / "lurewatch"
    out = subprocess.run([str(exe), "rules", "test"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def pack(entry: str, head: str = "language: xx\nname: Test\n") -> str:
    return head + "concepts:\n  destination.test_place:\n" + entry


@pytest.mark.parametrize("body, expected", [
    ("language: xx\nname: [unclosed\n", ["xx.yaml:", "invalid YAML", "line 3"]),
    (pack("    patterns: ['(unclosed']\n    match: [a]\n"), ["xx.yaml:4", "destination.test_place", "(unclosed"]),
    (pack("    patterns: ['(?P<x>a)']\n    match: [a]\n"), ["xx.yaml:4", "destination.test_place", "named groups"]),
    (pack("    patterns: ['zebra']\n    match: [horse]\n"), ["xx.yaml:4", "destination.test_place", "does not match"]),
    (pack("    patterns: ['\\bcat\\b']\n    match: [a cat]\n    no_match: [cat]\n"),
     ["xx.yaml:4", "destination.test_place", "no_match"]),
    (pack("    patterns: 'a'\n    match: [a]\n"), ["xx.yaml:4", "destination.test_place", "list of strings"]),
    (pack("    patterns: ['a']\n    examples: [a]\n"), ["xx.yaml:4", "destination.test_place", "unknown keys"]),
    ("language: xx\nname: Test\nconcepts:\n  nowhere.a:\n    patterns: ['a']\n    match: [a]\n",
     ["xx.yaml:4", "nowhere.a", "unknown concept"]),
    ("language: yy\nname: Test\nconcepts: {}\n", ["xx.yaml:1", "file name"]),
    ("language: xx\nconcepts: {}\n", ["xx.yaml:1", "'name'"]),
    ("language: xx\nname: Test\nconcepts: []\n", ["xx.yaml:1", "'concepts' mapping"]),
    ("language: xx\nname: Test\nconcepts: {}\nnot_applicable:\n  bait.test_role: ''\n",
     ["xx.yaml:5", "bait.test_role", "reason"]),
    (pack("    patterns: ['a']\n    match: [a]\n    match: [b]\n"), ["xx.yaml:7", "duplicate key 'match'"]),
], ids=["yaml", "regex", "named-group", "example-miss", "no-match-hit", "not-a-list", "unknown-key",
        "unknown-concept", "code-vs-file", "no-name", "concepts-list", "no-reason", "duplicate-key"])
def test_lint_reports_pack_file_line_and_concept(tmp_path, body, expected):
    res = run("rules", "lint", "--dir", str(ruleset(tmp_path, {"en.yaml": GOOD_PACK, "xx.yaml": body})))
    assert res.exit_code == 1, res.output
    for needle in expected:
        assert needle in res.output, res.output
    assert "en.yaml" not in res.output


@pytest.mark.parametrize("concept, expected", [
    ("  - id: destination.a\n    category: destination\n    weight: 0.5\n", ["concepts.yaml:10", "missing 'description'"]),
    ("  - id: nowhere.a\n    description: d\n    category: nowhere\n    weight: 0.5\n", ["concepts.yaml:10", "unknown category"]),
    ("  - id: destination.a\n    description: d\n    category: destination\n    weight: 3\n", ["concepts.yaml:10", "weight"]),
    ("  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n    unless_in: [salaryy]\n",
     ["concepts.yaml:10", "unless_in", "salaryy"]),
    ("  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n    not_languages: km\n",
     ["concepts.yaml:10", "not_languages", "list of strings"]),
    ("  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n    scope: global\n",
     ["concepts.yaml:10", "scope"]),
    ("  - id: destination.test_place\n    description: d\n    category: destination\n    weight: 0.5\n",
     ["concepts.yaml:10", "duplicates", "concepts.yaml:2"]),
], ids=["missing-key", "category", "weight", "unless-in-field", "not-languages-type", "scope", "duplicate"])
def test_lint_reports_concept_file_line(tmp_path, concept, expected):
    res = run("rules", "lint", "--dir", str(ruleset(tmp_path, {"en.yaml": GOOD_PACK}, CONCEPTS + concept)))
    assert res.exit_code == 1, res.output
    for needle in expected:
        assert needle in res.output, res.output


def test_concept_without_any_example_is_reported(tmp_path):
    body = GOOD_PACK.replace('    match: ["hiring a test agent"]\n', "")
    res = run("rules", "lint", "--dir", str(ruleset(tmp_path, {"en.yaml": body})))
    assert res.exit_code == 1 and "bait.test_role" in res.output and "'match' example" in res.output, res.output


def test_rules_test_reports_failing_example(tmp_path):
    body = GOOD_PACK.replace('match: ["work in Exampleville"]', 'match: ["work in Nowhere"]')
    res = run("rules", "test", "--dir", str(ruleset(tmp_path, {"en.yaml": body})))
    assert res.exit_code == 1
    assert "FAIL" in res.output and "en.yaml:4" in res.output and "destination.test_place" in res.output


def test_rules_test_on_good_custom_dir(tmp_path):
    res = run("rules", "test", "--dir", str(ruleset(tmp_path, {"en.yaml": GOOD_PACK})), "-v")
    assert res.exit_code == 0, res.output
    assert "2 rules, 3 examples, 0 failed" in res.output


def test_a_language_is_one_new_file(tmp_path):
    """Adding a pack adds its words to the engine: nothing else to edit."""
    from rules import Engine
    from rules.ruleset import load_ruleset

    directory = ruleset(tmp_path, {"en.yaml": GOOD_PACK})
    before = {r.id: r.search("bekerja di Contohkota") for r in load_ruleset(directory)}
    ruleset(tmp_path, {"id.yaml": "language: id\nname: Indonesian\nconcepts:\n  destination.test_place:\n"
                                  "    patterns: ['\\bcontohkota\\b']\n    match: [kerja di Contohkota]\n"})
    rules = load_ruleset(directory)
    assert before["destination.test_place"] is None
    assert {r.id: r.search("bekerja di Contohkota") for r in rules}["destination.test_place"] == "Contohkota"
    assert next(r for r in rules if r.id == "destination.test_place").languages == ["en", "id"]
    engine = Engine(rules)
    ev = engine.features({"description": "bekerja di Contohkota"}).evidence
    assert [(e.rule_id, e.matched_text) for e in ev] == [("destination.test_place", "Contohkota")]


def test_coverage_lists_what_each_pack_misses(tmp_path):
    directory = ruleset(tmp_path, {"en.yaml": GOOD_PACK, "xx.yaml": pack(
        "    patterns: ['\\bexampleburg\\b']\n    match: [Exampleburg]\n")})
    res = run("rules", "coverage", "--dir", str(directory))
    assert res.exit_code == 1, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("│ xx"))
    assert "bait.test_role" in row and "1 missing concept(s)" in res.output
    res = run("rules", "coverage", "--dir", str(directory), "--language", "en", "--matrix")
    assert res.exit_code == 0 and "clean" in res.output, res.output
    # a reason in not_applicable, or a pack it extends, covers the concept
    (directory / "packs" / "xx.yaml").write_text(pack("    patterns: ['\\bexampleburg\\b']\n    match: [Exampleburg]\n")
                                                  + "not_applicable:\n  bait.test_role: no such job here\n")
    (directory / "packs" / "yy.yaml").write_text("language: yy\nname: Y\nextends: [en]\nconcepts: {}\n")
    res = run("rules", "coverage", "--dir", str(directory))
    assert res.exit_code == 0 and "0 missing concept(s): clean" in res.output, res.output
    res = run("rules", "coverage", "--dir", str(directory), "--language", "qq")
    assert res.exit_code == 1 and "no pack for qq" in res.output


def test_commands_document_an_example():
    for args in (["rules", "--help"], ["rules", "test", "--help"], ["rules", "lint", "--help"],
                 ["rules", "coverage", "--help"]):
        res = run(*args)
        assert res.exit_code == 0 and "Example:" in res.output


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(\w+\s?)+!", r"(a|a)*b", r"(?:\d+,?)*x", r"(?:[a-z]+\.?)+@",
                                     r"\bjob(?:s|\s*\w+)+ abroad"])
def test_lint_rejects_catastrophic_backtracking(tmp_path, pattern):
    res = run("rules", "lint", "--dir", str(ruleset(tmp_path, {"en.yaml": GOOD_PACK, "xx.yaml": pack(
        f"    patterns: ['{pattern}']\n    match: [aab]\n")})))
    assert res.exit_code == 1, res.output
    line = next(line for line in res.output.splitlines() if "xx.yaml:4" in line)
    assert "destination.test_place" in line and "backtrack catastrophically" in line, res.output


@pytest.mark.parametrize("pattern", [r"(?:\w+ ){0,2}jobs?", r"(?:one|two)(?:[\s,]+(?:one|two)){5,}", r"(?:foo|far)+",
                                     r"\d+(?:[.,]\d+)*"])
def test_lint_accepts_unambiguous_repeats(tmp_path, pattern):
    from rules._redos import backtracking_risk
    import re._parser

    assert backtracking_risk(re._parser.parse(pattern)) is None
