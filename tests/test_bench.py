"""Smoke run of the bench code path on tiny sizes (no timing asserts)."""
import subprocess
import sys
from pathlib import Path

import pytest

from output.bench import synthetic_ads, synthetic_lures
from output.benchparts import part_names, replace_section

ROOT = Path(__file__).resolve().parent.parent


def test_generators_are_deterministic_and_varied():
    a, b = synthetic_lures(200, seed=3), synthetic_lures(200, seed=3)
    assert a == b
    texts = [e["text"] for e in a]
    assert len(set(texts)) == len(texts)
    assert len({e["lang"] for e in a}) >= 6
    ads = synthetic_ads(100, a, seed=4)
    assert ads == synthetic_ads(100, a, seed=4)
    assert any(ad["paraphrase_of"] for ad in ads) and any(ad["company"] for ad in ads)


def test_bench_writes_the_report(tmp_path):
    out = tmp_path / "BENCH.md"
    proc = subprocess.run(
        [sys.executable, "-m", "output.bench", "--part", "engine", "--ads", "60", "--corpus", "300", "--small", "100",
         "--large", "400", "--brute-sample", "4", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = out.read_text(encoding="utf-8")
    for heading in ("## (a) Throughput: 60 ads, 300 known lures", "## (b) Scaling: 100 vs 400 known lures",
                    "| 100 |", "| 400 |", "brute force", "Machine:", "full engine in batches (`assess_many`"):
        assert heading in report


def test_a_part_rewrites_only_its_own_section():
    doc = "<!-- bench:engine -->\nold engine\n<!-- /bench:engine -->\n\n### Notes of an earlier pass\nkept\n"
    doc = replace_section(doc, "store", "## Store\nfirst")
    assert doc.index("<!-- /bench:engine -->") < doc.index("<!-- bench:store -->") < doc.index("### Notes")
    doc = replace_section(doc, "engine", "new engine")
    doc = replace_section(doc, "store", "## Store\nsecond")
    assert "old engine" not in doc and "new engine" in doc and "first" not in doc and "second" in doc
    assert doc.endswith("### Notes of an earlier pass\nkept\n") and doc.count("<!-- bench:store -->") == 1


@pytest.mark.parametrize("name", part_names())
def test_every_bench_part_runs_quick_and_keeps_the_rest(tmp_path, name):
    out = tmp_path / "BENCH.md"
    out.write_text("<!-- bench:engine -->\nengine numbers\n<!-- /bench:engine -->\n\nhand-written notes\n")
    proc = subprocess.run([sys.executable, "-m", "output.bench", "--part", name, "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert f"<!-- bench:{name} -->" in report and "engine numbers" in report and "hand-written notes" in report
    section = report.split(f"<!-- bench:{name} -->")[1].split(f"<!-- /bench:{name} -->")[0]
    assert section.strip().startswith("## ") and len(section.strip().splitlines()) >= 3
