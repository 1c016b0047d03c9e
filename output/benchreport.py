"""The engine bench's section of BENCHMARKS.md: the machine it ran on and the tables of `output.bench.run_bench`'s
results.

Example: render(run_bench(...), machine_info("pinned to CPU 0"))
"""
from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from output.synthetic import EMSCAD_CHARS, HELD_OUT_CHARS


def machine_info(pinned: str) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import datasketch
    import rapidfuzz

    load = "load average {:.1f} {:.1f} {:.1f} at the end (the machine is shared: other jobs inflate times)".format(
        *os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return (f"{cpu}; {os.cpu_count()} cores visible, {pinned}; {load}; Python {platform.python_version()} "
            f"on {platform.system()} {platform.release()}; rapidfuzz {rapidfuzz.__version__}, "
            f"datasketch {datasketch.__version__}")


def render(r: dict[str, Any], info: str) -> str:
    from rules.similarity import IndexParams

    p = IndexParams()
    s, l = r[f"scale_{r['small']}"], r[f"scale_{r['large']}"]
    ratio = l["per_ad"] / s["per_ad"]
    ms = lambda sec: f"{sec * 1000:.2f} ms"  # noqa: E731
    agree = "; ".join(f">= {floor}: {a} of {t}" for floor, (a, t) in r["agree"].items())
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (`python -m output.bench`) on {dt.date.today().isoformat()}.",
        f"Machine: {info}.",
        f"Clock: {'CPU time of the bench process (pinned to one core)' if r['clock'] == 'cpu' else 'wall time'}; "
        f"the whole run took {r['wall_total']:.0f} s of wall time.",
        "All numbers below were measured in one run; nothing is copied from elsewhere. Corpora and ads are",
        "generated deterministically (seeded) from phrase pools in 8 languages (`output/synthetic.py`).",
        f"Index parameters: {p.shingle}-char shingles ({p.shingle_unspaced} for unspaced scripts), "
        f"{p.num_perm} permutations, {p.bands} bands x {p.rows} rows, band buckets over {p.max_bucket} entries "
        f"skipped, at most {p.prerank} hits pre-ranked by shared bands, at most {p.max_candidates} candidates "
        "scored by rapidfuzz.",
        "",
        f"## (a) Throughput: {r['n_ads']:,} ads, {r['corpus']:,} known lures, one process, one core",
        "",
        f"Engine wired as `{r['engine_how']}`. Start-up = first import of the engine's modules (rules, numpy, "
        f"rapidfuzz) + engine load (with its contact extractor) + the index of the corpus file (`KnownLureIndex.load`: "
        f"the saved `.index.npz`, checked against the file's bytes; a fresh build takes {r['build_10k']:.2f} s), counted "
        f"once, with the caches kept between processes warm (checked ruleset, compiled regex code, saved index, the "
        f"engine's bytecode: one untimed process loads the engine and the index first); corpus generation and its file are not timed"
        f"{' (the engine was imported before the bench ran, so its import time is NOT counted)' if r.get('rules_preimported') else ''}."
        f" Ads: {r['ad_chars']:,.0f} characters on average over all fields, as long as the held-out ads "
        f"(~{HELD_OUT_CHARS}); a last row measures EMSCAD-length ads (~{EMSCAD_CHARS:,} characters). Languages: "
        f"every pack of the ruleset is loaded ({r.get('packs', '?')} packs).",
        "",
        "| what | ads/s (start-up included) | per ad | start-up |",
        "| --- | ---: | ---: | ---: |",
    ]
    if r["engine_ok"]:
        lines += [
            f"| full engine one ad at a time (`Engine.assess`: rules, pay, language, contacts, similarity) | {r['engine_ads_s']:,.0f} | "
            f"{ms(r['assess'] / r['n_ads'])} | {r['startup']:.2f} s (index load {r['index_load']:.2f} s; first import of the engine, numpy + rapidfuzz "
            f"{r['sim_import']:.2f} s) |",
            f"| full engine in batches (`assess_many`, as `lurewatch assess`, `import`, `rescan` and the crawl's assess "
            f"process run it; fresh process) | "
            f"{r['batch']['ads_s']:,.0f} | {ms(r['batch']['assess'] / r['n_ads'])} | {r['batch']['startup']:.2f} s |",
            f"| engine without the similarity stage | - | {ms(r['assess_nosim_per_ad'])} | - |",
            f"| full engine in batches on {r['batch_long']['n_ads']:,} EMSCAD-length ads "
            f"(~{EMSCAD_CHARS:,} characters; fresh process) | {r['batch_long']['ads_s']:,.0f} | "
            f"{ms(r['batch_long']['assess'] / r['batch_long']['n_ads'])} | {r['batch_long']['startup']:.2f} s |",
        ]
    else:
        lines.append("| full engine | not measured: the engine did not load (see above) | - | - |")
    lines += [
        f"| `extract_contacts` alone (part of the engine) | - | {ms(r['contacts_per_ad'])} | - |",
        f"| `detect_language` alone (part of the engine) | - | {ms(r['language_per_ad'])} | - |",
    ]
    if r.get("matching_per_ad") is not None:
        lines.append(f"| rule matching alone (normalise + trigger prefilter; part of the engine) | - | "
                     f"{ms(r['matching_per_ad'])} | - |")
    lines += [
        f"| index alone (`nearest`: MinHash LSH + rapidfuzz on <= {p.max_candidates}) | {r['index_ads_s']:,.0f} | "
        f"{ms(r['index_per_ad'])} | {r['sim_import'] + r['build_10k']:.2f} s (import + build) |",
        f"| brute force rapidfuzz over all {r['corpus']:,} (same scorer) | {r['brute_10k_ads_s']:,.1f} | "
        f"{ms(r['brute_10k_per_ad'])} | 0 s (timed on {r['brute_sample']} ads) |",
        "",
        f"Index build with datasketch `MinHashLSH` as the band store (`IndexParams(backend=\"datasketch\")`, "
        f"same signatures): {r['build_10k_datasketch']:.2f} s for {r['corpus']:,} entries, vs {r['build_10k']:.2f} s "
        "with the default sorted numpy band table.",
        "",
        (f"Engine ads/s without start-up: {r['engine_ads_s_warm']:,.0f}. " if r["engine_ok"] else "") +
        f"LSH candidates per query (before the cap): "
        f"median {r['cand_median']:.0f}, max {r['cand_max']}.",
        f"On the {r['brute_sample']} brute-force ads, the index named the same best lure as brute force, counted "
        f"by the brute-force best's similarity: {agree} (fresh synthetic lures share stock phrases with many "
        "entries, so their best match at 0.5-0.6 is one of many near-ties). Paraphrased corpus entries among the ads: "
        f"the index named the source for {r['paraphrase_recall'][0]} of {r['paraphrase_recall'][1]}.",
        "",
        f"## (b) Scaling: {r['small']:,} vs {r['large']:,} known lures",
        "",
        "Index queries for both sizes were timed in 8 alternating rounds.",
        "",
        "| known lures | index build | index per ad | LSH candidates (median / max) | brute force per ad |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, row in ((r["small"], s), (r["large"], l)):
        est = " (timed on {} of the ads{})".format(row["brute_n"], ", estimate" if size > r["small"] else "")
        lines.append(f"| {size:,} | {row['build']:.2f} s | {ms(row['per_ad'])} | {row['cand_median']:.0f} / "
                     f"{row['cand_max']} | {ms(row['brute_per_ad'])}{est} |")
    lines += [
        "",
        f"Index time per ad, {r['large']:,} / {r['small']:,}: **{ratio:.2f}x** (target <= 2x). "
        f"Brute force: {l['brute_per_ad'] / s['brute_per_ad']:.0f}x. Queries per size: {s['queries']:,}.",
        "",
        "Targets: >= 1,000 ads/s for the full engine with start-up included: " +
        (f"one ad at a time (`Engine.assess`) {'met' if r['engine_ads_s'] >= 1000 else 'NOT met'} "
         f"({r['engine_ads_s']:,.0f}); in batches (`assess_many`) "
         f"{'met' if r['batch']['ads_s'] >= 1000 else 'NOT met'} ({r['batch']['ads_s']:,.0f}); " if r["engine_ok"]
         else "not measured (engine did not load); ") +
        f"scaling <= 2x: {'met' if ratio <= 2 else 'NOT met'} ({ratio:.2f}x).",
        "",
    ]
    return "\n".join(lines)
