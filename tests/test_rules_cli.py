"""`lurewatch rules test|lint`, including malformed rule files (each reported with file, line and rule id)."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
rules:
  - id: destination.test_place
    description: Names a test place
    category: destination
    weight: 0.5
    patterns: ['\\bexampleville\\b']
    examples:
      match: ["work in Exampleville"]
      no_match: ["work in Sampletown"]
"""


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_shipped_ruleset_passes_test_and_lint():
    res = run("rules", "test")
    assert res.exit_code == 0, res.output
    assert " 0 failed" in res.output
    res = run("rules", "lint")
    assert res.exit_code == 0, res.output
    assert "rules OK" in res.output


def test_rules_test_via_installed_command():
    exe = Path(sys.executable).parent / "lurewatch"
    out = subprocess.run([str(exe), "rules", "test"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("body, expected", [
    ("rules:\n  - id: x.a\n    description: [unclosed\n", ["bad.yaml:", "invalid YAML", "line 3"]),
    ("rules:\n  - id: destination.a\n    category: destination\n    weight: 0.5\n    patterns: ['a+']\n"
     "    examples: {match: [aa]}\n", ["bad.yaml:2", "destination.a", "missing 'description'"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    patterns: ['(unclosed']\n    examples: {match: [a]}\n", ["bad.yaml:2", "destination.a", "(unclosed"]),
    ("rules:\n  - id: nowhere.a\n    description: d\n    category: nowhere\n    weight: 0.5\n"
     "    patterns: ['a']\n    examples: {match: [a]}\n", ["bad.yaml:2", "nowhere.a", "unknown category"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 3\n"
     "    patterns: ['a']\n    examples: {match: [a]}\n", ["bad.yaml:2", "destination.a", "weight"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    patterns: ['(?P<x>a)']\n    examples: {match: [a]}\n", ["bad.yaml:2", "destination.a", "named groups"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    patterns: ['a']\n", ["bad.yaml:2", "destination.a", "examples"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    patterns: ['zebra']\n    examples: {match: [horse]}\n", ["bad.yaml:2", "destination.a", "does not match"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    patterns: ['a']\n    examples: {match: [a], no_match: [cat]}\n", ["bad.yaml:2", "destination.a", "no_match"]),
    ("rules: {}\n", ["bad.yaml:1", "'rules' list"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    unless_in: [salaryy]\n    patterns: ['a']\n    examples: {match: [a]}\n",
     ["bad.yaml:2", "destination.a", "unless_in", "salaryy"]),
    ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
     "    not_languages: km\n    patterns: ['a']\n    examples: {match: [a]}\n",
     ["bad.yaml:2", "destination.a", "not_languages", "list of strings"]),
], ids=["yaml", "missing-key", "regex", "category", "weight", "named-group", "no-examples", "example-miss",
        "no-match-hit", "not-a-list", "unless-in-field", "not-languages-type"])
def test_lint_reports_file_line_and_rule(tmp_path, body, expected):
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    res = run("rules", "lint", "--dir", str(tmp_path))
    assert res.exit_code == 1, res.output
    for needle in expected:
        assert needle in res.output, res.output
    assert "good.yaml" not in res.output


def test_lint_finds_duplicate_ids_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    res = run("rules", "lint", "--dir", str(tmp_path))
    assert res.exit_code == 1
    assert "b.yaml:2" in res.output and "destination.test_place" in res.output and "duplicates" in res.output


def test_rules_test_reports_failing_example(tmp_path):
    (tmp_path / "r.yaml").write_text(GOOD.replace('match: ["work in Exampleville"]', 'match: ["work in Nowhere"]'),
                                     encoding="utf-8")
    res = run("rules", "test", "--dir", str(tmp_path))
    assert res.exit_code == 1
    assert "FAIL" in res.output and "r.yaml:2" in res.output and "destination.test_place" in res.output


def test_rules_test_on_good_custom_dir(tmp_path):
    (tmp_path / "r.yaml").write_text(GOOD, encoding="utf-8")
    res = run("rules", "test", "--dir", str(tmp_path), "-v")
    assert res.exit_code == 0, res.output
    assert "1 rules, 2 examples, 0 failed" in res.output


def test_commands_document_an_example():
    for args in (["rules", "--help"], ["rules", "test", "--help"], ["rules", "lint", "--help"]):
        res = run(*args)
        assert res.exit_code == 0 and "Example:" in res.output


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(\w+\s?)+!", r"(a|a)*b", r"(?:\d+,?)*x", r"(?:[a-z]+\.?)+@",
                                     r"\bjob(?:s|\s*\w+)+ abroad"])
def test_lint_rejects_catastrophic_backtracking(tmp_path, pattern):
    body = ("rules:\n  - id: destination.a\n    description: d\n    category: destination\n    weight: 0.5\n"
            f"    patterns: ['{pattern}']\n    examples: {{match: [aab]}}\n")
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    res = run("rules", "lint", "--dir", str(tmp_path))
    assert res.exit_code == 1, res.output
    line = next(line for line in res.output.splitlines() if "bad.yaml:2" in line)
    assert "destination.a" in line and "backtrack catastrophically" in line, res.output


@pytest.mark.parametrize("pattern", [r"(?:\w+ ){0,2}jobs?", r"(?:one|two)(?:[\s,]+(?:one|two)){5,}", r"(?:foo|far)+",
                                     r"\d+(?:[.,]\d+)*"])
def test_lint_accepts_unambiguous_repeats(tmp_path, pattern):
    from rules._redos import backtracking_risk
    import re._parser

    assert backtracking_risk(re._parser.parse(pattern)) is None
