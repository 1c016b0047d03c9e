"""Smoke run of the bench code path on tiny sizes (no timing asserts)."""
import subprocess
import sys
from pathlib import Path

from output.bench import synthetic_ads, synthetic_lures

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
        [sys.executable, "-m", "output.bench", "--ads", "60", "--corpus", "300", "--small", "100",
         "--large", "400", "--brute-sample", "4", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = out.read_text(encoding="utf-8")
    for heading in ("## (a) Throughput: 60 ads, 300 known lures", "## (b) Scaling: 100 vs 400 known lures",
                    "| 100 |", "| 400 |", "brute force", "Machine:", "full engine in batches (`assess_many`"):
        assert heading in report
