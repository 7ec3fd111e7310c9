"""The main loop of one worker process: take a job from the server's pipe, run it, send back
what it does and what it returns. A worker runs one job at a time; the server stops it
(kills the process) to cancel a job or to enforce the time limit, and starts another.

Messages to the server are ``(kind, data)``: ``ready`` once warmed up, the job's own
messages (:mod:`purgesim.explorer.work`), then ``done`` with the job's result, or
``failed`` with one line per problem.
"""

from __future__ import annotations

import traceback
import warnings
from multiprocessing.connection import Connection
from typing import Any

WARM_SCALE = 100_000
"""A tiny run and its charts at start-up, so that the first user does not wait for the
kernels to load and Plotly to set itself up."""


def main(conn: Connection, store_root: str, keep_runs: int, warm: bool) -> None:
    """Run jobs from ``conn`` until the server closes it."""
    from purgesim.explorer.store import Store
    from purgesim.explorer.work import JOBS
    from purgesim.scenario import ScenarioError

    store = Store(store_root, keep_runs)
    if warm:
        from purgesim.explorer.payload import charts
        from purgesim.sim import run

        with warnings.catch_warnings():  # so small a run leaves some history figures empty
            warnings.simplefilter("ignore", RuntimeWarning)
            charts(run("great-terror", scale=WARM_SCALE, seed=1))
    conn.send(("ready", {}))

    def send(kind: str, data: dict[str, Any]) -> None:
        conn.send((kind, data))

    while True:
        try:
            kind, args = conn.recv()
        except (EOFError, OSError):  # the server has gone
            return
        try:
            conn.send(("done", JOBS[kind](store, *args, send=send)))
        except ScenarioError as exc:
            conn.send(("failed", {"problems": list(exc.problems)}))
        except Exception as exc:
            # a bug, not bad input: one line for the page, the traceback for the server's log
            conn.send(("failed", {"problems": [f"internal error: {type(exc).__name__}: {exc}"],
                                  "traceback": traceback.format_exc()}))
