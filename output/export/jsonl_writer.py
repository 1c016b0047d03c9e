"""JSON Lines: one ad per line, evidence and contacts as nested lists.

U+2028/U+2029 (line breaks to some JSON Lines readers and to JavaScript) and bidi controls (which reorder
what a text viewer shows) are written as JSON escapes (\\u2028, \\u202e): the values parse back unchanged.
"""
from __future__ import annotations

import json
import re
from typing import Any

from ..textsafety import BIDI_CONTROLS
from .base import FileWriter, register

_ESCAPED = re.compile(f"[\u2028\u2029{BIDI_CONTROLS}]")


def dumps_line(record: dict[str, Any]) -> str:
    """One JSON object on one line, readable UTF-8, with the characters above escaped."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=False)
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@register
class JsonlWriter(FileWriter):
    name = "jsonl"
    suffix = ".jsonl"
    description = "one JSON object per ad, evidence and contacts nested"

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(dumps_line(record) + "\n")
