"""Running independent jobs on worker processes, a few at a time.

Ensembles (``run --reps``) and comparisons (``compare``) both run one simulation per job.
:func:`run_jobs` keeps at most ``workers`` jobs in flight, so that a job's memory is taken
only when a worker is free and a failure stops what has not started; it runs the jobs in
the calling process when there is one worker (reproducible tracebacks, no pickling).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


def quiet_on_interrupt() -> None:
    """In a worker process: on Ctrl-C (which the terminal sends to every process of the
    command) stop at once without a traceback; the parent process says in one line what was
    kept. A file being written is left as a temporary one, which the next write removes."""
    signal.signal(signal.SIGINT, _stop)


def _stop(signum: int, frame: object) -> None:
    os._exit(128 + signum)


@contextmanager
def children_ignore_interrupts() -> Iterator[None]:
    """Processes started inside the block ignore Ctrl-C (they inherit the ignored signal),
    so that only this process handles it and stops them: used for Dask's local cluster,
    whose workers would otherwise each print a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class JobFailed(RuntimeError, Generic[K]):
    """A job raised; no new job was started after it. ``error`` is what it raised."""

    def __init__(self, key: K, error: BaseException):
        super().__init__(f"{key}: {type(error).__name__}: {error}")
        self.key = key
        self.error = error


def run_jobs(fn: Callable[..., R], keys: Sequence[K], args_of: Callable[[K], tuple[Any, ...]],
             *, workers: int = 1, on_done: Callable[[K, R], None] | None = None,
             on_failed: Callable[[K, BaseException], None] | None = None) -> dict[K, R]:
    """Call ``fn(*args_of(key))`` for each of ``keys``; return the results by key.

    ``fn`` and its arguments must pickle when ``workers`` > 1. ``args_of(key)`` is called in
    this process just before the job starts, so that it can register the job (a catalog row,
    say) only when a worker takes it. ``on_done`` and ``on_failed`` are called in this
    process as jobs end. After a failure no new job starts; the jobs in flight finish, then
    :class:`JobFailed` is raised for the first failure. On an interrupt (Ctrl-C) or any
    other BaseException, ``on_failed`` is called for each job in flight before it propagates.
    """
    keys = list(keys)
    done: dict[K, R] = {}

    def finished(key: K, result: R) -> None:
        done[key] = result
        if on_done is not None:
            on_done(key, result)

    def failed(key: K, exc: BaseException) -> None:
        if on_failed is not None:
            on_failed(key, exc)

    if workers <= 1 or len(keys) <= 1:
        for key in keys:
            try:
                result = fn(*args_of(key))
            except BaseException as exc:
                failed(key, exc)
                if isinstance(exc, Exception):
                    raise JobFailed(key, exc) from exc
                raise
            finished(key, result)
        return done
    failure: JobFailed[K] | None = None
    pending = list(keys)
    flying: dict[Future[R], K] = {}
    with ProcessPoolExecutor(max_workers=min(workers, len(keys)),
                             initializer=quiet_on_interrupt) as pool:
        try:
            while pending or flying:
                while pending and failure is None and len(flying) < workers:
                    key = pending.pop(0)
                    flying[pool.submit(fn, *args_of(key))] = key
                if failure is not None:
                    pending.clear()
                if not flying:
                    break
                ready, _ = wait(flying, return_when=FIRST_COMPLETED)
                for future in ready:
                    key = flying.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:
                        failed(key, exc)
                        failure = failure or JobFailed(key, exc)
                    else:
                        finished(key, result)
        except BaseException as exc:
            for future, key in flying.items():
                future.cancel()
                failed(key, exc)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if failure is not None:
        raise failure
    return done
