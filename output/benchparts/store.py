"""Store writes: ads/s (wall and per CPU-second) and disk per ad, the batched path against the old one, in one run.

Ads: output.bench's realistic ads (~900 characters, 70% legitimate), assessed beforehand by the shipped engine (so
evidence and contacts are real), each on its own 30-60 KB JSON-LD job page of one board: a shared template (inline
CSS and script, menus, footer) around the posting, its JSON-LD, 10-40 "similar jobs" cards and per-request tokens.
- old path: what the crawl did before schema 6, kept here verbatim: one BEGIN IMMEDIATE ... COMMIT per ad,
  sqlite-utils inserts, the page gzip-compressed, the FTS update trigger on every update;
- batched: Store.add_many, one transaction per 500 ads, zstd with the board's trained dictionary;
- writer thread: the crawl's path (crawler/batchwriter.py): the submitting (reactor) thread only queues;
- per-row triggers: add_many as schema 7 did it, FTS and the review indexes kept by triggers row by row (batched
  add_many keeps them with bulk statements, crawler/bulkindex.py).
"""
from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import random
import sqlite3
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import zstandard

from ._common import job_posting, page_template

TITLE = "Store writes and disk per ad"
SOURCE = "jobs.example:8080"
BATCH = 500


# -- realistic pages ---------------------------------------------------------------------------------
def job_page(rng: random.Random, template: tuple[str, str], ad: dict[str, Any], n: int, others: list[dict]) -> bytes:
    posting = job_posting(ad, n, f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}")
    cards = "".join(
        f'<div class="card"><a href="/job/{rng.randrange(10**6)}">{html.escape(o["title"])}</a>'
        f'<span>{html.escape(o["location"] or "Remote")}</span><span>{html.escape(o["salary"] or "")}</span>'
        f'<time>{rng.randint(1, 30)} days ago</time><button onclick="h{rng.randrange(90)}(event)">Save</button></div>'
        for o in rng.sample(others, rng.randint(10, 40)))
    body = (f'<script type="application/ld+json">{json.dumps(posting, ensure_ascii=False)}</script>'
            f'<input type="hidden" name="csrf" value="{rng.randbytes(16).hex()}"><article><h1>{html.escape(ad["title"])}</h1>'
            f'<p>{html.escape(ad["description"])}</p></article><section class="similar">{cards}</section>'
            f'<p class="views">{rng.randint(10, 9000)} views</p>')
    return (template[0] + body + template[1]).encode("utf-8")


def realistic_entries(n: int, seed: int = 16) -> list[dict[str, Any]]:
    """Store.add_many entries: assessed ads with their pages (30-60 KB)."""
    from output.bench import synthetic_ads, synthetic_lures
    from rules import Engine

    rng = random.Random(seed)
    ads = synthetic_ads(n, synthetic_lures(300), seed=seed, target_chars=900)
    engine = Engine.load()
    template = page_template(rng)
    entries, rows = [], []
    for i, ad in enumerate(ads):
        url = f"http://{SOURCE}/job/{i}"
        row = {"url": url, "source": SOURCE, "spider": "jobposting", "external_id": f"JB-{i}", "title": ad["title"],
               "company": ad["company"], "location": ad["location"], "salary_text": ad["salary"],
               "description": ad["description"], "contact": ad["contact"], "posted_at": "2026-10-30",
               "etag": f'"v1-{i}"'}
        rows.append({**row, "salary": ad["salary"]})
        page = job_page(rng, template, ad, i, ads)
        entries.append({"ad": row, "aliases": [f"http://{SOURCE}/j/{i}"],
                        "snapshot": {"url": url, "status": 200, "content_type": "text/html; charset=utf-8",
                                     "body": page}})
    for start in range(0, len(rows), 256):
        for e, assessment in zip(entries[start:start + 256], engine.assess_many(rows[start:start + 256])):
            e["assessment"] = assessment.to_dict()
    return entries


# -- the old path (before schema 6), verbatim ---------------------------------------------------------
def legacy_save(store, ad, assessment, urls, crawl_id, snapshot) -> tuple[int, str]:
    from crawler.store import SCHEMA, content_hash, now

    def work():
        stamp, chash = now(), content_hash(ad)
        ad_id = store.find_ad_id(urls, ad.get("source"), ad.get("external_id"), chash)
        row = {k: v for k, v in ad.items() if k in SCHEMA["ads"] and k != "id"}
        row.update(content_hash=chash, last_seen=stamp, removed_at=None, last_crawl_id=crawl_id)
        if ad_id is None:
            row.update(first_seen=stamp, review_status="unreviewed", **store._assessment_columns(assessment))
            ad_id, status = store.db["ads"].insert(row).last_pk, "new"
        else:
            status = "unchanged" if store.db["ads"].get(ad_id)["content_hash"] == chash else "changed"
            store.db["ads"].update(ad_id, {"last_seen": stamp, "removed_at": None, "last_crawl_id": crawl_id}
                                   if status == "unchanged" else row)
        for u in dict.fromkeys(urls):
            store.db.execute("INSERT OR IGNORE INTO ad_urls (url, ad_id, kind, first_seen) VALUES (?,?,?,?)",
                             [u, ad_id, "canonical" if u == ad["url"] else "alias", stamp])
        if status != "unchanged":
            store.db.execute("DELETE FROM evidence WHERE ad_id=?", [ad_id])
            store.db.execute("DELETE FROM contacts WHERE ad_id=?", [ad_id])
            ev = [{"ad_id": ad_id, **{k: e.get(k) for k in SCHEMA["evidence"] if k not in ("id", "ad_id")}}
                  for e in assessment.get("evidence", [])]
            if ev:
                store.db["evidence"].insert_all(ev)
            cs = [{"ad_id": ad_id, **{k: c.get(k) for k in ("kind", "value", "raw", "field")}}
                  for c in assessment.get("contacts", [])]
            if cs:
                store.db["contacts"].insert_all(cs)
            store.db["ad_history"].insert({"ad_id": ad_id, "crawl_id": crawl_id, "at": stamp, "event": status,
                                           "content_hash": chash, "changed_fields": ""})
            body = snapshot.get("body") or b""
            sha1 = hashlib.sha1(body).hexdigest()
            if not store.db.execute("SELECT 1 FROM snapshot_bodies WHERE sha1 = ?", [sha1]).fetchone():
                store.db.execute("INSERT INTO snapshot_bodies (sha1, body_gz, size) VALUES (?, ?, ?)",
                                 [sha1, gzip.compress(body), len(body)])
            store.db["snapshots"].insert({"ad_id": ad_id, "crawl_id": crawl_id, "fetched_at": stamp,
                                          "url": snapshot.get("url"), "status": snapshot.get("status"),
                                          "content_type": snapshot.get("content_type"), "sha1": sha1})
        return ad_id, status

    return store.write(work)


def wide_fts_trigger(store) -> None:
    """The update trigger as sqlite-utils made it before schema 6 (fires on any update of ads)."""
    cols = '"title", "description", "company"'
    store.db.execute('DROP TRIGGER IF EXISTS "ads_au"')
    store.db.execute(f'CREATE TRIGGER "ads_au" AFTER UPDATE ON "ads" BEGIN INSERT INTO "ads_fts" ("ads_fts", rowid, {cols})'
                     f' VALUES(\'delete\', old.rowid, old."title", old."description", old."company"); INSERT INTO "ads_fts"'
                     f' (rowid, {cols}) VALUES (new.rowid, new."title", new."description", new."company"); END')


# -- measuring ---------------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()  # process time: every thread (the writer's too)
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def disk(path: Path) -> tuple[int, int]:
    """(file bytes, snapshot bytes) after a WAL checkpoint; snapshot bytes from dbstat (tables and their indexes)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        snap = conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ("
                            "SELECT name FROM sqlite_master WHERE tbl_name IN ('snapshots', 'snapshot_bodies', "
                            "'snapshot_dicts'))").fetchone()[0]
    finally:
        conn.close()
    return path.stat().st_size, snap


def run_path(directory: Path, name: str, entries: list[dict], mode: str) -> dict[str, Any]:
    from crawler.batchwriter import BatchWriter
    from crawler.store import Store

    path = directory / f"{name}.db"
    store = Store(path)
    crawl_id = store.start_crawl("bench")
    if mode == "legacy":
        wide_fts_trigger(store)
    reactor_cpu = 0.0

    def write():
        nonlocal reactor_cpu
        if mode == "legacy":
            for e in entries:
                legacy_save(store, e["ad"], e["assessment"], [e["ad"]["url"], *e["aliases"]], crawl_id, e["snapshot"])
        elif mode == "thread":
            writer = BatchWriter(lambda: Store(path), batch=BATCH, call_in_reactor=lambda f, *a: f(*a))
            start = time.thread_time()
            deferreds = [writer.save(e, crawl_id) for e in entries]
            reactor_cpu = time.thread_time() - start
            writer.close_now()
            failed = [d for d in deferreds if not d.called or isinstance(d.result, BaseException)]
            if failed:
                raise RuntimeError(f"{len(failed)} ads not stored by the writer thread")
        elif mode == "triggers":  # schema 7's batches: every index kept row by row by its triggers
            import crawler.store as store_module

            bulk_min, store_module.BULK_MIN = store_module.BULK_MIN, len(entries) + BATCH
            try:
                for i in range(0, len(entries), BATCH):
                    store.add_many(entries[i:i + BATCH], crawl_id=crawl_id)
            finally:
                store_module.BULK_MIN = bulk_min
        else:
            for i in range(0, len(entries), BATCH):
                store.add_many(entries[i:i + BATCH], crawl_id=crawl_id)

    wall, cpu = timed(write)
    n = len(entries)
    again_wall, again_cpu = timed(lambda: [store.add_many(entries[i:i + BATCH], crawl_id=crawl_id)
                                           for i in range(0, n, BATCH)]) if mode == "batched" else (0.0, 0.0)
    ads = store.count()
    store.close()
    size, snap = disk(path)
    return {"name": name, "n": ads, "wall": wall, "cpu": cpu, "size": size, "snap": snap, "reactor_cpu": reactor_cpu,
            "again": (n / again_wall, n / again_cpu) if again_wall else None}


def codecs(bodies: list[bytes]) -> list[tuple[str, float, float]]:
    """(codec, mean compressed bytes per page, ms CPU per page) on the same pages; the dictionary is trained as
    the store does (on the board's first TRAIN_AFTER pages) and measured on the pages after those."""
    from crawler.snapcodec import DICT_SIZE, LEVEL, TRAIN_AFTER

    train, pages = bodies[:TRAIN_AFTER], bodies[TRAIN_AFTER:] or bodies
    trained = zstandard.train_dictionary(min(DICT_SIZE, sum(map(len, train)) // 50), train, level=LEVEL).as_bytes()

    def with_dict(level: int):
        digested = zstandard.ZstdCompressionDict(trained)
        digested.precompute_compress(level=level)
        return zstandard.ZstdCompressor(dict_data=digested).compress

    cases = [("gzip -9 (old path)", gzip.compress), ("zlib -6", lambda b: zlib.compress(b, 6)),
             (f"zstd -{LEVEL}, no dictionary", zstandard.ZstdCompressor(level=LEVEL).compress),
             *((f"zstd -{level}, board dictionary" + (" (the store's)" if level == LEVEL else ""), with_dict(level))
               for level in sorted({3, LEVEL, 9}))]
    out = []
    for label, fn in cases:
        start = time.process_time()
        total = sum(len(fn(b)) for b in pages)
        out.append((label, total / len(pages), 1000 * (time.process_time() - start) / len(pages)))
    return out


def run(quick: bool) -> str:
    compare_n, big_n = (60, 160) if quick else (3_000, 20_000)
    made = time.perf_counter()
    entries = realistic_entries(big_n)
    made = time.perf_counter() - made
    pages = [len(e["snapshot"]["body"]) for e in entries]
    small = entries[:compare_n]
    with tempfile.TemporaryDirectory(prefix="lurewatch-bench-store-") as tmp:
        tmp = Path(tmp)
        rows = [run_path(tmp, "old", small, "legacy"), run_path(tmp, "batched", small, "batched"),
                run_path(tmp, "thread", small, "thread"), run_path(tmp, "triggers", small, "triggers"),
                run_path(tmp, "big", entries, "batched")]
    old = rows[0]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"{len(entries):,} generated ads ({made:.0f} s to generate and assess), pages {min(pages) // 1024}-"
             f"{max(pages) // 1024} KB (mean {sum(pages) / len(pages) / 1024:.0f} KB), one board; load average at the "
             f"end {load}. The first four rows write the same {compare_n:,} ads into fresh databases, in this run.",
             "", "| path | ads | ads/s wall | ads per CPU-s | × old (wall) | × old (CPU) | bytes per ad "
             "| without snapshots | snapshots per ad |", "|---|---|---|---|---|---|---|---|---|"]
    labels = {"old": "old path: one transaction per ad, gzip", "batched": f"add_many, {BATCH} per transaction",
              "thread": "writer thread (the crawl's path)", "triggers": "add_many, indexes kept by per-row triggers (schema 7)",
              "big": f"add_many, {BATCH} per transaction, {len(entries):,} ads"}
    for r in rows:
        wall, cpu = r["n"] / r["wall"], r["n"] / r["cpu"]
        lines.append(f"| {labels[r['name']]} | {r['n']:,} | {wall:,.0f} | {cpu:,.0f} | "
                     f"{wall / (old['n'] / old['wall']):.1f}× | {cpu / (old['n'] / old['cpu']):.1f}× | "
                     f"{r['size'] / r['n']:,.0f} | {(r['size'] - r['snap']) / r['n']:,.0f} | {r['snap'] / r['n']:,.0f} |")
    thread = rows[2]
    again = rows[1]["again"]
    lines += ["", f"- Writer thread: the submitting (reactor) thread spent {1e6 * thread['reactor_cpu'] / thread['n']:.0f}"
                  " µs CPU per ad (queueing only); the rest runs on the writer thread.",
              f"- The same {compare_n:,} ads written again (a recrawl of unchanged pages: no snapshot, no history): "
              f"{again[0]:,.0f} ads/s wall, {again[1]:,.0f} per CPU-second.",
              "- Snapshot codecs on these pages (the dictionary trained on the board's first pages):", "",
              "| codec | bytes per page | ms CPU per page |", "|---|---|---|"]
    lines += [f"| {label} | {size:,.0f} | {ms:.2f} |" for label, size, ms in codecs([e["snapshot"]["body"] for e in small])]
    return "\n".join(lines)
