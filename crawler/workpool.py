"""Batches of work in forked worker processes, results in order, memory bounded (`rescan`, `import`).

    with WorkerPool(2, setup, (engine, db_path)) as pool:
        for result in pool.map(work, tasks):   # tasks: an iterator of argument tuples
            write(result)                      # only this process writes

Workers are forked when the pool is entered, so they inherit the parent's objects (the engine is not rebuilt);
enter it before any thread starts (a progress bar). At most two tasks per worker are in flight, so a lazy task
iterator is never read far ahead. One worker runs the work here, in this process.
"""
from __future__ import annotations

import multiprocessing
from collections import deque
from typing import Any, Callable, Iterable, Iterator


class WorkerPool:
    def __init__(self, workers: int, setup: Callable[..., None] | None = None, setup_args: tuple = ()):
        self.workers = workers
        self.setup, self.setup_args = setup, setup_args
        self.pool = None

    def __enter__(self) -> "WorkerPool":
        if self.workers > 1:
            self.pool = multiprocessing.get_context("fork").Pool(self.workers, self.setup, self.setup_args)
        elif self.setup:
            self.setup(*self.setup_args)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.pool is not None:
            if exc_type is None:
                self.pool.close()
            self.pool.terminate()
            self.pool.join()

    def map(self, work: Callable[..., Any], tasks: Iterable[tuple]) -> Iterator[Any]:
        """work(*task) for each task, in order."""
        if self.pool is None:
            for task in tasks:
                yield work(*task)
            return
        pending: deque = deque()
        tasks = iter(tasks)
        while True:
            while len(pending) < 2 * self.workers and (task := next(tasks, None)) is not None:
                pending.append(self.pool.apply_async(work, task))
            if not pending:
                return
            yield pending.popleft().get()
