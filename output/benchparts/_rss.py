"""Peak RSS of every CLI command that reads or rewrites a whole store, each run as a child process on one database.

The scale part (output/benchparts/scale.py) runs it on its 100,000-ad database; on any other database (the 1M-ad
one built with `import`):

    python -m output.benchparts._rss --db PATH [--only rescan,campaigns] [--workers 2]

prints a markdown table (wall s, CPU s, peak RSS MB per command). It works IN PLACE: `rescan` re-assesses every ad
(the same verdicts again for an unchanged engine) and `campaigns --full` rebuilds the links; exports go to a
temporary directory. Peak RSS is the command's process tree's largest (getrusage RUSAGE_CHILDREN).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LUREWATCH = Path(sys.executable).with_name("lurewatch")
# Runs COMMAND as its only child and prints that child's peak RSS and CPU (children included: rescan's workers).
MEASURE = ("import json, resource, subprocess, sys; rc = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'w'))"
           ".returncode; r = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(json.dumps({'rc': rc, 'rss_mb': r.ru_maxrss / 1024, 'cpu': r.ru_utime + r.ru_stime}))")
FORMATS = ("csv", "jsonl", "stix", "misp")
GOAL_MB = 300


def measure(args: list[str], stdout: str = os.devnull) -> dict:
    """Run `lurewatch ARGS`: wall seconds, CPU seconds and peak RSS (MB) of its process tree."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, stdout, str(LUREWATCH), *args], capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"lurewatch {' '.join(args)} exited {result['rc']}")
    return {**result, "wall": time.perf_counter() - start}


def store_commands(db: Path, out_dir: Path, formats=FORMATS, workers=("1", "2"),
                   batch: str = "500") -> dict[str, list[str]]:
    """{row name: lurewatch args} of every command that touches the whole store (read-only ones first)."""
    commands = {f"export {fmt} (every ad)": ["export", "--db", str(db), "--format", fmt, "--out",
                                             str(out_dir / f"export.{fmt}"), "--min-score", "0"] for fmt in formats}
    commands["status"] = ["status", "--db", str(db)]
    commands["alerts status"] = ["alerts", "status", "--db", str(db)]
    commands["eval --reviews"] = ["eval", "--reviews", "--db", str(db)]
    for n in workers:
        commands[f"rescan --workers {n}"] = ["rescan", "--db", str(db), "--workers", n, "--batch", batch]
    commands["campaigns --full"] = ["campaigns", "--db", str(db), "--full"]
    return commands


def measure_store(db: Path, only: set[str] | None = None, **kwargs) -> dict[str, dict]:
    """Each command of store_commands measured in turn (`only`: rows whose name starts with one of these)."""
    rows = {}
    with tempfile.TemporaryDirectory(prefix="lurewatch-rss-") as tmp:
        for name, args in store_commands(db, Path(tmp), **kwargs).items():
            if only and not any(name.startswith(o) for o in only):
                continue
            rows[name] = measure(args)
            for leftover in Path(tmp).iterdir():
                leftover.unlink()
    return rows


def table(rows: dict[str, dict], n: int | None = None) -> list[str]:
    lines = ["| command | wall s | CPU s | ads/s (wall) | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for name, r in rows.items():
        rate = f"{n / r['wall']:,.0f}" if n else "-"
        over = " **over**" if r["rss_mb"] > GOAL_MB else ""
        lines.append(f"| `{name}` | {r['wall']:.1f} | {r['cpu']:.1f} | {rate} | {r['rss_mb']:.0f}{over} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="an existing Lurewatch database (changed in place)")
    parser.add_argument("--only", default="", help="comma-separated row names (prefixes): export,rescan,campaigns")
    parser.add_argument("--workers", default="1,2", help="rescan --workers values to measure (default 1,2)")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        parser.error(f"database not found: {args.db}")
    import sqlite3

    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        n = conn.execute("SELECT count(*) FROM ads").fetchone()[0]
    only = {o.strip() for o in args.only.split(",") if o.strip()} or None
    rows = measure_store(args.db, only, workers=tuple(w for w in args.workers.split(",") if w))
    print(f"{n:,} ads in {args.db}\n")
    print("\n".join(table(rows, n)))
    print(f"\npeak RSS over every command: {max(r['rss_mb'] for r in rows.values()):.0f} MB "
          f"(goal: at most {GOAL_MB} MB)")


if __name__ == "__main__":
    main()
