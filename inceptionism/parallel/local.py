"""Workers on this machine: in this process (:class:`InlinePool`), or in N spawned worker
processes (:class:`ProcessPool`), each loading its model once.

Both give results as (task, value) pairs, in completion order, with a bounded number of
tasks in flight (two per worker: one running, one waiting), so a folder of a million photos
holds only those in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from ..errors import InceptionismError

TASKS_PER_WORKER = 2  # in flight per worker: one running, one queued behind it


def default_threads(workers: int) -> int:
    """PyTorch threads per local worker: the cores shared out evenly, at least one each."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


class InlinePool:
    """One worker, in this process, one task after another: the reference every other pool
    must match."""

    workers = 1

    def __init__(self, factory: Callable[[], object]):
        self.factory = factory
        self.worker = None

    def __enter__(self) -> InlinePool:
        self.worker = self.factory()
        return self

    def results(self, tasks: Iterator) -> Iterator[tuple[object, object]]:
        for task in tasks:
            yield task, self.worker.run(task)

    def __exit__(self, *exc) -> None:
        close = getattr(self.worker, "close", None)
        if close is not None:
            close()
        self.worker = None


_worker = None  # the worker of a ProcessPool process, made once by its factory


def start_worker(factory: Callable[[], object]) -> None:
    """Initializer of a pool process: make its worker (the model loads here, once)."""
    global _worker
    _worker = factory()


def run_task(task):
    """A task, run by the worker of the pool process it was sent to."""
    return _worker.run(task)


class ProcessPool:
    """``workers`` local processes, spawned, not forked (forking a process that has started
    PyTorch's thread pools can deadlock), each making its worker once with ``factory``.

    ``results(tasks, idle=f)`` calls ``f()`` about every ``poll`` seconds while it waits, for
    callers that watch progress made elsewhere (frames a worker wrote into a folder).
    """

    def __init__(self, factory: Callable[[], object], workers: int, poll: float = 1.0):
        self.factory = factory
        self.workers = workers
        self.poll = poll
        self.pool = None

    def __enter__(self) -> ProcessPool:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=start_worker, initargs=(self.factory,))
        return self

    def results(self, tasks: Iterator,
                idle: Callable[[], None] | None = None) -> Iterator[tuple[object, object]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        tasks = iter(tasks)
        limit = TASKS_PER_WORKER * self.workers
        pending: dict = {}
        try:
            while True:
                for task in tasks:
                    pending[self.pool.submit(run_task, task)] = task
                    if len(pending) >= limit:
                        break
                if not pending:
                    return
                done, _ = wait(pending, timeout=self.poll if idle else None,
                               return_when=FIRST_COMPLETED)
                if idle is not None:
                    idle()
                for future in done:
                    task = pending.pop(future)
                    yield task, future.result()  # a worker's error ends the work here
        except BrokenProcessPool:
            raise InceptionismError(
                "A local worker process died (out of memory?); what was finished is kept, and "
                "running the same command again goes on from there."
            ) from None

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def local_pool(factory: Callable[[], object], workers: int):
    """An :class:`InlinePool` for one worker, else a :class:`ProcessPool`."""
    return InlinePool(factory) if workers <= 1 else ProcessPool(factory, workers)
