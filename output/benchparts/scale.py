"""Scale: `lurewatch import` against `assess` alone on the same realistic ads, then peak memory of import, export
(every format) and rescan (--workers 1 and 2), each command a child process measured with getrusage."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._scaledata import write_ads_jsonl

TITLE = "Scale: import, export and rescan"
LUREWATCH = Path(sys.executable).with_name("lurewatch")
# Runs COMMAND as its only child and prints that child's peak RSS and CPU (children included: rescan's workers).
MEASURE = ("import json, resource, subprocess, sys; rc = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'w'))"
           ".returncode; r = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(json.dumps({'rc': rc, 'rss_mb': r.ru_maxrss / 1024, 'cpu': r.ru_utime + r.ru_stime}))")


def measure(args: list[str], stdout: str = os.devnull) -> dict:
    """Run `lurewatch ARGS`: wall seconds, CPU seconds and peak RSS (MB) of its process tree."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, stdout, str(LUREWATCH), *args], capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"lurewatch {' '.join(args)} exited {result['rc']}")
    return {**result, "wall": time.perf_counter() - start}


def run(quick: bool) -> str:
    n = 200 if quick else int(os.environ.get("LUREWATCH_SCALE_ADS", 100_000))  # a loaded machine: fewer
    formats = ("jsonl", "stix") if quick else ("csv", "jsonl", "stix", "misp")
    with tempfile.TemporaryDirectory(prefix="lurewatch-scale-") as tmp:
        data, db = Path(tmp) / "ads.jsonl", Path(tmp) / "scale.db"
        start = time.perf_counter()
        write_ads_jsonl(data, n)
        made = time.perf_counter() - start
        rows = {"assess": measure(["assess", str(data), "--json"])}
        rows["import"] = measure(["import", str(data), "--db", str(db)])
        if not quick:
            rows["import again (all unchanged)"] = measure(["import", str(data), "--db", str(db)])
            rows["import --workers 2"] = measure(["import", str(data), "--db", str(Path(tmp) / "two.db"),
                                                  "--workers", "2"])
            for leftover in Path(tmp).glob("two.db*"):
                leftover.unlink()
        size = db.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("scale.db-*"))
        for fmt in formats:
            out = Path(tmp) / f"export.{fmt}"
            rows[f"export {fmt} (every ad)"] = measure(["export", "--db", str(db), "--format", fmt, "--out", str(out),
                                                        "--min-score", "0"])
            out.unlink()
        for workers in ("1", "2"):
            rows[f"rescan --workers {workers}"] = measure(["rescan", "--db", str(db), "--workers", workers])
    return render(n, made, size, rows)


def render(n: int, made: float, size: int, rows: dict[str, dict]) -> str:
    from output.bench import machine_info

    assess, imported = rows["assess"], rows["import"]
    lines = [
        f"{n:,} realistic ads (`output/benchparts/_scaledata.py`: `synthetic_ads` padded to ~900 characters, 10 "
        f"sources; written in {made:.1f} s) as one JSON Lines file. Each command runs as a child process; peak RSS "
        "is its process tree's largest (getrusage RUSAGE_CHILDREN), CPU includes its workers.",
        "",
        "| command | wall s | CPU s | ads/s (wall) | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(f"| `{name}` | {r['wall']:.1f} | {r['cpu']:.1f} | {n / r['wall']:,.0f} | {r['rss_mb']:.0f} |")
    rescan1, rescan2 = rows["rescan --workers 1"], rows["rescan --workers 2"]
    lines += [
        "",
        f"- `import` against `assess` alone on the same file: **{imported['wall'] / assess['wall']:.2f}x** wall, "
        f"{imported['cpu'] / assess['cpu']:.2f}x CPU (goal: at most 1.5x); import stores "
        f"{n / imported['wall']:,.0f} ads/s"
        + (f", with `--workers 2` {rows['import --workers 2']['wall'] / assess['wall']:.2f}x wall "
           f"({n / rows['import --workers 2']['wall']:,.0f} ads/s)." if "import --workers 2" in rows else "."),
        f"- database: {size / n / 1024:.1f} KB per ad ({size / 2**20:,.0f} MB, no snapshots: imported ads have none).",
        f"- `rescan --workers 2` against `--workers 1`: {rescan1['wall'] / rescan2['wall']:.2f}x faster (wall).",
        f"- peak RSS over every command: {max(r['rss_mb'] for r in rows.values()):.0f} MB (goal: at most 300 MB).",
        "",
        f"Machine: {machine_info('not pinned')}",
    ]
    return "\n".join(lines)
