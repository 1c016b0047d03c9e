"""`lurewatch ingest`: the single writer that moves items pushed by frontier workers (LUREWATCH_SINK=redis)
from each crawl's Redis stream into the SQLite store.

- Reads with a consumer group (`ingest`), so an entry is delivered until it is acknowledged; entries
  read before a kill and not acknowledged are read again first (the consumer's pending list).
- Idempotent: each item carries an id (run + content); the id is recorded in `ingested_items` in the same
  transaction as the ad, so an item delivered twice is stored once.
- Resumable: XACK only after the transaction committed.
- One `crawls` row per (crawl, run) pushed (job = the crawl's name, host = "ingest"); the run's `end`
  entry (written by the run's last worker) settles its take-downs: the boards every worker walked
  completely lose the ads nobody saw since the run began.

Fault injection for the tests: LUREWATCH_INGEST_CRASH_AFTER=N kills the process (SIGKILL) right after
the N-th item is committed and before it is acknowledged.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
from dataclasses import dataclass, field

from . import frontier as fr
from .crawlrecord import crawl_counts
from .store import Store, now

TABLES = (
    "CREATE TABLE IF NOT EXISTS ingested_items (item_id TEXT PRIMARY KEY, crawl_id INTEGER, ad_id INTEGER,"
    " status TEXT, at TEXT)",
    "CREATE TABLE IF NOT EXISTS ingested_runs (crawl TEXT, run INTEGER, crawl_id INTEGER, finished_at TEXT,"
    " PRIMARY KEY (crawl, run))",
)
CONSUMER = "lurewatch-ingest"  # one writer per store: a rerun takes over its own pending entries
BATCH = 100


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    runs_settled: list[str] = field(default_factory=list)
    removed: int = 0

    def line(self) -> str:
        return (f"ingested {self.stored} items ({self.duplicates} delivered again, skipped); "
                f"runs settled: {', '.join(self.runs_settled) or 'none'}; {self.removed} ads marked removed")


class Ingest:
    def __init__(self, client, store: Store):
        self.r = client
        self.store = store
        self.report = IngestReport()
        crash = os.environ.get("LUREWATCH_INGEST_CRASH_AFTER")
        self.crash_after = int(crash) if crash else None
        store.write(lambda: [store.db.execute(sql) for sql in TABLES])

    def run(self, crawls: list[str] | None = None) -> IngestReport:
        """Ingest everything waiting in the streams of `crawls` (default: every crawl known to Redis)."""
        import redis

        names = crawls or sorted(c.decode() for c in self.r.smembers(f"{fr.PREFIX}crawls"))
        for crawl in names:
            key = fr.items_key(crawl)
            try:
                self.r.xgroup_create(key, fr.ITEMS_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            for start in ("0", ">"):  # first what an earlier run read and did not acknowledge, then new entries
                last = start
                while True:
                    got = self.r.xreadgroup(fr.ITEMS_GROUP, CONSUMER, {key: last}, count=BATCH)
                    entries = got[0][1] if got else []
                    if not entries:
                        break
                    for entry_id, fields in entries:
                        self.handle(crawl, key, entry_id, {k.decode(): v.decode() for k, v in fields.items()})
                    if start == "0":
                        last = entries[-1][0]
        return self.report

    def handle(self, crawl: str, key: str, entry_id, fields: dict) -> None:
        run = int(fields.get("run", 0))
        if fields.get("kind") == "item":
            self.store_item(crawl, run, fields["id"], json.loads(fields["data"]))
        elif fields.get("kind") == "end":
            self.settle(crawl, run, json.loads(fields["data"]))
        self.r.xack(key, fr.ITEMS_GROUP, entry_id)  # only after the transaction above committed

    def crawl_row(self, crawl: str, run: int, spider: str = "frontier") -> int:
        db = self.store.db
        row = db.execute("SELECT crawl_id FROM ingested_runs WHERE crawl = ? AND run = ?", [crawl, run]).fetchone()
        if row:
            return row[0]

        def create() -> int:
            crawl_id = self.store.start_crawl(spider, {"frontier_crawl": crawl, "run": run}, job=crawl,
                                              host=f"ingest@{socket.gethostname()}")
            db.execute("INSERT INTO ingested_runs (crawl, run, crawl_id) VALUES (?, ?, ?)", [crawl, run, crawl_id])
            return crawl_id

        return self.store.write(create)

    def store_item(self, crawl: str, run: int, item_id: str, payload: dict) -> None:
        row = payload["row"]
        crawl_id = self.crawl_row(crawl, run, row.get("spider") or "frontier")
        snapshot = payload.get("snapshot")
        if snapshot and "body_b64" in snapshot:
            snapshot = {**snapshot, "body": base64.b64decode(snapshot.pop("body_b64"))}
        db = self.store.db

        def work() -> bool:
            if db.execute("SELECT 1 FROM ingested_items WHERE item_id = ?", [item_id]).fetchone():
                return False
            ad_id, status = self.store.save_ad(row, payload.get("assessment"), aliases=payload.get("aliases") or [],
                                               crawl_id=crawl_id, snapshot=snapshot)
            db.execute("INSERT INTO ingested_items (item_id, crawl_id, ad_id, status, at) VALUES (?, ?, ?, ?, ?)",
                       [item_id, crawl_id, ad_id, status, now()])
            return True

        if self.store.write(work):
            self.report.stored += 1
            if self.crash_after is not None and self.report.stored >= self.crash_after:
                os.kill(os.getpid(), signal.SIGKILL)  # committed, not acknowledged: the worst moment
        else:
            self.report.duplicates += 1

    def settle(self, crawl: str, run: int, result: dict) -> None:
        """The run's end: take-downs on the boards every worker walked completely, and its crawls row."""
        if not result.get("pushed"):
            return  # no item of this run came through the stream: the worker that closed it settled it
        crawl_id = self.crawl_row(crawl, run)
        db = self.store.db
        if db.execute("SELECT finished_at FROM ingested_runs WHERE crawl = ? AND run = ?", [crawl, run]).fetchone()[0]:
            return  # settled before a crash, not acknowledged
        removed = 0
        for source in result.get("complete_sources", ()):
            removed += self.store.remove_unseen(source, result["started_at"], crawl_id,
                                                "absent from a complete crawl of its board (all workers)")
        counts = dict(db.execute("SELECT status, count(*) FROM ingested_items WHERE crawl_id = ? GROUP BY status",
                                 [crawl_id]).fetchall())
        flagged = db.execute("SELECT count(*) FROM ingested_items i JOIN ads a ON a.id = i.ad_id"
                             " WHERE i.crawl_id = ? AND a.flagged = 1", [crawl_id]).fetchone()[0]
        stats = {"lurewatch/stored": sum(counts.values()), "lurewatch/ads/new": counts.get("new", 0),
                 "lurewatch/ads/changed": counts.get("changed", 0), "lurewatch/ads/unchanged": counts.get("unchanged", 0),
                 "lurewatch/ads/removed": removed, "lurewatch/flagged": flagged,
                 "response_received_count": sum(result.get("pages", {}).values())}
        status = "finished" if result.get("complete_sources") or not result.get("incomplete_sources") else "partial"
        message = (f"frontier {crawl} run {run}: {len(result.get('pages', {}))} workers, {result.get('reason')}; "
                   f"complete boards: {', '.join(result.get('complete_sources', ())) or 'none'}")

        def finish() -> None:
            self.store.finish_crawl(crawl_id, status=status, message=message, **crawl_counts(stats))
            db.execute("UPDATE ingested_runs SET finished_at = ? WHERE crawl = ? AND run = ?", [now(), crawl, run])

        self.store.write(finish)
        self.report.runs_settled.append(f"{crawl} run {run}")
        self.report.removed += removed
