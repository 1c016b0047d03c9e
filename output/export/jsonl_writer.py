"""JSON Lines: one ad per line, evidence and contacts as nested lists."""
from __future__ import annotations

import json
from typing import Any

from .base import FileWriter, register


@register
class JsonlWriter(FileWriter):
    name = "jsonl"
    suffix = ".jsonl"
    description = "one JSON object per ad, evidence and contacts nested"

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
