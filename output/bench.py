"""`make bench`: throughput of the engine with a large known-lure corpus, and how the
similarity index scales against a brute-force rapidfuzz scan. Writes BENCHMARKS.md.

Everything is generated deterministically (seeded, output/synthetic.py): synthetic lure corpora made by
recombining phrase pools in eight languages, and realistic ads (mostly legitimate, some
lures, some paraphrases of corpus entries) to assess. One process, pinned to one core.
The report's text is output/benchreport.py.

Usage: python -m output.bench [--ads N] [--corpus N] [--small N] [--large N] [--out PATH]
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from output.benchreport import machine_info, render
# re-exported: bench parts and tests import the generators from here
from output.synthetic import (EMSCAD_CHARS, HELD_OUT_CHARS, LEGIT, SYLLABLES, lure_text,  # noqa: F401
                              paraphrase, synthetic_ads, synthetic_lures)

ROOT = Path(__file__).resolve().parent.parent
console = Console(stderr=True)


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
def pin_one_core() -> str:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def build_index(entries: list[dict[str, Any]]):
    from rules.similarity import KnownLureIndex

    index = KnownLureIndex()
    index.add_many(entries)
    index.build()
    return index


def make_engine(index):
    """The engine with a custom known-lure index (Engine.load(known_lures=...) when it exists)."""
    from rules import Engine

    try:
        return Engine.load(known_lures=index), "Engine.load(known_lures=index)"
    except TypeError:
        engine = Engine.load(with_similarity=False)
        engine.similarity = index
        return engine, "Engine.load(with_similarity=False) + engine.similarity = index"


@dataclass
class Row:
    what: str
    value: str
    note: str = ""


# CPU time of this (single-threaded, one-core) process by default: the machine is shared, and
# wall time would count other people's jobs. --clock wall switches.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = clock()
    out = fn()
    return clock() - t0, out


def run_over(items: list, fn: Callable[[Any], Any], label: str, progress: Progress | None) -> float:
    task = progress.add_task(label, total=len(items)) if progress else None
    t0 = clock()
    for i, item in enumerate(items):
        fn(item)
        if progress and (i % 50 == 0 or i == len(items) - 1):
            progress.update(task, completed=i + 1)
    return clock() - t0


def corpus_file(corpus: list[dict[str, Any]]) -> Path:
    """The corpus as a JSONL file, as a deployment keeps its known lures (written once, not timed), under
    $TMPDIR/lurewatch-bench, named by its content."""
    import hashlib
    import json
    import tempfile

    data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in corpus).encode()
    where = Path(tempfile.gettempdir()) / "lurewatch-bench"
    path = where / f"corpus-{hashlib.sha256(data).hexdigest()[:16]}.jsonl"
    if not path.exists():
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return path


def start_engine(corpus: list[dict[str, Any]], ads: list[dict[str, Any]]) -> dict[str, Any]:
    """Start-up as a user pays it, timed: first import of the engine's modules (numpy, rapidfuzz), the index
    of the corpus file (`KnownLureIndex.load`: its saved index, checked against the file's bytes, as every run after
    the first reads it), engine load. Writing the corpus file and converting the ads are not timed."""
    path = corpus_file(corpus)
    t0 = clock()
    import rules.similarity  # noqa: F401  first import of the engine's modules, numpy + rapidfuzz: start-up
    t_import = clock() - t0
    from rules.model import Ad

    ad_objs = [Ad.from_dict(a) for a in ads]
    t0 = clock() - t_import  # the import above is already start-up; the conversion is not
    index = rules.similarity.KnownLureIndex.load(path)
    t_build = clock() - t0 - t_import
    try:
        engine, how = make_engine(index)
    except Exception as exc:  # the ruleset is someone else's work in progress: still bench the index
        engine, how = None, f"engine failed to load: {exc}"
        console.print(f"[red]{how}[/red]")
    return {"index": index, "engine": engine, "ad_objs": ad_objs, "engine_how": how, "index_load": t_build,
            "startup": clock() - t0, "sim_import": t_import, "engine_ok": engine is not None}


def batch_throughput(n_ads: int, corpus_size: int, target_chars: int = HELD_OUT_CHARS) -> dict[str, float]:
    """Start-up + `engine.assess_many` over the same ads as the per-ad row (run in a fresh process)."""
    corpus = synthetic_lures(corpus_size, seed=1)
    ads = synthetic_ads(n_ads, corpus, seed=2, target_chars=target_chars)
    start = start_engine(corpus, ads)
    t_assess, _ = timed(lambda: start["engine"].assess_many(start["ad_objs"]))
    return {"startup": start["startup"], "assess": t_assess, "ads_s": n_ads / (start["startup"] + t_assess),
            "rules_preimported": False}


def batch_in_fresh_process(n_ads: int, corpus_size: int, target_chars: int = HELD_OUT_CHARS) -> dict[str, float]:
    import json
    import subprocess

    code = ("import json, output.bench as b; b.pin_one_core(); b.clock = b.CLOCKS[%r]; "
            "print(json.dumps(b.batch_throughput(%d, %d, %d)))" % (clock_name(), n_ads, corpus_size, target_chars))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def warm_caches(corpus: list[dict[str, Any]]) -> None:
    """Load the engine and the corpus's index once in another process (not timed), as any earlier run would have:
    the ruleset check, the compiled regex code (rules/ruleset_cache.py, rules/regex_store.py) and the built index
    of a corpus file (`<corpus>.index.npz`, keyed by the file's bytes) are kept between processes; building them
    once after a change costs seconds that no later start-up pays. The engine's bytecode (`__pycache__`) is
    written too, as Python does by default on any first import (a PYTHONDONTWRITEBYTECODE in the bench's
    environment would otherwise make every timed process compile the engine's source again: ~0.1 s)."""
    import compileall
    import subprocess

    compileall.compile_dir(ROOT / "rules", quiet=1)
    code = ("from rules import Engine; from rules.similarity import KnownLureIndex; "
            f"Engine.load(with_similarity=False); KnownLureIndex.load({str(corpus_file(corpus))!r})")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def clock_name() -> str:
    return next(name for name, fn in CLOCKS.items() if fn is clock)


def run_bench(n_ads: int = 5000, corpus_size: int = 10_000, small: int = 1_000, large: int = 100_000,
              brute_sample: int = 20, progress: Progress | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"n_ads": n_ads, "corpus": corpus_size, "small": small, "large": large,
                               "brute_sample": brute_sample}
    corpus = synthetic_lures(corpus_size, seed=1)  # generation is not timed, and imports nothing of rules
    ads = synthetic_ads(n_ads, corpus, seed=2)

    # (a) throughput, start-up included: imports of the engine, engine load + index build, then assess every ad
    results["rules_preimported"] = "rules" in sys.modules  # e.g. under pytest: import time then not counted
    warm_caches(corpus)
    start = start_engine(corpus, ads)
    index, engine, ad_objs = start.pop("index"), start.pop("engine"), start.pop("ad_objs")
    doc = [f"{a.title}\n{a.description}" for a in ad_objs]
    results["ad_chars"] = statistics.mean(sum(map(len, a.texts().values())) for a in ad_objs)
    from rules.ruleset import pack_paths

    results["packs"] = len(pack_paths())
    results.update(start)
    t_startup, t_import = start["startup"], start["sim_import"]
    t_build = results["build_10k"] = timed(lambda: build_index(corpus))[0]  # a fresh build, not in the start-up
    if engine is not None:
        t_assess = run_over(ad_objs, engine.assess, f"engine.assess x{n_ads}", progress)
        results.update(assess=t_assess, engine_ads_s=n_ads / (t_startup + t_assess),
                       engine_ads_s_warm=n_ads / t_assess)
        # batches (`lurewatch assess`, `rescan`): a fresh process, so its start-up and first use are cold too
        task = progress.add_task(f"engine.assess_many x{n_ads} (fresh process)", total=1) if progress else None
        results["batch"] = batch_in_fresh_process(n_ads, corpus_size)
        if progress:
            progress.update(task, completed=1)
        # EMSCAD-length ads (real job boards' long legitimate ads), in a fresh process too
        n_long = min(n_ads, 2000)
        task = progress.add_task(f"engine.assess_many x{n_long}, {EMSCAD_CHARS:,}-character ads", total=1) if progress else None
        results["batch_long"] = batch_in_fresh_process(n_long, corpus_size, EMSCAD_CHARS)
        results["batch_long"]["n_ads"] = n_long
        if progress:
            progress.update(task, completed=1)
        # the engine without the similarity stage, to show what the index costs inside it
        engine.similarity = None
        sub = ad_objs[: min(n_ads, 2000)]
        results["assess_nosim_per_ad"] = run_over(sub, engine.assess, "engine without similarity", progress) / len(sub)
        engine.similarity = index

    # contact extraction alone (it runs inside the engine)
    from rules.entities import extract_contacts

    sub = ad_objs[: min(n_ads, 2000)]
    results["contacts_per_ad"] = run_over(sub, extract_contacts, "extract_contacts", progress) / len(sub)
    # the other stages alone, on the same texts the engine gives them
    from rules.language import detect_language

    lang_texts = [" \n".join(getattr(a, k) for k in ("title", "description", "location")) for a in sub]
    results["language_per_ad"] = run_over(lang_texts, detect_language, "detect_language", progress) / len(sub)
    if engine is not None:
        from rules.engine import FIELD_SEP
        from rules.textnorm import normalise

        docs = [FIELD_SEP.join(a.texts().values()) for a in sub]
        results["matching_per_ad"] = run_over(
            docs, lambda d: list(engine.matcher.finditer(normalise(d).text)), "rule matching", progress) / len(sub)

    # the other candidate backend, datasketch MinHashLSH: same signatures, build time only
    from rules.similarity import IndexParams, KnownLureIndex

    ds = KnownLureIndex(IndexParams(backend="datasketch"))
    ds.add_many(corpus)
    results["build_10k_datasketch"] = timed(ds.build)[0]
    del ds

    # index alone over the same ads: candidates + rapidfuzz, and candidate counts
    cand_counts = []

    def query(text):
        index.nearest(text)
        cand_counts.append(index.last_candidates)

    t_index = run_over(doc, query, "index.nearest (10k)", progress)
    results.update(index_per_ad=t_index / n_ads, index_ads_s=n_ads / (t_import + t_build + t_index),
                   cand_median=statistics.median(cand_counts), cand_max=max(cand_counts))

    # recall on the paraphrased corpus entries among the ads (their source is known)
    para = [(d, a["paraphrase_of"]) for d, a in zip(doc, ads) if a.get("paraphrase_of")]
    hits = sum(1 for d, src in para if (m := index.nearest(d)) is not None and m.id == src)
    results["paraphrase_recall"] = (hits, len(para))

    # brute force, same scorer, same corpus: a timed subsample of the ads
    sample = doc[:brute_sample]
    t_brute = run_over(sample, index.brute_nearest, f"brute force 10k x{len(sample)}", progress)
    results["brute_10k_per_ad"] = t_brute / len(sample)
    results["brute_10k_ads_s"] = len(sample) / t_brute

    # agreement: how often the index finds the brute-force best, by how similar that best is
    pairs = []
    for text in sample:
        b, i = index.brute_nearest(text, min_similarity=0.0), index.nearest(text, min_similarity=0.0)
        pairs.append((b.similarity, i is not None and i.id == b.id))
    results["agree"] = {floor: (sum(ok for sim, ok in pairs if sim >= floor), sum(sim >= floor for sim, _ in pairs))
                        for floor in (0.5, 0.6, 0.7)}

    # (b) scaling: 1k vs 100k lures, index vs brute force. Both indexes are built first and their
    # queries are timed in alternating rounds, so load from other jobs hits both sizes alike.
    built = {}
    for size in (small, large):
        entries = synthetic_lures(size, seed=3)
        t_b, idx = timed(lambda: build_index(entries))
        q_ads = synthetic_ads(min(n_ads, 2000), entries, seed=4)
        built[size] = (idx, t_b, [f"{a['title']}\n{a['description']}" for a in q_ads], [], [0.0])
    rounds = 8
    task = progress.add_task("index.nearest, small and large in turns", total=rounds) if progress else None
    for rnd in range(rounds):
        for size, (idx, _, docs, counts, total) in built.items():
            chunk = docs[rnd::rounds]
            t0 = clock()
            for text in chunk:
                idx.nearest(text)
                counts.append(idx.last_candidates)
            total[0] += clock() - t0
        if progress:
            progress.update(task, completed=rnd + 1)
    for size, (idx, t_b, docs, counts, total) in built.items():
        n_brute = brute_sample if size <= small else max(3, brute_sample // 4)
        t_br = run_over(docs[:n_brute], idx.brute_nearest, f"brute force ({size:,}) x{n_brute}", progress)
        results[f"scale_{size}"] = {"build": t_b, "per_ad": total[0] / len(docs),
                                    "cand_median": statistics.median(counts), "cand_max": max(counts),
                                    "brute_per_ad": t_br / n_brute, "brute_n": n_brute, "queries": len(docs)}
    built.clear()
    return results


def part_choices() -> list[str]:
    from output.benchparts import part_names

    return ["engine", *part_names()]


@click.command()
@click.option("--part", "parts", multiple=True, type=click.Choice(part_choices()),
              help="run only these parts (repeatable); default: the engine and every part in output/benchparts/")
@click.option("--quick", is_flag=True, help="tiny sizes for every part (a smoke run: numbers are not meaningful)")
@click.option("--ads", "n_ads", default=5000, show_default=True, help="ads assessed in (a)")
@click.option("--corpus", "corpus_size", default=10_000, show_default=True, help="known lures in (a)")
@click.option("--small", default=1_000, show_default=True, help="small corpus in (b)")
@click.option("--large", default=100_000, show_default=True, help="large corpus in (b)")
@click.option("--brute-sample", default=20, show_default=True, help="ads timed for brute force")
@click.option("--clock", "clock_name", type=click.Choice(sorted(CLOCKS)), default="cpu", show_default=True,
              help="cpu: CPU time of this process (robust on a shared machine); wall: elapsed time")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=ROOT / "BENCHMARKS.md",
              show_default=True)
def main(parts: tuple[str, ...], quick: bool, n_ads: int, corpus_size: int, small: int, large: int,
         brute_sample: int, clock_name: str, out: Path) -> None:
    """Measure the engine, the similarity index and every bench part; update their sections of BENCHMARKS.md.

    Each part rewrites only its own section (see output/benchparts/__init__.py); other text in the file is kept.

    Example: python -m output.bench --ads 5000 --large 100000
    """
    from output.benchparts import load, replace_section

    global clock
    clock = CLOCKS[clock_name]
    document = out.read_text(encoding="utf-8") if out.exists() else ""
    for name in parts or part_choices():
        if name == "engine":
            pinned = pin_one_core()
            wall0 = time.perf_counter()
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=False) as progress:
                results = run_bench(n_ads, corpus_size, small, large, brute_sample, progress)
            results["clock"] = clock_name
            results["wall_total"] = time.perf_counter() - wall0
            text = render(results, machine_info(pinned))
        else:
            part = load(name)
            console.print(f"[bold]bench part {name}[/bold]: {part.TITLE}")
            text = f"## {part.TITLE}\n\n{part.run(quick=quick).strip()}\n"
        document = replace_section(document, name, text)
        out.write_text(document, encoding="utf-8")  # after each part: a later failure keeps what was measured
        console.print(text)
    console.print(f"[green]wrote {out}[/green]")


if __name__ == "__main__":
    sys.exit(main())
