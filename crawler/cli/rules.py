"""`lurewatch rules test|lint`: check the detection ruleset (rules/ruleset/*.yaml)."""
from __future__ import annotations

from pathlib import Path

import click

from rules.engine import RULESET_DIR, RulesetError, lint_ruleset, load_ruleset

from . import cli


@cli.group("rules")
def rules_group():
    """Check the detection ruleset: run every rule's examples, or lint the files.

    Example:

        lurewatch rules test
    """


_DIR = click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=RULESET_DIR,
                    show_default=True, help="Directory of ruleset *.yaml files.")


@rules_group.command("test")
@_DIR
@click.option("-v", "--verbose", is_flag=True, help="List every example, not just failures.")
def rules_test(directory, verbose):
    """Run every rule's examples: each `match` example must match (on normalised text), each
    `no_match` example must not. Exits 1 on any failure.

    Example:

        lurewatch rules test --dir rules/ruleset
    """
    try:
        rules = load_ruleset(directory)
    except RulesetError as exc:
        raise click.ClickException(str(exc))
    failures = checked = 0
    for rule in rules:
        for text, expect in [(t, True) for t in rule.examples_match] + [(t, False) for t in rule.examples_no_match]:
            checked += 1
            hit = rule.search(text)
            ok = (hit is not None) == expect
            if not ok:
                failures += 1
                what = f"matched {hit!r} in" if hit is not None else "did not match"
                click.echo(f"FAIL {rule.source}: {rule.id} {what} {'match' if expect else 'no_match'} example {text!r}")
            elif verbose:
                click.echo(f"ok   {rule.id}: {'match' if expect else 'no_match'} {text!r}" + (f" -> {hit!r}" if hit else ""))
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
    if not any(Path(directory).glob("*.yaml")):
        problems.append(f"{directory}: no *.yaml rule files")
    for p in problems:
        click.echo(p)
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo(f"{len(load_ruleset(directory))} rules OK")
