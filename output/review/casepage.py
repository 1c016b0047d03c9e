"""The data of the review app's case page (one ad) and contact page, read from a Lurewatch database.

Functions take an open sqlite3 connection (the review app passes Datasette's read connection through
`Database.execute_fn`) and return plain dicts for the templates in output/review/templates/; text that came
from an ad is either a plain string (escaped by Jinja) or Markup built by output/review/textmarks.py.
Recording a verdict goes through crawler.store (see `record_verdict`).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from crawler.snapcodec import SnapshotCodec
from crawler.store import VERDICTS
from rules.ruleset import FRAUD_CATEGORIES, MITIGATING
from rules.similarity import KNOWN_LURES_DIR, read_corpus

from .textmarks import Span, highlight, locate, snapshot_text, word_diff

# (evidence field, ads column, label) of the ad's text fields, in page order
FIELDS = (("title", "title", "Title"), ("company", "company", "Company"), ("location", "location", "Location"),
          ("salary", "salary_text", "Salary"), ("description", "description", "Description"),
          ("contact", "contact", "Contact"))
FIELD_ALIASES = {"salary_text": "salary"}
VERDICT_LABELS = {"lure": "Lure (trafficking recruitment)", "not_lure": "Not a lure", "fraud": "Ordinary job fraud",
                  "unsure": "Unsure"}
MAX_SNAPSHOT_BYTES = 1_000_000  # a larger page body is shown cut to this size
MAX_NOTE_CHARS = 4000


def evidence_kind(category: str) -> str:
    """lure (raises the lure score), mitigating (lowers it) or fraud (ordinary job fraud)."""
    if category == MITIGATING:
        return "mitigating"
    return "fraud" if category in FRAUD_CATEGORIES else "lure"


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _json(value, default):
    try:
        out = json.loads(value) if isinstance(value, str) and value else default
    except ValueError:
        return default
    return out if isinstance(out, type(default)) else default


def build_case(conn: sqlite3.Connection, ad_id: int) -> dict[str, Any] | None:
    """Everything the case page shows about one ad, or None when there is no such ad."""
    found = _rows(conn, "select * from ads where id = ?", [ad_id])
    if not found:
        return None
    ad = found[0]
    evidence = _rows(conn, "select * from evidence where ad_id = ? order by weight desc, id", [ad_id])
    fields, placed = highlighted_fields(ad, evidence)
    return {
        "ad": ad,
        "categories": _json(ad.get("categories"), []),
        "fields": fields,
        "evidence_groups": evidence_groups(evidence, placed),
        "reviews": _rows(conn, "select * from reviews where ad_id = ? order by id desc", [ad_id]),
        "nearest": nearest_lure(conn, ad),
        "contacts": contacts(conn, ad_id),
        "history": history(conn, ad_id),
        "snapshot": latest_snapshot(conn, ad_id),
        "ad_urls": ad_urls(conn, ad),
        "verdicts": [(v, VERDICT_LABELS.get(v, v)) for v in VERDICTS],
        "max_note_chars": MAX_NOTE_CHARS,
    }


def highlighted_fields(ad: dict[str, Any], evidence: list[dict[str, Any]]):
    """([{name, label, html}] for the ad's non-empty text fields with every rule hit highlighted where it
    matched, {evidence id: True} for the hits found in their field's current text)."""
    by_field: dict[str, list[dict[str, Any]]] = {}
    for e in evidence:
        by_field.setdefault(FIELD_ALIASES.get(e.get("field") or "", e.get("field") or ""), []).append(e)
    fields, placed = [], {}
    for name, column, label in FIELDS:
        text = ad.get(column) or ""
        if not isinstance(text, str):
            text = str(text)
        spans = []
        for e in by_field.get(name, []):
            where = locate(text, e.get("start"), e.get("end"), e.get("matched_text") or "")
            if where:
                placed[e["id"]] = True
                spans.append(Span(*where, evidence_kind(e["category"]), f"{e['category']}: {e['rule_id']}"))
        if text:
            fields.append({"name": name, "label": label, "html": highlight(text, spans), "hits": len(spans)})
    return fields, placed


def evidence_groups(evidence: list[dict[str, Any]], placed: dict[int, bool]) -> list[dict[str, Any]]:
    """Evidence grouped by category: lure categories first (strongest first), then fraud, then mitigating."""
    groups: dict[str, dict[str, Any]] = {}
    for e in evidence:
        group = groups.setdefault(e["category"], {"category": e["category"], "kind": evidence_kind(e["category"]),
                                                  "weight": 0.0, "items": []})
        group["weight"] += abs(e.get("weight") or 0.0)
        group["items"].append({**e, "placed": placed.get(e["id"], False)})
    order = {"lure": 0, "fraud": 1, "mitigating": 2}
    return sorted(groups.values(), key=lambda g: (order[g["kind"]], -g["weight"], g["category"]))


_corpus_cache: dict[str, Any] = {"key": None, "entries": {}}


def seed_corpus(folder: Path = KNOWN_LURES_DIR) -> dict[str, dict[str, Any]]:
    """Known-lure corpus entries by id (rules/known_lures/*.jsonl), re-read when a file changes."""
    files = sorted(folder.glob("*.jsonl"))
    key = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if _corpus_cache["key"] != key:
        entries: dict[str, dict[str, Any]] = {}
        for f in files:
            entries.update({str(e["id"]): e for e in read_corpus(f, seen=set(entries))})
        _corpus_cache.update(key=key, entries=entries)
    return _corpus_cache["entries"]


def nearest_lure(conn: sqlite3.Connection, ad: dict[str, Any]) -> dict[str, Any] | None:
    """The ad's nearest known lure (ads.nearest_lure) beside the ad's text, with the differing words marked.
    A confirmed lure stored in the database (an ad id) links to its case page."""
    nearest = _json(ad.get("nearest_lure"), {})
    if not nearest.get("id"):
        return None
    lure_id = str(nearest["id"])
    out = {"id": lure_id, "similarity": nearest.get("similarity"), "ad_id": None, "source_note": "", "text": None}
    confirmed = confirmed_lure(conn, nearest)
    if confirmed:
        out.update(confirmed)
    else:
        entry = seed_corpus().get(lure_id)
        if entry:
            out.update(text=entry["text"], source_note=entry.get("source_note", ""), origin=entry.get("origin"))
    if out["text"] is not None:
        ad_text = "\n".join(t for t in (ad.get("title") or "", ad.get("description") or "") if t)
        out["ad_html"], out["lure_html"] = word_diff(ad_text, out["text"])
    return out


def confirmed_lure(conn: sqlite3.Connection, nearest: dict[str, Any]) -> dict[str, Any] | None:
    """A nearest lure that an analyst confirmed in this database (nearest_lure names its ad_id): {ad_id, text,
    source_note}, the text as it was when confirmed (what the similarity stage compared), else as it is now."""
    ad_id = nearest.get("ad_id")
    if not isinstance(ad_id, int) or isinstance(ad_id, bool):
        return None
    text = None
    if conn.execute("select 1 from sqlite_master where type = 'table' and name = 'confirmed_lures'").fetchone():
        row = conn.execute("select text from confirmed_lures where ad_id = ? order by id desc limit 1", [ad_id]).fetchone()
        text = row[0] if row else None
    if text is None:
        rows = _rows(conn, "select title, description from ads where id = ?", [ad_id])
        if not rows:
            return None
        text = "\n".join(t for t in (rows[0]["title"] or "", rows[0]["description"] or "") if t)
    return {"ad_id": ad_id, "source_note": "confirmed by an analyst as a lure", "text": text}


def contacts(conn: sqlite3.Connection, ad_id: int) -> list[dict[str, Any]]:
    """The ad's contacts (one per kind and value), each with how many other ads share it."""
    return _rows(conn, """
        select min(c.id) as id, c.kind, c.value, group_concat(distinct c.raw) as raw,
               (select count(distinct o.ad_id) from contacts o
                 where o.kind = c.kind and o.value = c.value and o.ad_id != c.ad_id) as others
        from contacts c where c.ad_id = ? group by c.kind, c.value order by others desc, c.kind, c.value""", [ad_id])


def contact_ads(conn: sqlite3.Connection, contact_id: int) -> dict[str, Any] | None:
    """A contact (by a contacts row id) and every ad that names it, riskiest first; None if unknown."""
    found = _rows(conn, "select kind, value from contacts where id = ?", [contact_id])
    if not found:
        return None
    contact = found[0]
    ads = _rows(conn, """
        select a.id, a.title, a.risk_score, a.risk_level, a.review_status, a.source, a.country, a.first_seen
        from ads a where a.id in (select ad_id from contacts where kind = ? and value = ?)
        order by a.risk_score desc, a.id""", [contact["kind"], contact["value"]])
    return {"contact": contact, "ads": ads}


def history(conn: sqlite3.Connection, ad_id: int) -> list[dict[str, Any]]:
    """The ad's history events, oldest first, with the changed fields as a list."""
    events = _rows(conn, "select * from ad_history where ad_id = ? order by id", [ad_id])
    for event in events:
        changed = _json(event.get("changed_fields"), [])
        event["changed"] = changed
        event["detail"] = "" if changed or not event.get("changed_fields") or event["changed_fields"] == "[]" \
            else event["changed_fields"]
    return events


def latest_snapshot(conn: sqlite3.Connection, ad_id: int) -> dict[str, Any] | None:
    """The ad's newest snapshot with its body decoded to text: {url, fetched_at, status, content_type, size,
    source, text, cut}; never the compressed bytes."""
    rows = _rows(conn, """
        select s.id, s.url, s.fetched_at, s.status, s.content_type, b.size, b.body_gz, b.body_zstd, b.dict_id
        from snapshots s left join snapshot_bodies b on b.sha1 = s.sha1
        where s.ad_id = ? order by s.id desc limit 1""", [ad_id])
    if not rows:
        return None
    snap = rows[0]
    stored = snap.pop("body_gz"), snap.pop("body_zstd"), snap.pop("dict_id")
    snap["count"] = conn.execute("select count(*) from snapshots where ad_id = ?", [ad_id]).fetchone()[0]
    if stored[0] is None and stored[1] is None:
        snap.update(source=None, text=None, cut=False)
        return snap
    try:  # zstd with the board's dictionary, or gzip before schema 6 (crawler/snapcodec.py)
        body, cut = SnapshotCodec(conn).decode(*stored, max_bytes=MAX_SNAPSHOT_BYTES)
    except ValueError as exc:
        snap.update(source=None, text=None, cut=False, error=str(exc))
        return snap
    snap["source"], snap["text"] = snapshot_text(body, snap.get("content_type"))
    snap["cut"] = cut
    return snap


def ad_urls(conn: sqlite3.Connection, ad: dict[str, Any]) -> list[dict[str, str]]:
    """Every URL of the ad (canonical, aliases, snapshot URLs), once each, as text to copy."""
    seen: dict[str, str] = {}
    if ad.get("url"):
        seen[ad["url"]] = "canonical"
    for row in _rows(conn, "select url, kind from ad_urls where ad_id = ? order by first_seen, url", [ad["id"]]):
        seen.setdefault(row["url"], row["kind"] or "alias")
    for row in _rows(conn, "select distinct url from snapshots where ad_id = ? and url is not null", [ad["id"]]):
        seen.setdefault(row["url"], "snapshot")
    return [{"url": url, "kind": kind} for url, kind in seen.items()]


def record_verdict(db_path: str | Path, ad_id: int, verdict: str, reviewer: str, note: str = "") -> int:
    """Append a review through the store (which sets ads.review_status and feeds the confirmed-lure corpus);
    returns its id. ValueError (crawler.store.ReviewInputError for the store's checks) with a message an
    analyst can read: unknown verdict or ad, no reviewer, a note too long."""
    from crawler.store import Store

    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"the note is {len(note):,} characters long; at most {MAX_NOTE_CHARS:,} are kept")
    store = Store(db_path)
    try:
        return store.add_review(ad_id, verdict, reviewer=reviewer, note=note)
    finally:
        store.close()
