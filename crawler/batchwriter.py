"""A crawl's writes to SQLite, off the reactor thread: one writer thread with its own connection (the ads go to the
assess child instead when it writes them, crawler/assessproc.py; it uses `write_ops` too).

The reactor thread hands over ads (StorePipeline), "seen" and "removed" marks (ConditionalRequestMiddleware, the
resume dupefilter) and gets a Deferred for each. The thread writes them in order, in batches: one BEGIN IMMEDIATE
... COMMIT per LUREWATCH_WRITE_BATCH operations or LUREWATCH_WRITE_INTERVAL seconds, whichever comes first. Each
Deferred fires on the reactor thread once its batch is committed (so an ad counts as stored, and its page as done
for resume, only when it is on disk). The same transaction adds the batch's counts to the crawls row
(crawler.crawlrecord.record_progress): a crawl killed mid-batch loses that uncommitted batch only, and its row says
how many ads it had stored. A batch that fails is written again one operation per transaction, so one bad ad fails
alone; a database still locked after LUREWATCH_DB_RETRY_FOR fails the whole batch (StoreError).
`close()` writes what is queued and stops the thread.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from typing import Any, Callable

from twisted.internet.defer import Deferred

from .sqlitetx import StoreError
from .store import Store

BATCH = 500  # operations per transaction at most
INTERVAL = 0.2  # seconds the writer waits to fill a batch after its first operation
POLL = 0.02  # seconds between two looks at the queue meanwhile (a full batch or close() ends the wait)
_STOP = object()


class BatchWriter:
    def __init__(self, open_store: Callable[[], Store], *, batch: int = BATCH, interval: float = INTERVAL,
                 call_in_reactor: Callable[..., Any] | None = None,
                 progress: Callable[[Store, int, Counter], None] | None = None):
        if batch < 1 or interval < 0:
            raise ValueError(f"write batch must be >= 1 and interval >= 0, got {batch} and {interval}")
        if call_in_reactor is None:
            from twisted.internet import reactor

            call_in_reactor = reactor.callFromThread
        self.open_store, self.batch, self.interval = open_store, batch, interval
        self.call_in_reactor, self.progress = call_in_reactor, progress
        self.queue: queue.Queue = queue.Queue()
        self.closed = False
        self.batches = 0  # transactions committed
        self._done: Deferred | None = None
        self._thread = threading.Thread(target=self._run, name="lurewatch-writer", daemon=True)
        self._thread.start()

    # -- the reactor side -----------------------------------------------------------------------
    def save(self, entry: dict[str, Any], crawl_id: int | None) -> Deferred:
        """Store.add_many entry -> Deferred (ad_id, status)."""
        return self._submit("save", entry, crawl_id)

    def mark_seen(self, ad_id: int, crawl_id: int | None) -> Deferred:
        return self._submit("seen", ad_id, crawl_id)

    def mark_removed(self, ad_id: int, crawl_id: int | None, reason: str = "") -> Deferred:
        """Deferred True when the ad was marked removed, False when it already was."""
        return self._submit("removed", ad_id, crawl_id, reason)

    def _submit(self, kind: str, *args: Any) -> Deferred:
        if self.closed:
            raise StoreError("the crawl's database writer is closed")
        d: Deferred = Deferred()
        self.queue.put((kind, args, d))
        return d

    def close(self) -> Deferred:
        """Write what is queued, then stop; the Deferred fires (on the reactor thread) when the thread has ended."""
        if self._done is None:
            self._done = Deferred()
            self.closed = True
            self.queue.put(_STOP)
        return self._done

    def close_now(self) -> None:
        """close(), waiting here for the thread (the crawl is ending: nothing else runs meanwhile)."""
        self.close()
        self._thread.join()

    # -- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        store = None
        try:
            try:
                store = self.open_store()
            except Exception as exc:  # noqa: BLE001 - every operation fails with it
                self._fail_all(exc)
                return
            while True:
                ops, stop = self._next_batch()
                if ops:
                    self._write(store, ops)
                if stop:
                    return
        finally:
            if store is not None:
                store.close()
            if self._done is not None:
                self.call_in_reactor(self._done.callback, self.batches)

    def _next_batch(self) -> tuple[list, bool]:
        first = self.queue.get()
        if first is _STOP:
            return [], True
        ops, deadline = [first], time.monotonic() + self.interval
        # the batch fills while this thread sleeps: a thread waiting on the queue is woken by every put, and each
        # wake-up is a GIL hand-off that cost the reactor thread ~0.5 ms per 304 mark of a recrawl
        while (wait := deadline - time.monotonic()) > 0 and self.queue.qsize() < self.batch - 1 and not self.closed:
            time.sleep(min(wait, POLL))
        while len(ops) < self.batch:
            try:
                op = self.queue.get_nowait()
            except queue.Empty:
                break
            if op is _STOP:
                return ops, True
            ops.append(op)
        return ops, False

    def _fail_all(self, exc: BaseException) -> None:
        while True:
            op = self.queue.get()
            if op is _STOP:
                return
            self.call_in_reactor(op[2].errback, exc)

    def _write(self, store: Store, ops: list) -> None:
        results, committed = write_ops(store, [(kind, args) for kind, args, _d in ops], self.progress)
        self.batches += committed
        self.call_in_reactor(self._deliver, [op[2] for op in ops], results)

    def _deliver(self, deferreds: list[Deferred], results: list[tuple[bool, Any]]) -> None:
        for d, (ok, value) in zip(deferreds, results):
            if ok:
                d.callback(value)
            else:
                d.errback(value)


def write_ops(store: Store, ops: list[tuple[str, tuple]], progress: Callable[[Store, int, Counter], None] | None = None
              ) -> tuple[list[tuple[bool, Any]], bool]:
    """Write `ops` ((kind, args): "save" (entry, crawl_id), "seen" (ad_id, crawl_id), "removed" (ad_id, crawl_id,
    reason)) in one transaction; ([(True, result) or (False, exception)] in order, whether that one transaction
    committed). A batch that fails is written again one operation per transaction, so one bad ad fails alone; a
    database still locked after retrying fails every operation (StoreError). Used by the writer thread and by the
    crawl's child process (crawler/assessproc.py)."""
    try:
        return store.write(lambda: _apply(store, ops, progress)), True
    except StoreError as exc:  # still locked after retrying: every operation of the batch failed
        return [(False, exc)] * len(ops), False
    except Exception:  # noqa: BLE001 - find the operation that fails: one transaction each
        results = []
        for op in ops:
            try:
                results.append(store.write(lambda op=op: _apply(store, [op], progress))[0])
            except Exception as exc:  # noqa: BLE001 - handed to the operation's caller
                results.append((False, exc))
        return results, False


def _apply(store: Store, ops: list[tuple[str, tuple]], progress) -> list[tuple[bool, Any]]:
    """Every operation in order (consecutive ads in one add_many), then the crawls row's progress."""
    results: list[tuple[bool, Any]] = []
    counts: Counter = Counter()
    crawl_id = None
    saves: list[dict[str, Any]] = []

    def flush() -> None:
        for ad_id, status in store.add_many(saves, crawl_id=crawl_id):
            counts[status] += 1
            results.append((True, (ad_id, status)))
        saves.clear()

    for kind, args in ops:
        if kind == "save":
            saves.append(args[0])
            crawl_id = args[1]  # one writer serves one crawl
            continue
        flush()
        if kind == "seen":
            results.append((True, store.mark_seen(*args)))
        else:
            results.append((True, store.mark_removed(*args)))
    flush()
    if counts and crawl_id is not None and progress is not None:
        progress(store, crawl_id, counts)
    return results
