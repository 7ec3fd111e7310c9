"""Worker processes for the server: a fixed number, each running one job at a time, any of
which can be stopped in the middle of a job.

Why not :mod:`concurrent.futures` (or :mod:`purgesim.parallel`, built on it): a process
pool there cannot stop one running job without breaking the pool, and the explorer must stop
a run whose page has closed or whose time is up. Each worker here has a pipe of its own
(so a worker killed halfway through a message leaves no shared queue locked), a reader
thread that hands its messages to the event loop, and is replaced by a fresh process when it
is stopped, when it dies, or after ``max_jobs`` jobs (so memory stays flat over a long
session). Processes are spawned, not forked: the server has threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

from purgesim.explorer.worker import main as worker_main

READY_SECONDS = 180.0
"""How long a new worker may take to start (imports and the warm-up run)."""


class TimeLimit(RuntimeError):
    """A job went over its time limit and was stopped."""


class WorkerDied(RuntimeError):
    """A worker process ended in the middle of a job (killed from outside, out of memory)."""


class JobFailed(RuntimeError):
    """A job raised in its worker: ``problems`` holds one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Worker:
    """One worker process, its pipe and the thread that reads it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, args: tuple[Any, ...]):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child, *args), daemon=True,
                                   name="purgesim-explorer-worker")
        self.process.start()
        child.close()
        self.loop = loop
        self.messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.jobs = 0
        threading.Thread(target=self._read, daemon=True, name="explorer-worker-pipe").start()

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                message = ("exit", {})
            try:
                self.loop.call_soon_threadsafe(self.messages.put_nowait, message)
            except RuntimeError:  # the loop is closed: the server is shutting down
                return
            if message[0] == "exit":
                return

    def stop(self) -> None:
        """Kill the process (whatever it is doing) and close the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


class Pool:
    """``size`` workers; :meth:`run` takes an idle one, or waits for one."""

    def __init__(self, size: int, args: tuple[Any, ...], max_jobs: int = 200):
        self.size, self.args, self.max_jobs = size, args, max_jobs
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.all: set[Worker] = set()
        self.ready = asyncio.Event()
        self._starting: set[asyncio.Task[None]] = set()
        self.replaced = 0
        """Workers replaced after a stop, a death or ``max_jobs`` (for the status page)."""

    async def start(self) -> None:
        """Start every worker; set :attr:`ready` when the first is warm."""
        for _ in range(self.size):
            self._spawn()

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(self._start_one())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start_one(self) -> None:
        worker = Worker(asyncio.get_running_loop(), self.args)
        self.all.add(worker)
        try:
            kind = (await asyncio.wait_for(worker.messages.get(), READY_SECONDS))[0]
        except TimeoutError:
            kind = "exit"
        if kind != "ready":
            self.all.discard(worker)
            await asyncio.to_thread(worker.stop)
            await asyncio.sleep(1.0)  # a worker that cannot start must not spin
            self._spawn()
            return
        self.idle.put_nowait(worker)
        self.ready.set()

    async def _replace(self, worker: Worker) -> None:
        self.all.discard(worker)
        self.replaced += 1
        await asyncio.to_thread(worker.stop)
        self._spawn()

    async def run(self, job: tuple[str, tuple[Any, ...]],
                  on_message: Callable[[str, dict[str, Any]], None], time_limit: float,
                  on_start: Callable[[], None] | None = None) -> Any:
        """Run ``job`` (kind, arguments) on a worker; pass its messages to ``on_message``;
        return its result. ``on_start`` is called when a worker takes the job (jobs take
        workers in the order they asked). The clock of ``time_limit`` restarts at each ``run-start`` and
        ``step`` message; past it the worker is stopped and :class:`TimeLimit` raised. If the
        caller is cancelled, the worker is stopped (and replaced) before the cancellation
        goes on."""
        worker = await self.idle.get()
        clean = False
        try:
            if on_start is not None:
                on_start()
            worker.conn.send(job)
            deadline = time.monotonic() + time_limit
            while True:
                try:
                    kind, data = await asyncio.wait_for(
                        worker.messages.get(), max(0.0, deadline - time.monotonic()))
                except TimeoutError:
                    raise TimeLimit(f"stopped after {time_limit:g} s") from None
                if kind == "done":
                    clean = True
                    return data
                if kind == "failed":
                    clean = True
                    raise JobFailed(list(data["problems"]))
                if kind == "exit":
                    raise WorkerDied("the worker process ended in the middle of a job")
                if kind in ("run-start", "step"):
                    deadline = time.monotonic() + time_limit
                on_message(kind, data)
        finally:
            worker.jobs += 1
            if clean and worker.jobs < self.max_jobs:
                self.idle.put_nowait(worker)
            else:
                # shielded: a cancelled job must still give its worker back as a fresh one
                await asyncio.shield(self._replace(worker))

    async def close(self) -> None:
        for task in list(self._starting):
            task.cancel()
        for worker in list(self.all):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(worker.stop)
        self.all.clear()
