"""The crawl's assessments and ad writes off the reactor thread: one forked child process holds the crawl's engine
and its own connection to the crawl's database.

AssessPipeline (crawler/pipelines.py) hands each batch of store entries (Store.add_many's form) to
`AssessProcess.submit` and gets a Deferred list of outcomes; `settle_batch` is the one function that turns a batch
into outcomes, run in the child or, with LUREWATCH_ASSESS_PROCESS = False, in the reactor thread, so the verdicts
are the same either way. It skips the engine for an ad stored with the same text (it keeps its assessment), assesses
the others at once (`assess_batch`) and, with LUREWATCH_WRITE_PROCESS (the default, child only), writes the batch in
one transaction (crawler/batchwriter.py's write_ops, with the crawls row's progress): the reactor process then pays
for no JSON, compression, SQLite or index work of an ad, and gets back only its id, status, flag and language.
Without it the ads go to the writer thread (StorePipeline, crawler/batchwriter.py) as before.

At the end of the crawl StorePipeline also runs the campaign linking run in the child (`AssessProcess.link`,
LUREWATCH_LINK_PROCESS), after every batch it wrote: the crawl process pays none of its CPU.

The child is forked (no pickling: it starts in milliseconds) when the spider opens, before the crawl process writes
anything to the database (SQLite's lock state lives in process memory: a child forked during a write transaction
of the writer thread would wait for that lock forever). The child builds the crawl's engine itself
(`engine_factory`, on its own connection) the first time a batch has an ad to assess, so a recrawl whose pages all
answer 304 builds none, and the crawl process never loads the detection engine unless the child dies. It ignores
SIGINT (the crawl shuts down gracefully, the child keeps assessing until then) and dies with its parent (Linux
PR_SET_PDEATHSIG). When it dies, `submit` fails with AssessProcessDied.
"""
from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import signal
import sqlite3
import traceback
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Callable

from twisted.internet.defer import Deferred

from .sqlitetx import StoreError

if TYPE_CHECKING:
    from rules import Engine

EngineFactory = Callable[[Any], "Engine"]  # the crawl's engine, given a store (or None): built at first use
_ENGINE: Engine | None = None  # the child's engine (built in the child at the first ad to assess)
_ENGINE_FACTORY: EngineFactory | None = None
_OPEN_STORE: Callable[[], Any] | None = None  # opens the child's own connection (crawlrecord.store_opener)
_STORE: Any = None  # that connection, opened at the first batch


class AssessProcessDied(RuntimeError):
    """The assess child process ended (killed, out of memory, crashed)."""


class AssessError(RuntimeError):
    """One ad could not be assessed (the engine raised); the item fails alone."""


def assess_batch(engine: Engine, batch: list[tuple[dict, list[str]]]) -> list[tuple[bool, Any]]:
    """[(True, Assessment.to_dict()) or (False, error text)] for each (ad, its urls) of the batch, in order.
    The batch is assessed at once (Engine.assess_many); if that raises, each ad alone, so only a bad ad fails."""
    from .lureindex import without_own_lure

    try:
        found = engine.assess_many([ad for ad, _ in batch])
    except Exception:  # noqa: BLE001 - one at a time below
        found = [None] * len(batch)
    results: list[tuple[bool, Any]] = []
    for (ad, urls), assessment in zip(batch, found):
        try:  # a confirmed lure's new text is not its own match
            results.append((True, without_own_lure(engine, ad, assessment or engine.assess(ad), urls=urls).to_dict()))
        except Exception as exc:  # noqa: BLE001 - the item's own error
            results.append((False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"))
    return results


def assess_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What the engine reads of an ads row."""
    ad = {k: row.get(k) for k in ("url", "title", "company", "location", "description", "contact")}
    ad["salary"] = row.get("salary_text")
    return ad


def stored_unchanged(store, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The stored, assessed row of the entry's ad when its text is the same (Store.unchanged_ad), else None."""
    if store is None:
        return None
    try:
        return store.unchanged_ad(entry["ad"], entry.get("aliases") or [])
    except (StoreError, sqlite3.Error):
        return None  # assessed afresh; writing reports an unusable database


def settle_batch(engine: Engine | Callable[[], Engine], store, entries: list[dict[str, Any]], crawl_id: int | None = None,
                 write: bool = False) -> tuple[list[tuple[bool, Any]], bool]:
    """([(True, outcome) or (False, {"kind": "assess" | "store", "error": text})] for each Store.add_many entry, in
    order; whether the batch was committed in one transaction). An ad stored with the same text keeps its stored
    assessment (outcome {"unchanged": True, "flagged", "language"}); the others are assessed with assess_batch
    (outcome {"assessment": Assessment.to_dict()}). With `write` (and a crawl id) the assessed entries are written
    (their "assessment" and "language" set) and each outcome is {"stored": (ad_id, status), "unchanged", "flagged",
    "language", "truncated": fields cut}. `engine` may be a function giving the engine: called only when an ad
    needs assessing."""
    judged: list[tuple[bool, Any] | None] = [None] * len(entries)
    todo = []
    for i, entry in enumerate(entries):
        row = stored_unchanged(store, entry)
        if row is None:
            todo.append(i)
        else:
            judged[i] = (True, {"unchanged": True, "flagged": bool(row.get("flagged")), "language": row.get("language")})
    tasks = [(assess_fields(entries[i]["ad"]), [entries[i]["ad"]["url"], *(entries[i].get("aliases") or [])]) for i in todo]
    if tasks and callable(engine):
        engine = engine()
    for i, (ok, value) in zip(todo, assess_batch(engine, tasks) if tasks else []):
        judged[i] = (True, {"assessment": value}) if ok else (False, {"kind": "assess", "error": value})
    if not write or crawl_id is None or store is None:
        return judged, False
    return write_batch(store, entries, judged, crawl_id)


def write_batch(store, entries, judged, crawl_id: int) -> tuple[list[tuple[bool, Any]], bool]:
    """Write the entries settle_batch judged (an ad the engine failed on is not written) as the writer thread
    would: one transaction with the crawls row's progress, one per ad if the batch fails."""
    from .batchwriter import write_ops
    from .crawlrecord import record_progress

    keep = [i for i, (ok, _value) in enumerate(judged) if ok]
    for i in keep:
        outcome, entry = judged[i][1], entries[i]
        assessment = outcome.get("assessment")
        entry["assessment"] = assessment  # None: the store keeps the unchanged ad's assessment and evidence
        entry["ad"]["language"] = assessment["language"] if assessment else outcome.get("language")
    written, committed = write_ops(store, [("save", (entries[i], crawl_id)) for i in keep], record_progress)
    results = list(judged)
    for i, (ok, value) in zip(keep, written):
        if not ok:
            results[i] = (False, {"kind": "store", "error": f"{type(value).__name__}: {value}"})
            continue
        assessment = judged[i][1].get("assessment")
        results[i] = (True, {"stored": value, "unchanged": assessment is None,
                             "flagged": bool(assessment["flagged"] if assessment else judged[i][1].get("flagged")),
                             "language": entries[i]["ad"]["language"],
                             "truncated": len(assessment["truncated_fields"]) if assessment else 0})
    return results, committed


def _child_start(engine_factory: EngineFactory, open_store: Callable[[], Any] | None = None) -> None:
    global _ENGINE, _ENGINE_FACTORY, _OPEN_STORE
    _ENGINE, _ENGINE_FACTORY, _OPEN_STORE = None, engine_factory, open_store
    gc.freeze()  # the inherited heap is never traversed here: its pages stay shared with the crawl process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: killed when the crawl process dies (a SIGKILLed crawl leaves no orphan)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def _child_store():
    """The child's own connection, opened at first use (StoreError, sqlite3.Error when it cannot be)."""
    global _STORE
    if _STORE is None and _OPEN_STORE is not None:
        _STORE = _OPEN_STORE()
    return _STORE


def _child_settle(entries: list[dict[str, Any]], crawl_id: int | None, write: bool) -> tuple[list[tuple[bool, Any]], bool]:
    try:
        store = _child_store()
    except (StoreError, sqlite3.Error) as exc:
        if write and crawl_id is not None:
            error = {"kind": "store", "error": f"{type(exc).__name__}: {exc}"}
            return [(False, error)] * len(entries), False
        store = None
    return settle_batch(lambda: _child_engine(store), store, entries, crawl_id, write)


def _child_engine(store) -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _ENGINE_FACTORY(store)
        gc.freeze()  # the engine lives as long as the child: no collection walks it
    return _ENGINE


def _child_link(ad_ids: list[int], settings) -> tuple[bool, Any]:
    """(True, LinkReport) of the end-of-crawl campaign linking run (link_changed) on the child's connection, or
    (False, error text) when the database refused it (the crawl counts lurewatch/campaigns/failed)."""
    from .campaigns import link_changed

    try:
        store = _child_store()
        if store is None:
            raise StoreError("the assess process has no database")
        return True, link_changed(store, ad_ids, settings=settings)
    except (StoreError, sqlite3.Error, ValueError) as exc:
        return False, str(exc)


def _child_close() -> None:
    global _STORE
    if _STORE is not None:
        _STORE.close()
        _STORE = None


def _child_ready() -> int:
    return os.getpid()


def _child_warm() -> None:
    """Import what the child's batches and its end-of-crawl linking run use (the engine, the campaign code; ~0.3 s)
    while the crawl waits for its first pages: the first batch and the last linking run no longer pay for it.
    Nothing is built: a failed import fails again, as before, where it is used."""
    import importlib

    for module in ("crawler.lureindex", "crawler.campaigns.linking", "crawler.campaigns.risk"):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - reported by the batch or the linking run that needs it
            pass


class AssessProcess:
    """One child process settling batches with `engine` and, given `open_store`, its own database connection
    (see module docstring)."""

    def __init__(self, engine_factory: EngineFactory, open_store: Callable[[], Any] | None = None):
        self.engine_factory = engine_factory
        self.open_store = open_store
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.pid: int | None = None
        self.cpu_before = 0.0

    def start(self) -> Deferred:
        """Fork the child now; Deferred pid once it runs."""
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_child_start,
            initargs=(self.engine_factory, self.open_store))
        d = self._deferred(self.pool.submit(_child_ready))
        d.addCallback(self._started)
        self.pool.submit(_child_warm)
        return d

    def _started(self, pid: int) -> int:
        self.pid = pid
        return pid

    def submit(self, entries: list[dict[str, Any]], crawl_id: int | None = None, write: bool = False) -> Deferred:
        """Deferred settle_batch result of `entries`, computed in the child; AssessProcessDied if it is gone."""
        if self.pool is None:
            self.start()
        try:
            future = self.pool.submit(_child_settle, entries, crawl_id, write)
        except (BrokenProcessPool, RuntimeError) as exc:
            d: Deferred = Deferred()
            d.errback(AssessProcessDied(f"the assess process is gone ({exc})"))
            return d
        return self._deferred(future)

    def link(self, ad_ids: list[int], settings) -> Deferred:
        """Deferred (True, LinkReport) or (False, error) of the campaign linking run over `ad_ids`, in the child
        after every batch sent before; AssessProcessDied if it is gone."""
        try:
            if self.pool is None:  # not started (AssessPipeline starts it when the spider opens)
                self.start()
            future = self.pool.submit(_child_link, list(ad_ids), settings)
        except (BrokenProcessPool, RuntimeError) as exc:
            d: Deferred = Deferred()
            d.errback(AssessProcessDied(f"the assess process is gone ({exc})"))
            return d
        return self._deferred(future)

    @staticmethod
    def _deferred(future: concurrent.futures.Future) -> Deferred:
        """A Deferred that fires on the reactor thread with the future's result."""
        from twisted.internet import reactor

        d: Deferred = Deferred()

        def done(f: concurrent.futures.Future) -> None:
            exc = f.exception()
            if isinstance(exc, BrokenProcessPool):
                exc = AssessProcessDied(f"the assess process died ({exc})")
            if exc is None:
                reactor.callFromThread(d.callback, f.result())
            else:
                reactor.callFromThread(d.errback, exc)

        future.add_done_callback(done)
        return d

    def close(self) -> None:
        """Stop the child (its batches are all answered by then)."""
        if self.pool is not None:
            try:
                self.pool.submit(_child_close).result()  # its own connection closed cleanly
            except (BrokenProcessPool, RuntimeError):
                pass
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
