"""JSON Lines reading with errors that name file:line (dev set, known-lure corpus, `lurewatch assess`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Iterator


def read_jsonl(source: str | Path | IO[str], error: type[Exception] = ValueError) -> Iterator[tuple[str, dict]]:
    """Yield (`file:line`, object) for each non-blank line of a path or an open text file.

    Raises `error` naming file:line for invalid JSON or a line that is not a JSON object.
    """
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8") as fh:
            yield from read_jsonl(fh, error)
        return
    name = getattr(source, "name", "<input>")
    for lineno, line in enumerate(source, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(row, dict):
            raise error(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, row
