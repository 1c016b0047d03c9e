"""The known-lure corpus files (JSONL, schema in rules/known_lures/README.md): where the shipped corpus lives and
how one file is read and checked.

Example: entries = read_corpus(KNOWN_LURES_DIR / "seed.jsonl")  # CorpusError names file:line and entry id
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .jsonl import read_jsonl

KNOWN_LURES_DIR = Path(__file__).parent / "known_lures"


class CorpusError(ValueError):
    """A malformed known-lure corpus: the message names file and line (and entry id)."""


REQUIRED_KEYS = ("id", "text", "lang", "source_note", "added", "origin")
ORIGINS = ("seed", "review")


def read_corpus(path: str | Path, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """Parse and check one JSONL corpus file. Errors name file:line and the entry id."""
    path = Path(path)
    seen = set() if seen is None else set(seen)
    out = []
    for where, entry in read_jsonl(path, CorpusError):
        eid = entry.get("id")
        missing = [k for k in REQUIRED_KEYS if not entry.get(k)]
        if missing:
            raise CorpusError(f"{where}: entry {eid!r} is missing {', '.join(missing)}")
        if entry["origin"] not in ORIGINS:
            raise CorpusError(f"{where}: entry {eid!r} origin must be one of {ORIGINS}, not {entry['origin']!r}")
        if not isinstance(entry["text"], str):
            raise CorpusError(f"{where}: entry {eid!r} text must be a string")
        if str(eid) in seen:
            raise CorpusError(f"{where}: duplicate id {eid!r}")
        seen.add(str(eid))
        out.append(entry)
    return out
