"""`lurewatch import`: ads from other collectors (JSON Lines or CSV, e.g. JobSpy's output or a partner's dump),
assessed and stored exactly as a crawled ad is.

A row holds the `assess` fields (title, company, location, salary, description, contact; `id`) plus `url`,
`source` and optionally `posted_at`, `external_id`, `country`. JobSpy's column names are accepted too
(see JOBSPY_COLUMNS). Each row goes through the crawl's own steps: the text fields are cleaned and cut like
NormalisePipeline does, an ad already stored with the same text keeps its assessment (AssessPipeline), the
others are assessed in batches with `Engine.assess_many`, and `Store.add_many` gives the ad its identity (any URL,
else source + external id, else source + content hash), its history event, evidence and contacts.

A bad row (invalid JSON or UTF-8, a field of the wrong type, no http(s) URL, no title or description, more CSV
fields than the header names) is reported as `FILE:LINE: reason` and skipped; the import goes on. Batches are
assessed by a WorkerPool (crawler/workpool.py: here, or in forked workers) and written by the caller's process
only, by one writer thread while the next batch is assessed, one transaction per batch (`store_batch`, the one
place an import writes). An ad met again in the very next batch may be assessed twice (the first is not committed
yet); the second save finds it unchanged, so the stored rows are the same.
"""
from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from rules import Engine
from rules.engine import MAX_FIELD_CHARS
from rules.model import Ad

from .lureindex import without_own_lure
from .pipelines import NormalisePipeline, clean_text, cut_text, stored_row
from .store import Store
from .workpool import WorkerPool

FORMATS = ("jsonl", "csv")
SPIDER = "import"  # crawls.spider and ads.spider of imported ads
BATCH = 256  # ads assessed together (by one worker), and stored in one transaction

# JobSpy (python-jobspy, jobspy/util.py `desired_order`) column -> our field; used when ours is absent.
JOBSPY_COLUMNS = {"job_url": "url", "site": "source", "company_name": "company", "date_posted": "posted_at"}
SALARY_PERIODS = {"yearly": "year", "monthly": "month", "weekly": "week", "daily": "day", "hourly": "hour"}


class BadRow(ValueError):
    """A row that cannot be imported; the message says why."""


@dataclass
class ImportResult:
    rows: int = 0  # data rows read (blank lines not counted)
    bad: int = 0
    counts: Counter = field(default_factory=Counter)  # new / changed / unchanged
    assessed: int = 0
    flagged: int = 0

    @property
    def stored(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        c = self.counts
        return (f"{self.stored} ads imported ({c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged), "
                f"{self.assessed} assessed, {self.flagged} flagged; {self.bad} bad rows skipped")


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "csv" if str(path).lower().endswith(".csv") else "jsonl"


def read_rows(path: str, fmt: str) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(`FILE:LINE`, row, None) for each data row, or (`FILE:LINE`, None, reason) for one that cannot be read.
    CSV rows are numbered by the line they start on (a quoted field may span lines)."""
    with open(path, "rb") as fh:
        lines = _decoded_lines(fh)
        if fmt == "csv":
            yield from _csv_rows(path, lines)
            return
        for lineno, line, undecodable in lines:
            if undecodable:
                yield f"{path}:{lineno}", None, undecodable
                continue
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, None, f"invalid JSON: {exc.msg} (column {exc.colno})"
                continue
            if not isinstance(row, dict):
                yield where, None, f"expected a JSON object, got {type(row).__name__}"
                continue
            yield where, row, None


def _decoded_lines(fh) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text, None) per line of a binary file, or (number, text with U+FFFD, reason) for a line
    that is not UTF-8; a leading byte-order mark is dropped."""
    for lineno, raw in enumerate(fh, 1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield lineno, raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield lineno, raw.decode("utf-8", "replace"), f"not UTF-8 text (byte {exc.start + 1} of the line)"


def _csv_rows(path: str, lines: Iterator[tuple[int, str, str | None]]) -> Iterator[tuple[str, dict[str, Any] | None,
                                                                                       str | None]]:
    csv.field_size_limit(sys.maxsize)
    undecodable: dict[int, str] = {}

    def text_lines():
        for lineno, line, problem in lines:
            if problem:
                undecodable[lineno] = problem
            yield line

    reader = csv.reader(text_lines())
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield f"{path}:1", None, f"unreadable CSV header: {exc}"
        return
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"{path}:{start}", None, f"unreadable CSV row: {exc}"
            continue
        where = f"{path}:{start}"
        problem = next((undecodable.pop(n) for n in range(start, reader.line_num + 1) if n in undecodable), None)
        if problem:
            yield where, None, problem
        elif not any(v.strip() for v in values):
            continue
        elif len(values) > len(header):
            yield where, None, f"{len(values)} fields, the header names {len(header)}"
        else:
            yield where, {k: v for k, v in zip(header, values) if v != ""}, None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _amount(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"


def jobspy_salary(row: dict[str, Any]) -> str:
    """JobSpy's min_amount / max_amount / currency / interval as one salary text: `USD 3,000-5,000 per month`."""
    low, high = row.get("min_amount"), row.get("max_amount")
    if low in (None, "") and high in (None, ""):
        return ""
    amounts = "-".join(_amount(v) for v in dict.fromkeys(v for v in (low, high) if v not in (None, "")))
    period = SALARY_PERIODS.get(str(row.get("interval") or "").lower())
    return " ".join(p for p in (_text(row.get("currency")) or "USD", amounts, f"per {period}" if period else "") if p)


def posted_at(value: Any) -> str | None:
    """The posting date as stored: text as given; a number is taken as epoch milliseconds (JobSpy's JSON)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()
    return str(value)


def ad_from_row(row: dict[str, Any], default_source: str | None = None,
                max_field_chars: int = MAX_FIELD_CHARS) -> dict[str, Any]:
    """The item a spider would yield for this row, normalised as NormalisePipeline does; BadRow if unusable."""
    for theirs, ours in JOBSPY_COLUMNS.items():
        if row.get(ours) in (None, "") and row.get(theirs) not in (None, ""):
            row[ours] = row[theirs]
    problem = Ad.type_problem(row)
    if problem:
        raise BadRow(problem)
    url = _text(row.get("url")).strip()
    if not url:
        raise BadRow("no url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRow(f"url is not an http(s) URL: {url[:200]!r}")
    contact = [_text(row.get("contact")), _text(row.get("emails"))]
    item: dict[str, Any] = {
        "url": url,
        "source": _text(row.get("source")).strip() or default_source or parts.hostname,
        "spider": SPIDER,
        "external_id": _text(row.get("external_id") or row.get("id")).strip() or None,
        "title": row.get("title"), "company": row.get("company"), "location": row.get("location"),
        "country": row.get("country"),
        "salary_text": row.get("salary") or row.get("salary_text") or jobspy_salary(row),
        "description": row.get("description"), "contact": "\n".join(c for c in contact if c),
        "posted_at": posted_at(row.get("posted_at")),
    }
    direct = _text(row.get("job_url_direct")).strip()
    item["aliases"] = [direct] if direct and direct != url and urlsplit(direct).scheme in ("http", "https") else []
    for name in NormalisePipeline.TEXT_FIELDS:
        item[name] = cut_text(clean_text(_text(item.get(name))), max_field_chars)
    if not (item["title"] or item["description"]):
        raise BadRow("no title or description")
    return item


def engine_ad(item: dict[str, Any]) -> dict[str, Any]:
    """What the engine scores, as AssessPipeline builds it."""
    ad = {k: item.get(k) for k in ("url", "title", "company", "location", "description", "contact")}
    ad["salary"] = item.get("salary_text")
    return ad


def store_batch(store: Store, items: list[dict[str, Any]], crawl_id: int | None) -> list[tuple[int, str]]:
    """Store `items` (each with its `assessment`, None to keep the stored one) in one transaction
    (`Store.add_many`); the (ad_id, status) of each. The one place an import writes ads."""
    return store.add_many([{"ad": stored_row(it), "assessment": it["assessment"], "aliases": it["aliases"],
                            "snapshot": None} for it in items], crawl_id=crawl_id)


def assess_batch(store: Store, engine: Engine, items: list[dict[str, Any]]) -> None:
    """Set each item's `assessment`: None when the store holds it unchanged (its assessment stays), else the
    engine's verdict, assessed together."""
    todo = []
    for item in items:
        stored = store.unchanged_ad(stored_row(item), item["aliases"])
        item["assessment"] = None
        item["stored_flagged"] = bool(stored and stored.get("flagged"))
        if stored is not None:
            item["language"] = stored.get("language")
        else:
            todo.append(item)
    ads = [engine_ad(it) for it in todo]
    for item, ad, assessed in zip(todo, ads, engine.assess_many(ads)):
        assessment = without_own_lure(engine, ad, assessed, urls=[item["url"], *item["aliases"]]).to_dict()
        item["assessment"] = assessment
        item["language"] = assessment.get("language")


_worker: dict = {}  # this process's engine and store, for lookups only (crawler.workpool.WorkerPool setup)


def _start_worker(engine: Engine, db_path: str) -> None:
    _worker["engine"] = engine  # inherited from the parent (fork): the same engine, not rebuilt
    _worker["store"] = Store(db_path)


def _assess_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assess_batch(_worker["store"], _worker["engine"], items)
    return items


def assessing(store: Store, engine: Engine, workers: int = 1) -> WorkerPool:
    """The pool that assesses batches for `import_file` (enter it before a progress bar starts): `workers`
    processes, or this one; the store is written by this process only."""
    return WorkerPool(workers, _start_worker, (engine, str(store.path)))


def import_file(store: Store, pool: WorkerPool, path: str, fmt: str, *, source: str | None = None,
                crawl_id: int | None = None, batch: int = BATCH, max_field_chars: int = MAX_FIELD_CHARS,
                on_bad: Callable[[str], None] | None = None, on_row: Callable[[], None] | None = None) -> ImportResult:
    """Import every good row of `path`: batches are assessed by `pool` (see `assessing`) and stored here, one
    transaction each. `on_bad("FILE:LINE: reason")` for each bad row, `on_row()` after each row read."""
    result = ImportResult()

    def batches() -> Iterator[tuple[list[dict[str, Any]]]]:
        pending: list[dict[str, Any]] = []
        for where, row, problem in read_rows(path, fmt):
            result.rows += 1
            if row is not None:
                try:
                    pending.append(ad_from_row(row, source, max_field_chars))
                except BadRow as exc:
                    problem = str(exc)
            if problem:
                result.bad += 1
                if on_bad:
                    on_bad(f"{where}: {problem}")
            if on_row:
                on_row()
            if len(pending) >= batch:
                yield (pending,)
                pending = []
        if pending:
            yield (pending,)

    def count(items: list[dict[str, Any]], saved: list[tuple[int, str]]) -> None:
        for item, (_, status) in zip(items, saved):
            result.counts[status] += 1
            assessment = item["assessment"]
            result.assessed += assessment is not None
            result.flagged += bool(assessment["flagged"] if assessment is not None else item["stored_flagged"])

    # One writer thread with its own connection stores batch N while this thread assesses batch N+1 (SQLite
    # releases the GIL while it works); at most one batch waits, so memory stays bounded.
    writer_store = Store(store.path, busy_timeout=store.busy_timeout, retry_for=store.retry_for)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="lurewatch-import-writer") as writer:
            writing = None
            for items in pool.map(_assess_items, batches()):
                if writing is not None:
                    count(*writing.result())
                writing = writer.submit(lambda items=items: (items, store_batch(writer_store, items, crawl_id)))
            if writing is not None:
                count(*writing.result())
    finally:
        writer_store.close()
    return result
