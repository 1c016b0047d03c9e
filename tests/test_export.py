"""`lurewatch export` and output.export: CSV / JSON Lines round trips from a real store."""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.store import Store
from output.export import WRITERS, ExportError, FileWriter, Selection, export, iter_records, register
from output.export.csv_writer import defuse


def ev(rule_id, category, text, weight=1.0):
    return {"rule_id": rule_id, "category": category, "weight": weight, "matched_text": text, "field": "description",
            "start": 0, "end": len(text), "explanation": f"{category} rule"}


def assessment(score, evidence, contacts=()):
    return {"score": score, "level": "high" if score >= 70 else "medium" if score >= 45 else "low",
            "flagged": score >= 50, "language": "en", "categories": sorted({e["category"] for e in evidence}),
            "summary": f"{len(evidence)} hits", "evidence": evidence, "contacts": list(contacts),
            "nearest_lure": {"id": "seed-1", "similarity": 0.8} if score > 80 else None}


ROWS = [
    ({"url": "http://x/1", "source": "x", "title": "CSR Cambodia", "description": "Line one\nline two, \"quoted\"",
      "contact": "+855 12 345 678"},
     assessment(90, [ev("dest.kh", "destination", "Cambodia", 2.0), ev("perks.flight", "perks", "free flight")],
                [{"kind": "phone", "value": "+85512345678", "raw": "+855 12 345 678", "field": "contact"}])),
    ({"url": "http://x/2", "source": "x", "title": "=HYPERLINK(\"http://evil\")", "description": "formula title"},
     assessment(60, [ev("perks.visa", "perks", "@visa")])),
    ({"url": "http://x/3", "source": "x", "title": "Borderline chat job", "description": "chat"},
     assessment(40, [ev("dest.hidden", "destination", "abroad")])),
    ({"url": "http://x/4", "source": "x", "title": "Accountant", "description": "accounts"}, assessment(3, [])),
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "ads.db"
    store = Store(path)
    for ad, a in ROWS:
        store.save_ad(ad, a)
    store.close()
    return path


def run(*args):
    return CliRunner().invoke(cli, ["export", *map(str, args)], catch_exceptions=False)


def test_jsonl_round_trip_nests_evidence(db, tmp_path):
    out = tmp_path / "flagged.jsonl"
    result = run("--db", db, "--format", "jsonl", "--out", out)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["title"] for r in records] == ["CSR Cambodia", '=HYPERLINK("http://evil")']  # flagged, riskiest first
    first = records[0]
    assert first["flagged"] is True and first["risk_score"] == 90
    assert first["categories"] == ["destination", "perks"]
    assert first["nearest_lure"] == {"id": "seed-1", "similarity": 0.8}
    assert first["description"] == ROWS[0][0]["description"]
    assert [(e["rule_id"], e["matched_text"], e["weight"]) for e in first["evidence"]] == [
        ("dest.kh", "Cambodia", 2.0), ("perks.flight", "free flight", 1.0)]
    assert first["contacts"] == [{"kind": "phone", "value": "+85512345678", "raw": "+855 12 345 678", "field": "contact"}]
    assert "Exported 2 flagged ads" in result.output


def test_csv_round_trip_summarises_evidence(db, tmp_path):
    out = tmp_path / "flagged.csv"
    assert run("--db", db, "--format", "csv", "--out", out).exit_code == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["title"] for r in rows] == ["CSR Cambodia", "'=HYPERLINK(\"http://evil\")"]
    first = rows[0]
    assert first["description"] == ROWS[0][0]["description"]  # newlines and quotes survive
    assert first["risk_score"] == "90" and first["flagged"] == "1"
    assert first["categories"] == "destination;perks"
    assert first["evidence_count"] == "2"
    assert first["evidence"] == 'destination/dest.kh: "Cambodia" | perks/perks.flight: "free flight"'
    assert first["contacts"] == "phone:+85512345678"
    assert first["contact"] == "+855 12 345 678"  # a phone number is not a formula
    assert rows[1]["evidence"] == "perks/perks.visa: \"@visa\""


@pytest.mark.parametrize("min_score, titles", [
    (None, ["CSR Cambodia", '=HYPERLINK("http://evil")']),
    (40, ["CSR Cambodia", '=HYPERLINK("http://evil")', "Borderline chat job"]),
    (0, ["CSR Cambodia", '=HYPERLINK("http://evil")', "Borderline chat job", "Accountant"]),
    (95, []),
])
def test_selection(db, min_score, titles):
    assert [r["title"] for r in iter_records(db, Selection(min_score=min_score))] == titles


def test_after_id_for_incremental_feeds(db):
    assert [r["id"] for r in iter_records(db, Selection(min_score=0, after_id=2))] == [3, 4]


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("+cmd|x", "'+cmd|x"), ("-2+3", "'-2+3"), ("-5", "-5"),
    ("+66 98 765 4321", "+66 98 765 4321"), ("plain", "plain"), ("", ""),
])
def test_defuse_formulas(value, expected):
    assert defuse(value) == expected


def test_missing_database_keeps_existing_output(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous export\n")
    result = CliRunner().invoke(cli, ["export", "--db", str(tmp_path / "none.db"), "--format", "jsonl", "--out", str(out)])
    assert result.exit_code != 0 and "database not found" in result.output
    assert out.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left


def test_missing_output_directory_is_named(db, tmp_path):
    with pytest.raises(ExportError, match="output directory does not exist"):
        export(db, "csv", tmp_path / "no" / "out.csv")


def test_new_formats_plug_in_as_writer_classes(db, tmp_path):
    class TitlesWriter(FileWriter):
        name = "titles-test"
        def write(self, record):
            self.stream.write(record["title"] + "\n")

    register(TitlesWriter)
    try:
        out = tmp_path / "titles.txt"
        assert export(db, "titles-test", out, Selection(min_score=0)) == 4
        assert out.read_text().splitlines()[0] == "CSR Cambodia"
    finally:
        WRITERS.pop("titles-test")


def test_stdout_output(db):
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "jsonl", "--out", "-", "--min-score", "85"])
    assert result.exit_code == 0
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert [json.loads(ln)["title"] for ln in lines] == ["CSR Cambodia"]


TRICKY = ("Chat job\u2028abroad\u2029now", "Telegram @hr\u202egnp.exe", "http://x/\u2066evil\u2069")


def tricky_db(tmp_path):
    path = tmp_path / "tricky.db"
    store = Store(path)
    title, contact, url = TRICKY
    store.save_ad({"url": url, "source": "x", "title": title, "description": "d", "contact": contact},
                  assessment(90, [ev("contact.tg", "contact", "@hr\u202egnp")]))
    store.close()
    return path


def test_jsonl_escapes_line_separators_and_bidi_controls_but_keeps_the_values(tmp_path):
    out = tmp_path / "feed.jsonl"
    assert run("--db", tricky_db(tmp_path), "--format", "jsonl", "--out", out).exit_code == 0
    raw = out.read_text(encoding="utf-8")
    for ch in "\u2028\u2029\u202e\u2066\u2069":
        assert ch not in raw
    assert "\\u2028" in raw and "\\u202e" in raw
    lines = raw.splitlines()  # str.splitlines() also splits on U+2028: one record must stay one line
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (record["title"], record["contact"], record["url"]) == TRICKY
    assert record["evidence"][0]["matched_text"] == "@hr\u202egnp"


def test_csv_shows_bidi_controls(tmp_path):
    out = tmp_path / "feed.csv"
    assert run("--db", tricky_db(tmp_path), "--format", "csv", "--out", out).exit_code == 0
    raw = out.read_text(encoding="utf-8")
    assert "\u202e" not in raw and "\u2066" not in raw
    row = next(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert row["contact"] == "Telegram @hr<U+202E>gnp.exe"
    assert row["url"] == "http://x/<U+2066>evil<U+2069>"
    assert '"@hr<U+202E>gnp"' in row["evidence"]


def test_a_format_module_dropped_into_output_export_registers_itself(tmp_path):
    """Issue 14 item 6: no hand-written import in output/export/__init__.py; a new module is enough.
    The module is dropped into a copy of the `output` package: other tests import the real one meanwhile."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import output

    copy = tmp_path / "output"
    shutil.copytree(Path(output.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def export_help(cwd: Path) -> str:
        shown = subprocess.run([sys.executable, "-c", "from crawler.cli import cli; cli()", "export", "--help"],
                               cwd=cwd, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "COLUMNS": "400"})
        assert shown.returncode == 0, shown.stderr
        return shown.stdout

    name = "probeformat"
    (copy / "export" / f"{name}_writer.py").write_text(
        "from .base import FileWriter, register\n\n\n@register\nclass ProbeWriter(FileWriter):\n"
        f"    name = {name!r}\n    suffix = '.txt'\n\n    def write(self, record):\n"
        "        self.stream.write(record['url'] + '\\n')\n", encoding="utf-8")
    assert name in export_help(tmp_path)  # python -c puts the working directory first: the copy is imported
    assert name not in export_help(Path(output.__file__).parent.parent)
