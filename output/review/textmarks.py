"""Marked-up text for review pages, always escaped: rule hits highlighted in a field, word differences
between two texts, the readable text of a page snapshot. Every function returns markupsafe.Markup built
from escaped input; nothing from an ad is ever emitted as markup.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

# The kind of a highlighted span decides its colour (CSS classes in templates/case_style.html); when spans
# overlap, the first kind in this order wins.
KIND_ORDER = ("lure", "fraud", "mitigating")
MAX_DIFF_WORDS = 1500  # a longer text is compared on its first words only (the rest shown unmarked)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str  # lure | fraud | mitigating
    label: str  # "category: rule_id", shown as the tooltip


def locate(text: str, start, end, matched: str) -> tuple[int, int] | None:
    """The span of `matched` in `text`: the stored offsets when they point at it, else its first occurrence
    (offsets go stale when a field is re-extracted or normalised differently); None when it is not there."""
    if not matched or not text:
        return None
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text) \
            and text[start:end].casefold() == matched.casefold():
        return start, end
    found = re.search(re.escape(matched), text, re.IGNORECASE)  # not str.casefold: it changes lengths ("ß" -> "ss")
    return found.span() if found else None


def highlight(text: str, spans: list[Span]) -> Markup:
    """`text` escaped, each span wrapped in <mark class="KIND" title="LABELS">; overlapping spans split the
    text into segments, each marked with every label covering it and the strongest kind."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out = []
    for left, right in zip(cuts, cuts[1:]):
        covering = [s for s in spans if s.start <= left and right <= s.end]
        piece = text[left:right]
        if not covering:
            out.append(escape(piece))
            continue
        kind = min((s.kind for s in covering), key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 99)
        labels = "; ".join(dict.fromkeys(s.label for s in covering))
        out.append(Markup('<mark class="hl-{}" title="{}">{}</mark>').format(kind, labels, piece))
    return Markup("").join(out)


_TOKEN = re.compile(r"\S+\s*")
_BLOCK_TAG = re.compile(r"(?i)<\s*/?\s*(br|p|div|li|ul|ol|h[1-6]|tr|table|header|footer|section|article|nav|main|aside"
                        r"|form|pre|blockquote|dl|dt|dd)\b[^>]*>")
_WORD_KEY = re.compile(r"[\W_]+", re.UNICODE)


def _tokens(text: str) -> tuple[str, list[str]]:
    """(leading whitespace, tokens: each word with the whitespace after it)."""
    lead = text[: len(text) - len(text.lstrip())]
    return lead, _TOKEN.findall(text)


def word_diff(left: str, right: str) -> tuple[Markup, Markup]:
    """Both texts escaped, with the words that differ (compared case- and punctuation-blind) wrapped in
    <span class="diff">: the left's words missing from the right, and the right's words not in the left."""
    (lead_l, toks_l), (lead_r, toks_r) = _tokens(left), _tokens(right)

    def key(tok: str) -> str:
        return _WORD_KEY.sub("", tok.casefold()) or tok.strip()

    head_l, tail_l = toks_l[:MAX_DIFF_WORDS], toks_l[MAX_DIFF_WORDS:]
    head_r, tail_r = toks_r[:MAX_DIFF_WORDS], toks_r[MAX_DIFF_WORDS:]
    matcher = difflib.SequenceMatcher(None, [key(t) for t in head_l], [key(t) for t in head_r], autojunk=False)
    out_l, out_r = [escape(lead_l)], [escape(lead_r)]
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for out, toks, a, b in ((out_l, head_l, i1, i2), (out_r, head_r, j1, j2)):
            if a == b:
                continue
            chunk = "".join(toks[a:b])
            if op == "equal":
                out.append(escape(chunk))
            else:
                body = chunk.rstrip()
                out.append(Markup('<span class="diff">{}</span>{}').format(body, chunk[len(body):]))
    out_l.append(escape("".join(tail_l)))
    out_r.append(escape("".join(tail_r)))
    return Markup("").join(out_l), Markup("").join(out_r)


def snapshot_text(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(page source, readable text) of a stored page body, decoded with its declared or sniffed charset.
    Both are plain strings for the template to escape; scripts, styles and tags are dropped from the text."""
    from w3lib.encoding import html_to_unicode
    from w3lib.html import remove_comments, remove_tags, remove_tags_with_content, replace_entities

    _, source = html_to_unicode(content_type or "", body or b"")
    if "html" not in (content_type or "text/html").lower():
        return source, source
    text = remove_tags_with_content(remove_comments(source), ("script", "style", "noscript", "template", "head"))
    text = _BLOCK_TAG.sub("\n", text)
    text = replace_entities(remove_tags(text))
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines())
    return source, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
