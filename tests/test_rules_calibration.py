"""Calibration: the tiny logistic fit, threshold choice, the stored file, and the refit command."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rules.calibration import CALIBRATION_PATH, Calibration, choose_threshold, fit_logistic

ROOT = Path(__file__).resolve().parents[1]


def test_fit_logistic_learns_signs():
    x = [[1, 0], [1, 1], [0, 1], [0, 0], [1, 0], [0, 1]] * 5
    y = [1, 1, 0, 0, 1, 0] * 5
    b, w = fit_logistic(x, y, ["good", "noise"], l2=0.001, steps=3000)
    assert w["good"] > 1.0
    assert abs(w["noise"]) < w["good"]


def test_sign_constraints_hold():
    x = [[1], [0], [1], [0]]
    y = [0, 1, 0, 1]  # the feature predicts negatives; constrained non-negative it must stay >= 0
    _, w = fit_logistic(x, y, ["f"], nonneg={"f"})
    assert w["f"] >= 0


@pytest.mark.parametrize("probs, labels, lo, hi", [
    ([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0], 0.3, 0.8),
    ([0.9, 0.6, 0.55, 0.1], [1, 0, 1, 0], 0.1, 0.9),
])
def test_choose_threshold_separates(probs, labels, lo, hi):
    t = choose_threshold(probs, labels)
    assert lo < t < hi


def test_shipped_calibration_loads_and_is_fitted():
    cal = Calibration.load()
    assert cal.lure.weights and cal.fraud.weights
    assert 0 < cal.lure.threshold < 1
    assert cal.lure.weights.get("mitigating", 0) <= 0
    assert cal.min_strength >= 1.0


def test_malformed_calibration_names_the_file(tmp_path):
    bad = tmp_path / "cal.yaml"
    bad.write_text("lure: {weights: {}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cal.yaml"):
        Calibration.load(bad)


def _row(i, label, fraud=0, split="train"):
    lure = ("Chat support in Sihanoukville, no experience, free visa and flight, food and housing free, "
            "contact Telegram @hr_desk%d" % i)
    legit = "Accountant in Leeds, 3 years of experience required, pension and annual leave. Apply on our site %d." % i
    mule = "Payment processing agent: receive payments into your personal bank account and keep 10%% (%d)" % i
    text = lure if label else (mule if fraud else legit)
    return {"id": str(i), "title": text[:40], "description": text, "label": label, "fraud": fraud, "split": split}


def test_refit_command_writes_a_loadable_file(tmp_path):
    devset = tmp_path / "devset"
    devset.mkdir()
    rows = [_row(i, 1) for i in range(8)] + [_row(100 + i, 0) for i in range(8)] + \
           [_row(200 + i, 0, fraud=1) for i in range(5)] + [_row(300 + i, 1, split="test") for i in range(3)]
    (devset / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "cal.yaml"
    before = CALIBRATION_PATH.read_bytes()
    res = subprocess.run([sys.executable, "-m", "rules.calibration", "--devset", str(devset), "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert CALIBRATION_PATH.read_bytes() == before  # --out elsewhere leaves the shipped file alone
    cal = Calibration.load(out)
    assert cal.meta["rows"] == 21  # the 3 test-split rows are never read
    report = json.loads(res.stdout.split("train:", 1)[1].splitlines()[0])
    assert report["lure"]["recall"] == 1.0 and report["lure"]["precision"] == 1.0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["lure"]["weights"]


def test_refit_without_train_rows_fails_cleanly(tmp_path):
    res = subprocess.run([sys.executable, "-m", "rules.calibration", "--devset", str(tmp_path), "--dry-run"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2
    assert "no split=train rows" in res.stderr
