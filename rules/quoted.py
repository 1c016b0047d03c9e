"""Quoted speech: the spans of a text inside quotation marks, in the quoting styles of the pack languages.

A warning post (an embassy advisory, a relative, a reporter) quotes the bait it warns against: "customer service in
Thailand, $1,200/month, free ticket". Inside the quotes the lure's words are reported speech, not an offer
(rules/engine.py uses these spans when the text around the quotes speaks of warning).
"""
from __future__ import annotations

import re

MIN_QUOTED_CHARS = 4
MAX_QUOTED_CHARS = 400
# (opening mark, closing marks): a straight or closing single quote is an apostrophe when a letter touches it on
# the outside (don't, N'ebe, o'sha), so those open only after a non-letter and close only before one (and
# neither touches a space on the inside)
_PAIRS = (("\u201c", "\u201d\u201c"), ("\u201e", "\u201c\u201d"), ("\u00ab", "\u00bb"), ("\u00bb", "\u00ab"),
          ("\u2039", "\u203a"), ("\u300c", "\u300d"), ("\u300e", "\u300f"), ("\u300a", "\u300b"),
          ("\uff02", "\uff02"), ('"', '"'))
_APOSTROPHE_PAIRS = (("'", "'"), ("\u2018", "\u2019"), ("\u2019", "\u2019"))


def _body(stop: str) -> str:
    """Quoted text: one line, none of the `stop` marks, MIN..MAX characters (lazy: the nearest closing mark)."""
    return f"[^\\n{re.escape(stop)}]{{{MIN_QUOTED_CHARS},{MAX_QUOTED_CHARS}}}"


def _pattern() -> re.Pattern:
    """One alternation, every branch starting with its opening mark (so the regex engine skips to those marks)."""
    parts = []
    for opening, closing in _PAIRS:
        body = _body(closing if opening == closing else closing + opening)
        parts.append(f"{re.escape(opening)}{body}?[{re.escape(closing)}]")
    for opening, closing in _APOSTROPHE_PAIRS:
        body = _body(closing)
        mark = re.escape(opening)
        parts.append(f"{mark}(?<!\\w{mark})(?=\\S){body}?(?<=\\S){re.escape(closing)}(?!\\w)")
    return re.compile("|".join(parts))


QUOTED = _pattern()
QUOTE_MARKS = tuple(dict.fromkeys(o for o, _ in (*_PAIRS, *_APOSTROPHE_PAIRS)))


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quotation in `text`, the marks included, left to right and not overlapping."""
    if not any(mark in text for mark in QUOTE_MARKS):  # most ads: a few fast substring scans
        return []
    return [m.span() for m in QUOTED.finditer(text)]


def inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) lies within one of `spans`."""
    return any(a <= start and end <= b for a, b in spans)
