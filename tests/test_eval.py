"""`rules.evaluate` metrics, `lurewatch eval` output and errors, and the quality gate on the dev set's TEST split."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rules.emscad import EMSCAD_DEFAULT, evaluate_emscad, precision_at_base_rate
from rules.evaluate import (
    DEVSET_DIR,
    TARGETS,
    Counts,
    DatasetError,
    Example,
    Report,
    evaluate,
    load_dataset,
)
from rules.model import Ad, Assessment

REPO = Path(__file__).resolve().parent.parent
LUREWATCH = Path(sys.executable).with_name("lurewatch")


def run_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(LUREWATCH), "eval", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------- metrics on hand-made outcomes

@pytest.mark.parametrize("outcomes, precision, recall, f1, fpr", [
    # (label, flagged) pairs
    ([(1, True), (1, True), (0, False), (0, False)], 1.0, 1.0, 1.0, 0.0),
    ([(1, True), (1, False), (0, True), (0, False)], 0.5, 0.5, 0.5, 0.5),
    ([(1, True), (1, True), (1, True), (1, False), (0, True), (0, False), (0, False), (0, False)], 0.75, 0.75, 0.75, 0.25),
    ([(1, True), (0, True), (0, True), (0, False)], 1 / 3, 1.0, 0.5, 2 / 3),
    ([(1, False), (0, False)], None, 0.0, None, 0.0),  # nothing flagged: precision undefined
    ([(0, False), (0, True)], 0.0, None, None, 0.5),  # no lures: recall undefined
    ([(1, False), (1, False), (0, True)], 0.0, 0.0, 0.0, 1.0),
])
def test_counts_metrics(outcomes, precision, recall, f1, fpr):
    c = Counts()
    for label, flagged in outcomes:
        c.add(label, flagged)
    for got, want in ((c.precision, precision), (c.recall, recall), (c.f1, f1), (c.fpr, fpr)):
        assert (got is None and want is None) or math.isclose(got, want), (got, want)
    assert c.n == len(outcomes) and c.positives == sum(label for label, _ in outcomes)


def _ex(label, lang="en", kind="", fraud=0, subtle=0, id_="x"):
    return Example(ad=Ad(id=id_, title="t"), label=label, source="mem:1", lang=lang, kind=kind, fraud=fraud, subtle=subtle)


def _a(fraud_flagged=False):
    return Assessment(score=0, level="none", flagged=False, fraud_flagged=fraud_flagged)


def test_report_groups_subtle_hard_negatives_and_fraud():
    r = Report()
    table = [  # example, flagged as lure, fraud_flagged
        (_ex(1, "en", "lure_blatant", id_="b1"), True, False),
        (_ex(1, "th", "lure_subtle", subtle=1, id_="s1"), True, False),
        (_ex(1, "th", "lure_subtle", subtle=1, id_="s2"), False, False),
        (_ex(0, "en", "neg_bpo_domestic", id_="n1"), True, False),
        (_ex(0, "th", "neg_overseas_legit", id_="n2"), False, False),
        (_ex(0, "en", "neg_generic", id_="g1"), False, True),  # easy negative: not in the hard-negative rate
        (_ex(0, "en", "neg_fraud_ordinary", fraud=1, id_="f1"), False, True),
        (_ex(0, "en", "neg_fraud_ordinary", fraud=1, id_="f2"), False, False),
    ]
    for ex, flagged, fraud in table:
        r.add(ex, _a(fraud), flagged)
    assert (r.overall.tp, r.overall.fn, r.overall.fp, r.overall.tn) == (2, 1, 1, 4)
    assert (r.by_lang["th"].tp, r.by_lang["th"].fn, r.by_lang["th"].tn) == (1, 1, 1)
    assert r.by_kind["lure_subtle"].recall == 0.5
    assert (r.subtle_recall.hits, r.subtle_recall.n) == (1, 2)
    assert (r.hard_negative_flags.hits, r.hard_negative_flags.n) == (1, 4)
    assert (r.fraud_caught.hits, r.fraud_caught.n) == (1, 2)
    assert (r.fraud_false_alarms.hits, r.fraud_false_alarms.n) == (1, 3)
    assert r.missed == ["s2"] and r.false_positives == ["n1"]
    targets = r.targets()
    assert targets["recall"]["met"] is False and targets["hard_negative_flag_rate"]["met"] is False
    assert set(targets) == set(TARGETS)


@pytest.mark.parametrize("tpr, fpr, base, want", [
    (1.0, 0.0, 0.048, 1.0),
    (0.5, 0.05, 0.048, 0.5 * 0.048 / (0.5 * 0.048 + 0.05 * 0.952)),
    (0.8, 0.2, 0.5, 0.8),
    (0.0, 0.0, 0.048, None),
    (None, 0.1, 0.048, None),
])
def test_precision_at_base_rate(tpr, fpr, base, want):
    got = precision_at_base_rate(tpr, fpr, base)
    assert (got is None and want is None) or math.isclose(got, want)


# ---------------------------------------------------------------- dataset loading errors

@pytest.mark.parametrize("lines, message", [
    (['{"title": "a", "label": 1}', '{"title": "b", "label": 0'], ":2: invalid JSON"),
    (['{"title": "a"}'], ":1: missing 'label'"),
    (['{"title": "a", "label": 2}'], ":1: 'label' must be 0 or 1"),
    (['{"title": "a", "label": "1"}'], ":1: 'label' must be 0 or 1"),
    (['[1, 2]'], ":1: expected a JSON object"),
    (['{"title": "a", "label": 1, "split": "dev"}'], ":1: 'split' must be 'train' or 'test'"),
    (['{"id": "a", "label": 1}', '', '{"id": "a", "label": 0}'], ":3: duplicate id 'a'"),
    (['{"title": "a", "label": 1, "subtle": "yes"}'], ":1: 'subtle' must be 0 or 1"),
])
def test_load_dataset_errors_name_file_and_line(tmp_path, lines, message):
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_load_dataset_filters_split_and_reads_directories(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "title": "x", "label": 1, "split": "train", "lang": "th"},
                                       {"id": 2, "title": "y", "label": 0, "split": "test", "kind": "neg_generic"}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": 3, "salary_text": "$5", "label": True}])
    assert [e.ad.id for e in load_dataset(tmp_path)] == ["1", "2", "3"]
    assert [e.ad.id for e in load_dataset(tmp_path, split="test")] == ["2"]
    only = load_dataset(tmp_path / "b.jsonl")[0]
    assert only.label == 1 and only.ad.salary == "$5" and only.split == ""
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")


# ---------------------------------------------------------------- the CLI

TINY = [
    {"id": "l1", "title": "Customer service, Sihanoukville, Cambodia", "salary": "USD 1,500/month",
     "description": "No experience needed. Free flight, visa, food and accommodation. Leave within a week.",
     "contact": "Telegram @hr_kh", "label": 1, "lang": "en", "kind": "lure_blatant", "split": "test"},
    {"id": "l2", "title": "Chat support abroad", "description": "Neighbouring country office, airfare covered.",
     "contact": "tele gram: hr_x", "label": 1, "lang": "en", "kind": "lure_subtle", "subtle": 1, "split": "test"},
    {"id": "n1", "title": "Senior Accountant", "company": "Harrow LLP", "location": "Leeds, UK",
     "description": "ACCA qualified, hybrid working, pension.", "label": 0, "lang": "en", "kind": "neg_generic",
     "split": "test"},
    {"id": "f1", "title": "Package inspector from home", "description": "Receive parcels at home and reship them.",
     "label": 0, "lang": "en", "kind": "neg_fraud_ordinary", "fraud": 1, "split": "train"},
]


def test_cli_json_shape(tmp_path):
    path = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    res = run_eval(str(path), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"datasets", "split", "overall", "by_lang", "by_kind", "subtle_recall", "hard_negative_flag_rate",
            "fraud", "targets", "missed", "false_positives", "ruleset_version"} <= set(out)
    assert out["overall"]["n"] == 4 and out["overall"]["positives"] == 2
    assert set(out["overall"]) >= {"precision", "recall", "f1", "fpr", "tp", "fp", "fn", "tn"}
    assert out["by_lang"]["en"]["n"] == 4
    assert {k: v["n"] for k, v in out["by_kind"].items()} == {"lure_blatant": 1, "lure_subtle": 1, "neg_generic": 1,
                                                              "neg_fraud_ordinary": 1}
    assert out["subtle_recall"]["n"] == 1 and out["fraud"]["caught"]["n"] == 1
    assert out["hard_negative_flag_rate"]["n"] == 1  # the fraud row; neg_generic is not a hard negative
    assert set(out["targets"]) == set(TARGETS)
    assert "emscad" not in out


def test_cli_split_and_threshold(tmp_path):
    path = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    out = json.loads(run_eval(str(path), "--split", "test", "--threshold", "0", "--json").stdout)
    assert out["overall"]["n"] == 3 and out["threshold"] == 0
    assert out["overall"]["tp"] == 2 and out["overall"]["fp"] == 1  # score >= 0 flags everything


def test_cli_tables(tmp_path):
    path = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    res = run_eval(str(path))
    assert res.returncode == 0, res.stderr
    for text in ("Lure detection on", "Per language", "Per kind", "precision", "recall", "FP rate",
                 "Subtle-lure recall:", "Hard-negative flag rate:", "Fraud signal:", "Target recall:"):
        assert text in res.stdout, text


@pytest.mark.parametrize("lines, message", [
    (['{"title": "a", "label": 1}', '{oops}'], "bad.jsonl:2: invalid JSON"),
    (['{"title": "a", "lang": "th"}'], "bad.jsonl:1: missing 'label'"),
])
def test_cli_errors_name_file_and_line(tmp_path, lines, message):
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    res = run_eval(str(path))
    assert res.returncode != 0 and message in res.stderr and "Traceback" not in res.stderr


def test_cli_missing_inputs(tmp_path):
    res = run_eval(str(tmp_path / "nope.jsonl"))
    assert res.returncode != 0 and "nope.jsonl: no such file" in res.stderr
    res = run_eval("--emscad", str(tmp_path / "nope.csv"))
    assert res.returncode != 0 and "EMSCAD file not found" in res.stderr and "nope.csv" in res.stderr
    write_jsonl(tmp_path / "t.jsonl", [{"title": "x", "label": 1, "split": "train"}])
    res = run_eval(str(tmp_path / "t.jsonl"), "--split", "test")
    assert res.returncode != 0 and "no labelled rows" in res.stderr


EMSCAD_HEADER = ["job_id", "title", "location", "department", "salary_range", "company_profile", "description",
                 "requirements", "benefits", "industry", "function", "fraudulent"]


def write_emscad(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(EMSCAD_HEADER)
        w.writerows(rows)
    return path


def test_cli_emscad_on_a_small_csv(tmp_path):
    path = write_emscad(tmp_path / "mini.csv", [
        ["1", "Accountant", "GB, , Leeds", "", "30000-35000", "We audit.", "Prepare accounts.", "ACCA", "Pension",
         "Accounting", "Finance", "0"],
        ["2", "Nurse", "US, NY, New York", "", "", "", "Care for patients, multi-line\ndescription.", "RN", "", "", "", "0"],
        ["3", "Data Entry - Work From Home", "US, , ", "", "", "", "Earn $500 a week from home, no experience.",
         "", "", "", "", "1"],
    ])
    res = run_eval("--emscad", str(path), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    em = out["emscad"]
    assert "overall" not in out  # --emscad alone does not run the dev set
    assert em["legit"] == 2 and em["fraud"] == 1
    for key in ("lure_flag_rate_legit", "lure_flag_rate_fraud", "fraud_flag_rate_legit", "fraud_flag_rate_fraud"):
        assert set(em[key]) == {"hits", "n", "rate"}
    assert em["fraud_precision_at_base_rate"]["base_rate"] == pytest.approx(0.048)
    tables = run_eval("--emscad", str(path))
    assert "Lure flag rate on real legit ads" in tables.stdout and "precision at the real base rate" in tables.stdout


def test_cli_emscad_bad_csv(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    res = run_eval("--emscad", str(bad))
    assert res.returncode != 0 and "bad.csv:1: not an EMSCAD CSV" in res.stderr
    odd = write_emscad(tmp_path / "odd.csv", [["1", "T", "", "", "", "", "d", "", "", "", "", "maybe"]])
    res = run_eval("--emscad", str(odd))
    assert res.returncode != 0 and "odd.csv:2: 'fraudulent' must be 0 or 1" in res.stderr


# ---------------------------------------------------------------- quality gate (the targets)
# A failing gate prints only aggregates: naming the missed test rows would invite tuning on them.

# The gates below are the dev set's original 17 language variants (the engine's first targets). The rows added
# with the language packs (t10: 26 more languages, t11: short posts in 43 variants) have their own gate further
# down, at the level the packs reached when they landed: see rules/devset/README.md for both measurements.
PACK_ROWS = ("t10a.jsonl", "t10b.jsonl", "t11_short.jsonl", "t11_newlang.jsonl")
# t12: short lures and warning posts in 43 variants, with a gate of their own (below).
SHORT_WARNING_ROWS = ("t12_short.jsonl",)
# t13: a third author's short lures, long lures, warning posts and honest posts in 43 variants (own gate, below).
THIRD_AUTHOR_ROWS = ("t13_short.jsonl",)
# t14: two more authors' long and short lures and five kinds of hard negative in 43 variants (own gate, below).
FOURTH_AUTHOR_ROWS = ("t14.jsonl",)
# t15: two more authors' short real-style posts and short negatives in 43 variants (own gate, below).
FIFTH_AUTHOR_ROWS = ("t15.jsonl",)
# t16: two more authors' lures in the style of those quoted in public reporting, 2-3 signals each (own gate, below).
SIXTH_AUTHOR_ROWS = ("t16.jsonl",)
# t17: two more authors to the t16 brief, languages swapped between them (own gate, below).
SEVENTH_AUTHOR_ROWS = ("t17.jsonl",)
LATER_ROWS = (PACK_ROWS + SHORT_WARNING_ROWS + THIRD_AUTHOR_ROWS + FOURTH_AUTHOR_ROWS + FIFTH_AUTHOR_ROWS
              + SIXTH_AUTHOR_ROWS + SEVENTH_AUTHOR_ROWS)


def _test_rows(names: tuple[str, ...] | None):
    """Test rows of the files named, or (None) of every file not in LATER_ROWS."""
    paths = [p for p in sorted(DEVSET_DIR.glob("*.jsonl"))
             if (p.name in names if names is not None else p.name not in LATER_ROWS)]
    return evaluate(load_dataset(paths, split="test"))


@pytest.fixture(scope="module")
def test_split_report() -> Report:
    return _test_rows(None)


@pytest.fixture(scope="module")
def pack_rows_report() -> Report:
    return _test_rows(PACK_ROWS)


def test_gate_pack_languages_on_test_split(pack_rows_report):
    """Regression gate for the languages added with the packs (not yet the issue's targets: 0.90 / 0.05)."""
    overall = pack_rows_report.overall
    recall, caught, lures = overall.recall, overall.tp, overall.positives
    fpr, flagged, negatives = overall.fpr, overall.fp, overall.negatives
    assert recall >= 0.80, f"recall {recall:.3f} ({caught}/{lures})"
    assert fpr <= 0.03, f"false positives {fpr:.3f} ({flagged}/{negatives})"
    missed_languages = [lang for lang, c in pack_rows_report.by_lang.items() if c.positives and not c.tp]
    assert not missed_languages, f"{len(missed_languages)} languages with every lure missed"


# Regression gates of the later author sets: (files, minimum recall, maximum false-positive rate), each at the
# level measured at the end of a stop minus a small margin (rules/devset/README.md has every measurement):
# t12 warning posts quote the bait (stop 14); t13 (stop 14); t14 59/65, 3/107 (stop 14); t15 43/65, 0/64 at the
# end of stop 15 and 51/65, 0/64 at the end of stop 16; t16 first look 25/65, 1/66, end of stop 16 39/65, 1/66;
# t17 first look 30/65, 0/66, end of stop 16 35/65, 0/66. t16 and t17 are below the target for real short
# posts (0.75).
LATER_GATES = [
    (SHORT_WARNING_ROWS, 0.70, 0.12),
    (THIRD_AUTHOR_ROWS, 0.83, 0.08),
    (FOURTH_AUTHOR_ROWS, 0.86, 0.05),
    (FIFTH_AUTHOR_ROWS, 0.74, 0.05),
    (SIXTH_AUTHOR_ROWS, 0.55, 0.05),
    (SEVENTH_AUTHOR_ROWS, 0.49, 0.05),
]


@pytest.mark.parametrize("names, min_recall, max_fpr", LATER_GATES, ids=[g[0][0] for g in LATER_GATES])
def test_gate_later_author_rows_on_test_split(names, min_recall, max_fpr):
    overall = _test_rows(names).overall  # plain numbers: no row ids in the output
    assert overall.recall >= min_recall, f"recall {overall.recall:.3f} ({overall.tp}/{overall.positives})"
    assert overall.fpr <= max_fpr, f"false positives {overall.fpr:.3f} ({overall.fp}/{overall.negatives})"


def test_gate_recall_on_test_split(test_split_report):
    overall = test_split_report.overall
    recall, caught, lures = overall.recall, overall.tp, overall.positives  # plain numbers: no row ids in the output
    assert recall >= 0.90, f"recall {recall:.3f} ({caught}/{lures})"


def test_gate_subtle_recall_on_test_split(test_split_report):
    rate, hits, n = test_split_report.subtle_recall.rate, test_split_report.subtle_recall.hits, test_split_report.subtle_recall.n
    assert rate >= 0.75, f"subtle recall {hits}/{n}"


def test_gate_hard_negative_flag_rate_on_test_split(test_split_report):
    rate, hits, n = (test_split_report.hard_negative_flags.rate, test_split_report.hard_negative_flags.hits,
                     test_split_report.hard_negative_flags.n)
    assert rate <= 0.035, f"hard negatives flagged {hits}/{n}"  # stop 14: 1.7%


@pytest.mark.slow
@pytest.mark.skipif(not EMSCAD_DEFAULT.is_file(), reason="../shared (EMSCAD) is not available")
def test_gate_emscad_legit_lure_flag_rate():
    r = evaluate_emscad(EMSCAD_DEFAULT)
    assert r.lure_on_legit.n > 500
    assert r.lure_on_legit.rate <= 0.01, f"{r.lure_on_legit.hits}/{r.lure_on_legit.n} legit ads flagged: {r.flagged_legit[:10]}"


def test_eval_counts_ads_in_languages_without_a_pack(tmp_path):
    rows = [{"id": "ka-1", "description": "სამუშაო კამბოჯაში, ხელფასი 3000$, უფასო ბილეთი, ტელეგრამი @hr_geo",
             "label": 1, "lang": "ka", "kind": "lure_short", "split": "test"},
            {"id": "en-1", "title": "Accountant", "description": "Accountant for our Manila office, CPA required.",
             "label": 0, "lang": "en", "kind": "neg_generic", "split": "test"}]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = json.loads(run_eval(str(path), "--json").stdout)
    assert out["language_not_covered"]["n"] == 1 and out["language_not_covered"]["positives"] == 1
    res = run_eval(str(path))
    assert "In a language no pack covers: 1 ads" in res.stdout
