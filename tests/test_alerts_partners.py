"""The partners file: the issue's example loads as written; every mistake names the file and the line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_cli
from output.alerts import Partner, PartnersError, load_partners

ISSUE_EXAMPLE = """\
partners:
  - name: cert-stix
    formats: [stix]
    min_level: high
    tlp: amber
    to: {dir: out/cert}
  - name: ngo-misp
    formats: [misp]
    to: {dir: out/misp-feed}
  - name: hotline
    formats: [jsonl]
    to: {webhook: "http://127.0.0.1:9900/hook", secret_env: HOTLINE_SECRET}
"""


def test_the_issue_example_loads_as_written(tmp_path):
    path = tmp_path / "partners.yaml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    cert, ngo, hotline = load_partners(path).partners
    assert (cert.name, cert.formats, cert.min_level, cert.tlp, cert.dir) == (
        "cert-stix", ("stix",), "high", "amber", tmp_path / "out/cert")
    assert (ngo.name, ngo.formats, ngo.min_level, ngo.min_score, ngo.tlp, ngo.dir) == (
        "ngo-misp", ("misp",), None, None, "amber", tmp_path / "out/misp-feed")
    assert (hotline.formats, hotline.webhook.url, hotline.webhook.secret_env, hotline.include_notes) == (
        ("jsonl",), "http://127.0.0.1:9900/hook", "HOTLINE_SECRET", False)
    assert [p.line for p in (cert, ngo, hotline)] == [2, 7, 10]
    assert cert.where() == ("a.risk_level IN (?)", ["high"]) and ngo.where() == ("a.flagged = 1", [])


PARTNER = "  - name: p\n    formats: [jsonl]\n    to: {dir: out}\n"


@pytest.mark.parametrize("text, line, message", [
    ("partners: [", 1, "invalid YAML"),
    ("- a\n", 1, "expected a mapping with a 'partners' list"),
    ("partners: []\n", 1, "partners: expected a non-empty list of partners"),
    ("partners:\n" + PARTNER + "extra: 1\n", 5, "extra: unknown key"),
    ("partners:\n  - name: Bad Name\n    formats: [jsonl]\n    to: {dir: out}\n", 2, "name: required: lower-case"),
    ("partners:\n" + PARTNER + PARTNER, 5, "partner name 'p' already used at line 2"),
    ("partners:\n  - name: p\n    to: {dir: out}\n", 2, "partner 'p': formats: required"),
    ("partners:\n  - name: p\n    formats:\n      - jsonl\n      - pdf\n    to: {dir: out}\n", 5,
     "formats.1: 'pdf' is not one of stix, misp, jsonl, csv"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    min_level: severe\n    to: {dir: out}\n", 4,
     "min_level: 'severe' is not a level (none, low, medium, high)"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    min_level: high\n    min_score: 50\n    to: {dir: out}\n", 5,
     "give min_level or min_score, not both"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    min_score: 101\n    to: {dir: out}\n", 4,
     "min_score: expected a whole number from 0 to 100"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    verdicts: [lure, not_lure]\n    to: {dir: out}\n", 4,
     "'not_lure' is not one of"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    countries: [Cambodia]\n    to: {dir: out}\n", 4,
     "'Cambodia' is not a two-letter country code"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    tlp: white\n    to: {dir: out}\n", 4,
     "tlp: 'white' is not a TLP 2.0 marking"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    include_notes: yes please\n    to: {dir: out}\n", 4,
     "include_notes: expected true or false"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n", 2, "to: required: {dir: PATH} or {webhook: URL"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    to: {dir: out, webhook: 'http://x'}\n", 4, "to: required"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    to:\n      webhook: ftp://x/hook\n      secret_env: S\n", 5,
     "to.webhook: not an http(s) URL"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    to:\n      webhook: http://x/hook\n", 4,
     "to.secret_env: required"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    to:\n      webhook: http://x/hook\n      secret_env: S\n"
     "      secret: whsec_abc\n", 7, "to.secret: unknown key (allowed here: webhook, secret_env"),
    ("partners:\n  - name: p\n    formats: [jsonl]\n    to:\n      webhook: http://x/hook\n      secret_env: S\n"
     "      retries: -1\n", 7, "to.retries: expected a whole number >= 0"),
])
def test_bad_partners_file_names_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "partners.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PartnersError) as err:
        load_partners(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert message in str(err.value)


def test_alerts_send_exits_1_naming_file_and_line(tmp_path):
    path = tmp_path / "partners.yaml"
    path.write_text("partners:\n  - name: p\n    formats: [pdf]\n    to: {dir: out}\n", encoding="utf-8")
    result = run_cli("alerts", "send", "--db", str(tmp_path / "none.db"), "--partners", str(path))
    assert result.returncode == 1
    assert re.search(rf"Error: {re.escape(str(path))}:3: partner 'p': formats.0: 'pdf' is not one of", result.stderr)
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "out").exists()


def test_unknown_partner_and_missing_files_are_named(tmp_path):
    path = tmp_path / "partners.yaml"
    path.write_text(PARTNER.join(["partners:\n", ""]), encoding="utf-8")
    result = run_cli("alerts", "send", "--db", str(tmp_path / "none.db"), "--partners", str(path), "--partner", "q")
    assert result.returncode == 1 and "no partner named 'q' (partners: p)" in result.stderr
    result = run_cli("alerts", "send", "--db", str(tmp_path / "none.db"), "--partners", str(path))
    assert result.returncode == 1 and f"database not found: {tmp_path / 'none.db'}" in result.stderr
    result = run_cli("alerts", "send", "--db", str(tmp_path / "none.db"), "--partners", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1 and "nope.yaml: partners file not found" in result.stderr


def test_the_secret_is_read_from_the_environment_only_when_sending(monkeypatch):
    hook = load_partners_text("partners:\n  - name: h\n    formats: [jsonl]\n"
                              "    to: {webhook: 'http://127.0.0.1:1/h', secret_env: LW_TEST_SECRET}\n").partners[0]
    assert isinstance(hook, Partner) and "LW_TEST_SECRET" not in repr(hook.config_hash())
    monkeypatch.setenv("LW_TEST_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert hook.secret() == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    monkeypatch.setenv("LW_TEST_SECRET", "whsec_%%%")
    with pytest.raises(PartnersError, match="LW_TEST_SECRET does not hold a Standard Webhooks secret"):
        hook.secret()


def load_partners_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "partners.yaml"
        path.write_text(text, encoding="utf-8")
        return load_partners(path)
