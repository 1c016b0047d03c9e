"""CSV: one row per ad, evidence and contacts summarised in a column each.

Cells that a spreadsheet would run as a formula (starting with = @ tab CR, or + - not followed by
a number) get a leading apostrophe, so opening a partner export in Excel cannot execute anything.
Bidi control characters are written as visible `<U+202E>` marks (output/textsafety.py).
"""
from __future__ import annotations

import csv
import json
import re
from typing import Any

from ..textsafety import visible_bidi
from .base import EXPORT_COLUMNS, FileWriter, register

CSV_COLUMNS = (*EXPORT_COLUMNS, "evidence_count", "evidence", "contacts")
ALERT_COLUMNS = ("alert_id", "alert_version", "alert_status", "alert_modified")  # with the option alerts=True
_NUMBERISH = re.compile(r"^[+-][\d\s().,-]*$")


def evidence_summary(evidence: list[dict[str, Any]]) -> str:
    """`category/rule_id: "matched text"` per hit, separated by ` | `."""
    return " | ".join(f'{e["category"]}/{e["rule_id"]}: "{e["matched_text"]}"' for e in evidence)


def contacts_summary(contacts: list[dict[str, Any]]) -> str:
    return "; ".join(f'{c["kind"]}:{c["value"]}' for c in contacts)


def defuse(value: str) -> str:
    """Neutralise spreadsheet formula injection and show bidi controls."""
    value = visible_bidi(value)
    if value and (value[0] in "=@\t\r" or (value[0] in "+-" and not _NUMBERISH.match(value))):
        return "'" + value
    return value


@register
class CsvWriter(FileWriter):
    name = "csv"
    suffix = ".csv"
    description = "one row per ad; evidence summarised in a column"
    newline = ""

    def begin(self) -> None:
        fields = (*CSV_COLUMNS, *ALERT_COLUMNS) if self.options.get("alerts") else CSV_COLUMNS
        self.csv = csv.DictWriter(self.stream, fieldnames=fields, extrasaction="ignore")
        self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        row: dict[str, Any] = {}
        for col in EXPORT_COLUMNS:
            value = record.get(col)
            if col == "categories":
                value = ";".join(value or [])
            elif col == "nearest_lure":
                value = json.dumps(value, ensure_ascii=False) if value else ""
            elif isinstance(value, bool):
                value = int(value)
            row[col] = defuse(value) if isinstance(value, str) else ("" if value is None else value)
        row["evidence_count"] = len(record.get("evidence") or [])
        row["evidence"] = defuse(evidence_summary(record.get("evidence") or []))
        row["contacts"] = defuse(contacts_summary(record.get("contacts") or []))
        alert = record.get("alert") or {}
        for key in ALERT_COLUMNS:
            row[key] = alert.get(key.removeprefix("alert_"), "")
        self.csv.writerow(row)
