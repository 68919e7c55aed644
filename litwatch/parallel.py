"""Using the other cores: an ordered, bounded map over worker processes.

Parsing PubMed XML and matching claim rules are pure Python work that holds
the GIL, so threads cannot spread it; worker processes can. ``ordered_map``
hands items to a pool and gives the results back in input order, with at
most ``ahead`` items in flight, so memory stays flat however many items the
input yields (``multiprocessing.Pool.imap`` would read the whole input ahead).

Workers are *spawned* (a fresh interpreter importing only what the function
needs), never forked: a fork copies open database connections and lock state
of a process that may have threads running. The function and the items must
be picklable (a module-level function; ``functools.partial`` of one is fine).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs() -> int:
    """Worker processes to use when the caller does not say: one per available CPU."""
    return available_cpus()


def ordered_map(
    function: Callable[[T], R], items: Iterable[T], *, jobs: int, ahead: int | None = None
) -> Generator[R, None, None]:
    """``map(function, items)`` run in ``jobs`` worker processes, results in input order.

    At most ``ahead`` items (default ``2 * jobs``) are submitted and not yet
    consumed. An exception raised by ``function`` is raised here, at that
    item's place in the order. Closing the iterator early (or an error) drops
    the pending items and shuts the workers down before returning.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    window = ahead if ahead is not None else 2 * jobs
    pending: deque[Future[R]] = deque()
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
    )
    try:
        source = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(pool.submit(function, item))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker() -> None:
    """Set up a worker: Ctrl-C is the parent's to handle, and the parent's death ends it.

    A terminal's SIGINT reaches the whole process group; a worker that raised
    KeyboardInterrupt would turn the parent's graceful stop (the scheduler
    finishing its run) into an error. The parent still stops on it and shuts
    the pool down. A parent killed outright (SIGKILL, SIGTERM) shuts nothing
    down, and a worker waiting for its next task would wait forever: a thread
    watching the parent ends it instead.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(
            target=_exit_when_ready, args=(parent.sentinel,), name="parent-watch", daemon=True
        )
        watch.start()


def _exit_when_ready(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)  # the parent is gone: nobody wants this worker's results
