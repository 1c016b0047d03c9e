"""Helpers that keep `lurewatch --help` and the light commands from importing what only one command needs."""
from __future__ import annotations

from typing import Callable, Iterable

import click


class LazyChoice(click.Choice):
    """A click.Choice whose values come from `values()` when first needed (parsing or help of that command),
    so defining the option does not import the module that owns them."""

    def __init__(self, values: Callable[[], Iterable[str]], case_sensitive: bool = True):
        self._values = values
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            self._choices = tuple(self._values())
        return self._choices
