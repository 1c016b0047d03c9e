"""Characters that make text lie about itself, made visible for analysts and partners.

Bidi embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) reorder what is displayed
("Trojan Source"): a contact or URL can read differently from what it is. They are shown as `<U+202E>`.
"""
from __future__ import annotations

import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def has_bidi_controls(text: str) -> bool:
    return bool(_BIDI.search(text))


def visible_bidi(text: str) -> str:
    """`text` with each bidi control character replaced by its visible name, e.g. `<U+202E>`."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
