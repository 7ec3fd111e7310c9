"""Where long jobs of many runs (calibrations, sweeps) run: a Dask cluster.

:func:`dask_client` gives a client on a local cluster (one single-threaded worker process per
core: a run is single-threaded numpy and numba, and processes keep their imports and compiled
kernels between tasks) or on an existing scheduler, so that a job that outgrows one machine runs
on a cluster unchanged; or no client at all for one local worker, when the caller runs the jobs
in its own process (reproducible tracebacks, nothing to pickle). ``distributed`` is imported
only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from purgesim.parallel import children_ignore_interrupts


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` if given, else on a new local cluster of
    ``workers`` processes (default: one per core), closed on exit; ``None`` when there is no
    scheduler and ``workers`` is 1 (the caller runs in-process)."""
    if scheduler is None and workers == 1:
        yield None
        return
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        with children_ignore_interrupts():
            # the workers ignore Ctrl-C (this process stops them) and keep their logs to
            # themselves: what fails in a worker reaches the caller through its future
            cluster = LocalCluster(n_workers=workers or cores(), threads_per_worker=1,
                                   processes=True, dashboard_address=":0",
                                   silence_logs=logging.CRITICAL)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
