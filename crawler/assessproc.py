"""The crawl's assessments off the reactor thread: one forked child process holds the crawl's engine.

AssessPipeline (crawler/pipelines.py) hands each batch to `AssessProcess.submit` and gets a Deferred list of
results; `assess_batch` is the one function that turns a batch into results, run in the child or, with
LUREWATCH_ASSESS_PROCESS = False, in the reactor thread, so the verdicts are the same either way.

The child is forked (no pickling, no rebuilt engine: it starts in milliseconds) when the spider opens, before
the first batch. It ignores SIGINT (the crawl shuts down gracefully, the child keeps assessing until then) and
dies with its parent (Linux PR_SET_PDEATHSIG). When it dies, `submit` fails with AssessProcessDied.
"""
from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import signal
import traceback
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from twisted.internet.defer import Deferred

from rules import Engine

from .lureindex import without_own_lure

_ENGINE: Engine | None = None  # the child's engine (inherited through fork)


class AssessProcessDied(RuntimeError):
    """The assess child process ended (killed, out of memory, crashed)."""


class AssessError(RuntimeError):
    """One ad could not be assessed (the engine raised); the item fails alone."""


def assess_batch(engine: Engine, batch: list[tuple[dict, list[str]]]) -> list[tuple[bool, Any]]:
    """[(True, Assessment.to_dict()) or (False, error text)] for each (ad, its urls) of the batch, in order.
    The batch is assessed at once (Engine.assess_many); if that raises, each ad alone, so only a bad ad fails."""
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


def _child_start(engine: Engine) -> None:
    global _ENGINE
    _ENGINE = engine
    gc.freeze()  # the inherited heap is never traversed here: its pages stay shared with the crawl process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: killed when the crawl process dies (a SIGKILLed crawl leaves no orphan)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def _child_assess(batch: list[tuple[dict, list[str]]]) -> list[tuple[bool, Any]]:
    return assess_batch(_ENGINE, batch)


def _child_ready() -> int:
    return os.getpid()


class AssessProcess:
    """One child process assessing batches with `engine` (see module docstring)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.pid: int | None = None
        self.cpu_before = 0.0

    def start(self) -> Deferred:
        """Fork the child now; Deferred pid once it runs."""
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_child_start,
            initargs=(self.engine,))
        d = self._deferred(self.pool.submit(_child_ready))
        d.addCallback(self._started)
        return d

    def _started(self, pid: int) -> int:
        self.pid = pid
        return pid

    def submit(self, batch: list[tuple[dict, list[str]]]) -> Deferred:
        """Deferred assess_batch results of `batch`, computed in the child; AssessProcessDied if it is gone."""
        if self.pool is None:
            self.start()
        try:
            future = self.pool.submit(_child_assess, batch)
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
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
