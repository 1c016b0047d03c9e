"""Scale: `lurewatch import` against `assess` alone on the same realistic ads, then peak memory of every command
that touches the whole store (import, export in every format, status, alerts status, eval --reviews, rescan
--workers 1 and 2, campaigns --full), each command a child process measured with getrusage (_rss.py).

On a database built elsewhere (the 1M-ad one), only the peak-memory rows, in place:

    python -m output.benchparts.scale --db PATH --rss        (same as python -m output.benchparts._rss --db PATH)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ._rss import measure, measure_store, table
from ._scaledata import write_ads_jsonl

TITLE = "Scale: import, export and rescan"


def run(quick: bool) -> str:
    n = 200 if quick else int(os.environ.get("LUREWATCH_SCALE_ADS", 100_000))  # a loaded machine: fewer
    formats = ("stix",) if quick else ("csv", "jsonl", "stix", "misp")  # quick: a smoke run, few processes
    with tempfile.TemporaryDirectory(prefix="lurewatch-scale-") as tmp:
        data, db = Path(tmp) / "ads.jsonl", Path(tmp) / "scale.db"
        start = time.perf_counter()
        write_ads_jsonl(data, n)
        made = time.perf_counter() - start
        rows = {} if quick else {"assess": measure(["assess", str(data), "--json"])}  # quick: 3 processes only
        rows["import"] = measure(["import", str(data), "--db", str(db)])
        if not quick:
            rows["import again (all unchanged)"] = measure(["import", str(data), "--db", str(db)])
            rows["import --workers 2"] = measure(["import", str(data), "--db", str(Path(tmp) / "two.db"),
                                                  "--workers", "2"])
            for leftover in Path(tmp).glob("two.db*"):
                leftover.unlink()
        size = db.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("scale.db-*"))
        rows.update(measure_store(db, {"export", "status", "rescan"} if quick else None, formats=formats,
                                  workers=("2",) if quick else ("1", "2"), batch="50" if quick else "500"))
    return render(n, made, size, rows)


def render(n: int, made: float, size: int, rows: dict[str, dict]) -> str:
    from output.bench import machine_info

    imported = rows["import"]
    lines = [
        f"{n:,} realistic ads (`output/benchparts/_scaledata.py`: `synthetic_ads` padded to ~900 characters, 10 "
        f"sources; written in {made:.1f} s) as one JSON Lines file. Each command runs as a child process; peak RSS "
        "is its process tree's largest (getrusage RUSAGE_CHILDREN), CPU includes its workers. The store commands "
        "run in the order shown; `rescan` finds the imported store never linked (it leaves that to `campaigns "
        "--full`, measured last).",
        "",
        *table(rows, n),
    ]
    lines.append("")
    if "assess" in rows:
        assess, two = rows["assess"], rows.get("import --workers 2")
        lines.append(
            f"- `import` against `assess` alone on the same file: **{imported['wall'] / assess['wall']:.2f}x** wall, "
            f"{imported['cpu'] / assess['cpu']:.2f}x CPU (goal: at most 1.5x); import stores "
            f"{n / imported['wall']:,.0f} ads/s ({n / imported['cpu']:,.0f} per CPU second)"
            + (f", with `--workers 2` {two['wall'] / assess['wall']:.2f}x wall ({n / two['wall']:,.0f} ads/s)." if two
               else "."))
    if "rescan --workers 1" in rows:
        lines.append(f"- `rescan --workers 2` against `--workers 1`: "
                     f"{rows['rescan --workers 1']['wall'] / rows['rescan --workers 2']['wall']:.2f}x faster (wall).")
    lines += [
        f"- database: {size / n / 1024:.1f} KB per ad ({size / 2**20:,.0f} MB, no snapshots: imported ads have none).",
        f"- peak RSS over every command: {max(r['rss_mb'] for r in rows.values()):.0f} MB (goal: at most 300 MB).",
        "",
        f"Machine: {machine_info('not pinned')}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if "--rss" not in sys.argv[1:]:
        sys.exit("usage: python -m output.benchparts.scale --db PATH --rss [--only rescan,campaigns] "
                 "(the whole part runs with: python -m output.bench --part scale)")
    from ._rss import main

    main([a for a in sys.argv[1:] if a != "--rss"])
