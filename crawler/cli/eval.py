"""`lurewatch eval`: precision/recall of the engine on labelled ads (dev set) and on EMSCAD."""
from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rules import Engine
from rules.emscad import (
    EMSCAD_BASE_RATE,
    EMSCAD_DEFAULT,
    EMSCAD_FRAUD_LEGIT_TARGET,
    EMSCAD_LEGIT_FLAG_TARGET,
    EmscadError,
    EmscadReport,
    evaluate_emscad,
)
from rules.evaluate import DEVSET_DIR, SPLITS, Counts, DatasetError, Report, evaluate, load_dataset

from . import cli


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _progress(console: Console):
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""

    def run(items, total, label):
        if not console.is_terminal:
            yield from items
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task(label, total=total)
            for item in items:
                yield item
                bar.advance(task)

    return run


def _counts_table(title: str, groups: dict[str, Counts], first: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in (first, "n", "lures", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "FP rate"):
        table.add_column(col, justify="left" if col == first else "right", no_wrap=True)
    for name, c in groups.items():
        table.add_row(name, str(c.n), str(c.positives), str(c.tp), str(c.fp), str(c.fn), str(c.tn),
                      _pct(c.precision), _pct(c.recall), _pct(c.f1), _pct(c.fpr))
    return table


def _print_report(console: Console, report: Report, what: str, show_ids: bool = True) -> None:
    console.print(_counts_table(f"Lure detection on {what}", {"overall": report.overall}, ""))
    console.print(_counts_table("Per language", dict(sorted(report.by_lang.items())), "lang"))
    console.print(_counts_table("Per kind", dict(sorted(report.by_kind.items())), "kind"))
    s, h = report.subtle_recall, report.hard_negative_flags
    fc, fa = report.fraud_caught, report.fraud_false_alarms
    console.print(f"Subtle-lure recall: {_pct(s.rate)} ({s.hits}/{s.n})")
    console.print(f"Hard-negative flag rate: {_pct(h.rate)} ({h.hits}/{h.n})")
    console.print(f"Fraud signal: {_pct(fc.rate)} of ordinary-fraud rows fraud_flagged ({fc.hits}/{fc.n}); "
                  f"{_pct(fa.rate)} of legit negatives fraud_flagged ({fa.hits}/{fa.n})")
    nc = report.not_covered
    console.print(f"In a language no pack covers: {nc.n} ads ({nc.tp}/{nc.positives} lures flagged, "
                  f"{nc.fp}/{nc.negatives} negatives flagged)")
    for name, t in report.targets().items():
        mark = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "n/a"}[t["met"]]
        console.print(f"Target {name}: {_pct(t['value'])} (target {'<=' if 'rate' in name else '>='} "
                      f"{_pct(t['target'])}) {mark}")
    if not show_ids:
        console.print("Ids of missed lures and false positives are not shown for the test split (it measures, it is "
                      "not for tuning).")
        return
    if report.missed:
        console.print(f"Missed lures ({len(report.missed)}): {', '.join(report.missed[:20])}"
                      + (" ..." if len(report.missed) > 20 else ""))
    if report.false_positives:
        console.print(f"False positives ({len(report.false_positives)}): {', '.join(report.false_positives[:20])}"
                      + (" ..." if len(report.false_positives) > 20 else ""))


def _print_emscad(console: Console, r: EmscadReport) -> None:
    table = Table(title=f"EMSCAD ({r.path})", title_justify="left")
    for col in ("side", "ads", "groups", "n", "lure flagged", "fraud_flagged"):
        table.add_column(col, justify="left" if col in ("side", "ads") else "right")
    for side, c in (*r.sides.items(), ("all", r.all)):
        for label, name, lure, fraud in ((0, "legit", c.lure_on_legit, c.fraud_on_legit),
                                         (1, "fraud", c.lure_on_fraud, c.fraud_on_fraud)):
            table.add_row(side, name, str(len(c.groups[label])), str(lure.n),
                          f"{_pct(lure.rate)} ({lure.hits})", f"{_pct(fraud.rate)} ({fraud.hits})")
    console.print(table)
    console.print(f"Split: {r.split_method}.")
    t = r.test
    mark = {True: "[green]met[/]", False: "[red]MISSED[/]", None: "n/a"}
    console.print(f"Fraud signal on the TEST groups (fraud_flagged, threshold calibrated on the train groups): "
                  f"recall {_pct(t.fraud_on_fraud.rate)} ({t.fraud_on_fraud.hits}/{t.fraud_on_fraud.n}) at "
                  f"{_pct(t.fraud_on_legit.rate)} of legit ads fraud-flagged ({t.fraud_on_legit.hits}/"
                  f"{t.fraud_on_legit.n}; target <= {_pct(EMSCAD_FRAUD_LEGIT_TARGET)}) {mark[r.fraud_target_met]}")
    console.print(f"Lure flag rate on real legit ads (all): {_pct(r.lure_on_legit.rate)} "
                  f"({r.lure_on_legit.hits}/{r.lure_on_legit.n}; target <= {_pct(EMSCAD_LEGIT_FLAG_TARGET)}) "
                  f"{mark[r.legit_target_met]}")
    console.print(f"Fraud signal precision at the real base rate ({_pct(EMSCAD_BASE_RATE)} fraud, test groups): "
                  f"{_pct(r.fraud_precision_at_base_rate)}")
    for item in r.flagged_legit[:10]:
        console.print(f"  legit flagged: line {item['line']} {item['title']!r} score {item['score']}: {item['summary']}")


def _tally_table(title: str, weeks: dict, first: str, categories: dict | None = None) -> Table:
    """One row per (week, rule or category); `weeks`: week -> name -> Tally."""
    table = Table(title=title, title_justify="left")
    cols = ("week", first, *(("category",) if categories is not None else ()), "hits", "decided", "confirmed",
            "rejected", "unsure", "precision")
    for col in cols:
        table.add_column(col, justify="left" if col in ("week", first, "category") else "right", no_wrap=True)
    for week, tallies in weeks.items():
        for name, t in sorted(tallies.items()):
            table.add_row(week, name, *((categories.get(name, ""),) if categories is not None else ()),
                          str(t.hits), str(t.decided), str(t.confirmed), str(t.rejected), str(t.unsure),
                          _pct(t.precision))
    return table


def _print_reviews(console: Console, report, db_path) -> None:
    from crawler.reviewstats import ALL_WEEKS

    counts = ", ".join(f"{v} {n}" for v, n in report.verdicts.items())
    console.print(f"Reviewed ads in {db_path}: {report.ads} ({counts}); latest verdict per ad")
    if not report.ads:
        return
    weeks = [ALL_WEEKS, *report.weeks]
    console.print(_tally_table("Precision per rule, all weeks then week by week",
                               {w: report.by_rule[w] for w in weeks}, "rule", report.rule_category))
    console.print(_tally_table("Precision per category, all weeks then week by week",
                               {w: report.by_category[w] for w in weeks}, "category"))
    rejected = report.most_rejected()
    if not rejected:
        console.print("No rule hit on an ad analysts rejected (not_lure).")
        return
    table = Table(title="Rules whose hits analysts most often reject (not_lure)", title_justify="left")
    for col in ("rule", "category", "rejected", "decided", "rejection rate"):
        table.add_column(col, justify="left" if col in ("rule", "category") else "right", no_wrap=True)
    for rule, t in rejected:
        table.add_row(rule, report.rule_category[rule], str(t.rejected), str(t.decided), _pct(t.rejection_rate))
    console.print(table)


def _load_engine() -> Engine:
    try:
        return Engine.load()
    except ValueError as exc:  # RulesetError names file:line and rule
        raise click.ClickException(f"cannot load the ruleset: {exc}")


@cli.command("eval")
@click.argument("datasets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--split", type=click.Choice(SPLITS), default="all", show_default=True,
              help="Rows of this split only (the dev set's `split` field).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--threshold", type=click.IntRange(0, 100), default=None,
              help="Flag when score >= THRESHOLD instead of the engine's own decision.")
@click.option("--emscad", "emscad", is_flag=False, flag_value=str(EMSCAD_DEFAULT), default=None,
              type=click.Path(path_type=Path), metavar="[PATH]",
              help="Also measure on the EMSCAD CSV (default ../shared/data/emscad-partial/emscad_partial.csv, or "
                   "$LUREWATCH_EMSCAD), split by template group into train and test.")
@click.option("--reviews", is_flag=True,
              help="Precision per rule and per category on the ads analysts reviewed in --db, week by week, and "
                   "the rules whose hits they most often reject (not_lure).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Lurewatch SQLite database (for --reviews).")
def eval_cmd(datasets, split, as_json, threshold, emscad, reviews, db_path):
    """Measure the engine on labelled ads: precision, recall, F1 and false-positive
    rate overall, per language and per kind, recall on subtle lures, flag rate on
    hard negatives and the fraud signal. DATASETS are JSON Lines files or folders of
    them (default: the dev set, rules/devset). With --emscad only, just EMSCAD runs:
    real legitimate and fraudulent ads, split into train/test template groups; it
    prints the fraud signal's recall and legit flag rate on the test groups and the
    lure flag rate on legit ads. With --reviews --db PATH (alone), the analysts'
    verdicts are the labels: precision per rule and per category, week by week,
    and the rules whose hits analysts most often reject.

    Example:

        lurewatch eval rules/devset --split test --emscad

        lurewatch eval --reviews --db lurewatch-demo.db
    """
    err = Console(stderr=True)
    console = Console(soft_wrap=True)
    if not console.is_terminal:  # pipes and files: wide enough for the language/kind names
        console = Console(soft_wrap=True, width=140)
    out: dict = {}
    engine = None
    if reviews:
        from crawler.reviewstats import review_report

        from ._store import open_existing

        if db_path is None:
            raise click.UsageError("--reviews needs --db PATH")
        store = open_existing(db_path)
        try:
            rr = review_report(store)
        finally:
            store.close()
        out["reviews"] = {"db": str(db_path), **rr.to_dict()}
        if not as_json:
            _print_reviews(console, rr, db_path)
    elif db_path is not None:
        raise click.UsageError("--db is used with --reviews")
    if datasets or (emscad is None and not reviews):
        paths = list(datasets) or [DEVSET_DIR]
        try:
            examples = load_dataset(paths, split=split)
        except DatasetError as exc:
            raise click.ClickException(str(exc))
        if not examples:
            raise click.ClickException(f"no labelled rows in {', '.join(map(str, paths))} for split {split!r}")
        engine = _load_engine()
        report = evaluate(examples, engine, threshold=threshold, progress=_progress(err))
        out = {"datasets": [str(p) for p in paths], "split": split, **report.to_dict()}
        if not as_json:
            _print_report(console, report, f"{', '.join(map(str, paths))} (split {split}, {len(examples)} ads)",
                          show_ids=split != "test")
    if emscad is not None:
        if not emscad.is_file():
            raise click.ClickException(
                f"EMSCAD file not found: {emscad} (it lives in the shared data folder ../shared/data/emscad-partial; "
                "pass its path with --emscad PATH)")
        if engine is None:
            engine = _load_engine()
        try:
            er = evaluate_emscad(emscad, engine, threshold=threshold, progress=_progress(err))
        except EmscadError as exc:
            raise click.ClickException(str(exc))
        out["emscad"] = er.to_dict()
        if not as_json:
            _print_emscad(console, er)
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
