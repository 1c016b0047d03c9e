"""Bad input to the CLI: one clear line naming the file (and line), a non-zero exit, never a traceback."""
from __future__ import annotations

import os

import pytest

from conftest import run_cli
from crawler.store import Store


def _db(tmp_path):
    path = tmp_path / "ads.db"
    Store(path).close()
    return path


def _assess(body):
    def setup(tmp_path):
        (tmp_path / "ads.jsonl").write_text(body, encoding="utf-8")
        return ["assess", "ads.jsonl"]
    return setup


def _export_to(target):
    def setup(tmp_path):
        db = _db(tmp_path)
        out = target(tmp_path)
        return ["export", "--db", str(db), "--format", "jsonl", "--out", str(out)]
    return setup


def _fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def _broken_rules(tmp_path):
    (tmp_path / "rules" / "packs").mkdir(parents=True)
    (tmp_path / "rules" / "concepts.yaml").write_text(
        "concepts:\n  - {id: destination.a, category: destination, weight: 0.5, description: d}\n", encoding="utf-8")
    (tmp_path / "rules" / "packs" / "broken.yaml").write_text(
        "language: broken\nconcepts:\n  destination.a:\n    patterns: [\n", encoding="utf-8")
    return ["rules", "lint", "--dir", str(tmp_path / "rules")]


CASES = {
    "assess-invalid-json": (_assess('{"id": 1}\n{"id": 2,\n'), "ads.jsonl:2: invalid JSON"),
    "assess-not-an-object": (_assess('{"id": 1}\n[1, 2]\n'), "ads.jsonl:2: expected a JSON object, got list"),
    "assess-wrong-type": (_assess('{"id": 1, "title": {"text": "x"}}\n'),
                          "ads.jsonl:1: field 'title' must be a string or a number, got dict"),
    "export-to-directory": (_export_to(lambda tmp: tmp), "is a directory"),
    "export-to-pipe": (_export_to(_fifo), "pipe: not a regular file"),
    "export-unwritable": (_export_to(lambda tmp: "/proc/lurewatch-export.jsonl"),
                          "/proc/lurewatch-export.jsonl: cannot write"),
    "export-missing-dir": (_export_to(lambda tmp: tmp / "nowhere" / "out.jsonl"), "output directory does not exist"),
    "review-missing-db": (lambda tmp: ["review", "--db", str(tmp / "missing.db")], "database not found:"),
    "lint-broken-yaml": (_broken_rules, "broken.yaml:5: invalid YAML"),
    "profile-missing-file": (lambda tmp: ["profiles", "check", str(tmp / "missing.yaml")],
                             "missing.yaml: profile file not found"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_clear_line(tmp_path, case):
    setup, message = CASES[case]
    proc = run_cli(*setup(tmp_path), cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Traceback" not in output, output
    named = [line for line in output.splitlines() if message in line]
    assert len(named) == 1, output
    stdout = proc.stdout.splitlines()
    after = stdout[stdout.index(named[0]) + 1:] if named[0] in stdout else []  # a message continued on more lines
    others = [line for line in proc.stderr.splitlines() + after if line.strip() and line not in named]
    # stderr: at most click's usage hint or the lint summary besides the error itself (stdout may hold the
    # verdicts of the lines before a bad one)
    assert all(line.startswith(("Usage:", "Try ", "1 problem")) for line in others), output


def test_failed_export_leaves_the_pipe_in_place(tmp_path):
    db = _db(tmp_path)
    os.mkfifo(tmp_path / "feed")
    proc = run_cli("export", "--db", str(db), "--format", "csv", "--out", str(tmp_path / "feed"))
    assert proc.returncode == 1
    assert (tmp_path / "feed").is_fifo()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
