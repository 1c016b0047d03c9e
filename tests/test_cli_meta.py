"""Every command (and subcommand) has --help with an Example: and is named in README.md."""
from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        paths.append((*prefix, name))
        if isinstance(cmd, click.Group):
            paths.extend(command_paths(cmd, (*prefix, name)))
    return paths


COMMANDS = command_paths(cli)


def test_the_documented_commands_exist():
    assert {("demo",), ("review",), ("export",), ("rescan",), ("assess",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", [()] + COMMANDS, ids=lambda p: " ".join(("lurewatch",) + p))
def test_help_has_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    example = " ".join(result.output.split("Example:", 1)[1].split())  # help text may be re-wrapped
    assert " ".join(("lurewatch",) + path) in example, f"the example does not run this command: {example!r}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("lurewatch",) + p))
def test_command_is_in_readme(path):
    assert f"lurewatch {' '.join(path)}" in README.read_text(encoding="utf-8")
