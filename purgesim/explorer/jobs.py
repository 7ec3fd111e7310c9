"""The server's jobs: a bounded queue in front of the workers, pages following their jobs,
and a job stopped when no page follows it any more.

A job is known by its key (the kind and what it computes): a second page asking for the
same thing (a class opening one link) follows the job already there instead of starting
another. At most ``workers`` jobs run at once and ``max_waiting`` wait; a request beyond
that is refused as busy. When the last page following a job goes (closed, reloaded, its
connection lost), the job waits ``grace_seconds`` for a page to come back, then is
cancelled: taken off the queue, or its worker stopped. Runs a job computes are registered in
the run catalog (by this process only: DuckDB takes one writer at a time), as ``running``
when they start and ``complete`` when they end, or ``failed`` with the reason if the job is
stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from purgesim.catalog import Catalog
from purgesim.explorer.limits import Limits
from purgesim.explorer.workers import JobFailed, Pool, TimeLimit, WorkerDied

log = logging.getLogger("purgesim.explorer")
HEARTBEAT_SECONDS = 2.0
"""A page following a job hears from it at least this often (a lost connection shows when
a write fails)."""
FINAL = ("done", "error")


class Busy(RuntimeError):
    """The queue is full."""


@dataclass(eq=False)
class Job:
    key: str
    kind: str
    args: tuple[Any, ...]
    label: str
    status: str = "waiting"
    last: dict[str, Any] = field(default_factory=dict)
    """The last event, for a page that starts following halfway."""
    followers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    open_runs: set[str] = field(default_factory=set)
    """Catalog ids of runs started and not finished."""

    @property
    def finished(self) -> bool:
        return self.status in FINAL


class Jobs:
    """The jobs of one server."""

    def __init__(self, pool: Pool, limits: Limits, catalog: Catalog | None):
        self.pool, self.limits, self.catalog = pool, limits, catalog
        self.jobs: dict[str, Job] = {}
        self.waiting: list[Job] = []
        self.cancelled = 0
        # one thread writes the catalog, in the order the messages came
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog")

    # ------------------------------------------------------------------ submitting
    def submit(self, kind: str, key: str, args: tuple[Any, ...], label: str) -> Job:
        """The job computing ``key``: the one already there, or a new one queued; raises
        :class:`Busy` if too many wait."""
        job = self.jobs.get(key)
        if job is not None and not job.finished:
            return job
        if len(self.waiting) >= self.limits.max_waiting:
            raise Busy(f"busy: {len(self.waiting)} jobs are waiting for the "
                       f"{self.limits.workers} worker(s); allowed: at most "
                       f"{self.limits.max_waiting} waiting; try again in a moment")
        job = Job(key, kind, args, label)
        self.jobs[key] = job
        self.waiting.append(job)
        job.last = self._waiting_event(job)
        job.task = asyncio.get_running_loop().create_task(self._run(job))
        return job

    def _waiting_event(self, job: Job) -> dict[str, Any]:
        return {"event": "waiting", "ahead": self.waiting.index(job), "label": job.label}

    def _publish(self, job: Job, event: dict[str, Any]) -> None:
        if event["event"] != "heartbeat":
            job.last = event
        for queue in list(job.followers):
            queue.put_nowait(event)

    def _started(self, job: Job) -> None:
        self.waiting.remove(job)
        job.status = "running"
        self._publish(job, {"event": "progress", "fraction": 0.0, "label": job.label})
        for other in self.waiting:
            self._publish(other, self._waiting_event(other))

    # ------------------------------------------------------------------ running
    async def _run(self, job: Job) -> None:
        try:
            result = await self.pool.run((job.kind, job.args), lambda k, d: self._message(job, k, d),
                                         self.limits.time_limit, on_start=lambda: self._started(job))
        except asyncio.CancelledError:
            self._close_runs(job, "cancelled: no page was following it")
            job.status = "error"
            self.cancelled += 1
            raise
        except TimeLimit:
            self._close_runs(job, f"time limit: over {self.limits.time_limit:g} s")
            self._finish(job, {"event": "error", "problems": [
                f"time limit: a run took over {self.limits.time_limit:g} s and was stopped; "
                "allowed: a coarser scale or fewer seeds (or `purgesim run` for long runs)"]})
        except WorkerDied as exc:
            self._close_runs(job, str(exc))
            self._finish(job, {"event": "error", "problems": [f"error: {exc}; try again"]})
        except JobFailed as exc:
            self._close_runs(job, "; ".join(exc.problems))
            self._finish(job, {"event": "error", "problems": exc.problems})
        else:
            self._finish(job, {"event": "done", "result": result})
        finally:
            if job in self.waiting:
                self.waiting.remove(job)
                for other in self.waiting:
                    self._publish(other, self._waiting_event(other))
            if self.jobs.get(job.key) is job:
                del self.jobs[job.key]

    def _finish(self, job: Job, event: dict[str, Any]) -> None:
        job.status = event["event"]
        self._publish(job, event)

    def _message(self, job: Job, kind: str, data: dict[str, Any]) -> None:
        if kind == "run-start":
            job.open_runs.add(data["run_id"])
            self._write(lambda c: c.start(run_id=data["run_id"], scenario=data["scenario"],
                                          seed=data["seed"], scale=data["scale"],
                                          weeks=data["weeks"], out_dir=data["out_dir"],
                                          command="serve"))
        elif kind == "run-done":
            job.open_runs.discard(data["run_id"])
            self._write(lambda c: c.complete(data["run_id"], data["summary"], data["wall"]))
        elif kind in ("progress", "step"):
            self._publish(job, {"event": "progress", "fraction": data.get("fraction"),
                                "label": data.get("label", job.label)})

    def _close_runs(self, job: Job, reason: str) -> None:
        for run_id in job.open_runs:
            self._write(lambda c, run_id=run_id: c.fail(run_id, reason))
        job.open_runs.clear()

    def _write(self, action: Any) -> None:
        if self.catalog is not None:
            catalog = self.catalog
            self._writer.submit(action, catalog)

    # ------------------------------------------------------------------ following
    async def follow(self, job: Job) -> AsyncIterator[dict[str, Any]]:
        """The events of ``job`` for one page, from where it stands now to its end, with a
        heartbeat while nothing happens. When the last page stops following an unfinished
        job, the job is cancelled after the grace period."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        job.followers.add(queue)
        try:
            event = job.last
            while True:
                yield event
                if event["event"] in FINAL:
                    return
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    event = {"event": "heartbeat"}
        finally:
            job.followers.discard(queue)
            if not job.followers and not job.finished:
                asyncio.get_running_loop().call_later(self.limits.grace_seconds,
                                                      self._abandon, job)

    def _abandon(self, job: Job) -> None:
        if not job.followers and not job.finished and job.task is not None:
            log.info("cancelling %s: no page follows it", job.label)
            job.task.cancel()

    async def wait(self, job: Job) -> dict[str, Any]:
        """Follow ``job`` to its end; return its last event."""
        event: dict[str, Any] = job.last
        async for event in self.follow(job):
            if event["event"] in FINAL:
                break
        return event

    # ------------------------------------------------------------------ the rest
    def status(self) -> dict[str, Any]:
        return {"workers": self.limits.workers, "ready": self.pool.ready.is_set(),
                "running": sum(j.status == "running" for j in self.jobs.values()),
                "waiting": len(self.waiting), "cancelled": self.cancelled,
                "workers_replaced": self.pool.replaced,
                "jobs": [{"label": j.label, "status": j.status, "followers": len(j.followers)}
                         for j in self.jobs.values()]}

    async def close(self) -> None:
        for job in list(self.jobs.values()):
            if job.task is not None:
                job.task.cancel()
                with contextlib.suppress(BaseException):
                    await job.task
        await self.pool.close()
        self._writer.shutdown(wait=True)
