"""`lurewatch rules test|lint|coverage`: check the detection ruleset (rules/ruleset: concepts x language packs)."""
from __future__ import annotations

from pathlib import Path

import click

from rules.coverage import coverage
from rules.ruleset import RULESET_DIR, RulesetError, lint_ruleset, load_ruleset

from . import cli


@cli.group("rules")
def rules_group():
    """Check the detection ruleset: run every rule's examples, lint the files, or show which concepts each
    language pack covers.

    Example:

        lurewatch rules test
    """


_DIR = click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=RULESET_DIR,
                    show_default=True, help="Ruleset directory: concepts.yaml and packs/*.yaml.")


@rules_group.command("test")
@_DIR
@click.option("-v", "--verbose", is_flag=True, help="List every example, not just failures.")
def rules_test(directory, verbose):
    """Run every pack's examples: each `match` example must match that pack's words for the concept (on
    normalised text), each `no_match` example must match no pack's words. Exits 1 on any failure.

    Example:

        lurewatch rules test --dir rules/ruleset
    """
    try:
        rules = load_ruleset(directory)
    except RulesetError as exc:
        raise click.ClickException(str(exc))
    failures = checked = 0
    for rule in rules:
        for entry in rule.entries:
            # a pack's `match` examples must match its own words; `no_match` examples no pack's words
            for text, expect in [(t, True) for t in entry.match] + [(t, False) for t in entry.no_match]:
                checked += 1
                hit = entry.search(text) if expect else rule.search(text)
                ok = (hit is not None) == expect
                if not ok:
                    failures += 1
                    what = f"matched {hit!r} in" if hit is not None else "did not match"
                    click.echo(f"FAIL {entry.source}: {rule.id} {what} {'match' if expect else 'no_match'} "
                               f"example {text!r}")
                elif verbose:
                    click.echo(f"ok   {rule.id} [{entry.language}]: {'match' if expect else 'no_match'} {text!r}"
                               + (f" -> {hit!r}" if hit else ""))
    click.echo(f"{len(rules)} rules, {checked} examples, {failures} failed")
    if failures:
        raise SystemExit(1)


@rules_group.command("lint")
@_DIR
def rules_lint(directory):
    """Report malformed rule files (YAML errors, missing keys, bad regexes, patterns that can
    backtrack catastrophically, unknown categories, duplicate ids, examples that disagree with
    their rule), each with file, line and rule id. Exits 1 when anything is wrong.

    Example:

        lurewatch rules lint --dir my_rules/
    """
    if not Path(directory).is_dir():
        raise click.ClickException(f"{directory}: not a directory")
    problems = lint_ruleset(directory)
    for p in problems:
        click.echo(p)
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo(f"{len(load_ruleset(directory))} rules OK")


@rules_group.command("coverage")
@_DIR
@click.option("--language", "languages", multiple=True, metavar="CODE", help="Only these packs (repeatable).")
@click.option("--matrix", is_flag=True, help="Print the whole concept x language matrix.")
def rules_coverage(directory, languages, matrix):
    """Show, per language pack, how many concepts it gives words for and which it is missing. A concept is
    covered by patterns or by a `not_applicable` reason; `scope: universal` concepts need no words. Exits 1
    when a pack misses a concept.

    Example:

        lurewatch rules coverage --language ko --language ru
    """
    from rich.console import Console
    from rich.table import Table

    try:
        report = coverage(directory)
    except RulesetError as exc:
        raise click.ClickException(str(exc))
    unknown = set(languages) - set(report.packs)
    if unknown:
        raise click.ClickException(f"no pack for {', '.join(sorted(unknown))} in {directory}/packs "
                                   f"(packs: {', '.join(sorted(report.packs))})")
    packs = [report.packs[code] for code in sorted(languages or report.packs)]
    console = Console(width=max(120, Console().width))
    if matrix:
        table = Table(title=f"Concepts x languages ({len(report.concepts)} concepts, {len(packs)} packs)")
        table.add_column("concept")
        for p in packs:
            table.add_column(p.language, justify="center")
        for cid in report.concepts:
            table.add_row(cid, *("x" if cid in p.covered else "n/a" if cid in p.not_applicable else "-" for p in packs))
        console.print(table)
    table = Table(title=f"Language packs ({len(report.concepts)} language concepts)")
    for col in ("pack", "language", "covered", "n/a", "missing", "no example", "missing concepts"):
        table.add_column(col, overflow="fold")
    for p in packs:
        table.add_row(p.language, p.name, str(len(p.covered)), str(len(p.not_applicable)), str(len(p.missing)),
                      str(len(p.without_examples)), ", ".join(p.missing))
    console.print(table)
    missing = sum(len(p.missing) for p in packs)
    click.echo(f"{len(packs)} packs, {missing} missing concept(s)" + ("" if missing else ": clean"))
    if missing:
        raise SystemExit(1)
