"""The explorer's jobs, as a worker process runs them: runs (each cached on disk), a view,
the report's charts, a claim's answer, a downloadable report.

A job reports what it does through ``send(kind, data)``: ``run-start`` and ``run-done`` for
each run it computes (the server registers them in the run catalog, as ``purgesim run``
does), ``progress`` as weeks pass, and ``step`` before work that is not a run (each resets
the server's time limit). A job returns the key under which it stored its result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from purgesim.catalog import new_id
from purgesim.explorer import claims as claim_defs
from purgesim.explorer import view as views
from purgesim.explorer.limits import Limits
from purgesim.explorer.payload import cascade as cascade_of
from purgesim.explorer.payload import charts, light
from purgesim.explorer.state import State, scenarios
from purgesim.explorer.store import Store, run_key
from purgesim.results import Result
from purgesim.scenario import Scenario, with_overrides
from purgesim.sim import Sim

Send = Callable[[str, dict[str, Any]], None]
PROGRESS_EVERY = 0.15  # seconds between progress messages


class Progress:
    """Progress over the runs a job computes (cached runs count as done at once)."""

    def __init__(self, send: Send, total: int):
        self.send, self.total, self.done = send, max(total, 1), 0
        self._last = 0.0

    def week(self, label: str, done: int, weeks: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY or done == weeks:
            self._last = now
            self.send("progress", {"fraction": (self.done + done / max(weeks, 1)) / self.total,
                                   "label": label})

    def finished_run(self) -> None:
        self.done += 1


def _missing(store: Store, scenario: Scenario, seeds: Sequence[int]) -> int:
    return sum(store.payload(run_key(scenario, s)) is None for s in seeds)


def ensure_run(store: Store, scenario: Scenario, seed: int, progress: Progress,
               with_charts: bool = False) -> dict[str, Any]:
    """The payload of ``scenario`` on ``seed``: read from the store, or run (written as
    ``purgesim run --out`` writes a run, then its payload). With ``with_charts`` the
    report's charts are added if missing, from the saved run."""
    key = run_key(scenario, seed)
    payload = store.payload(key)
    folder = store.run_dir(key)
    result: Result | None = None
    if payload is None:
        sc = with_overrides(scenario, seed=seed)
        run_id = new_id()
        label = f"{sc.name}, seed {seed}"
        progress.send("run-start", {"run_id": run_id, "scenario": sc.name, "seed": seed,
                                    "scale": sc.scale, "weeks": sc.weeks,
                                    "out_dir": str(folder)})
        t0 = time.perf_counter()
        result = Sim(sc).run(progress=lambda done, weeks: progress.week(label, done, weeks))
        wall = time.perf_counter() - t0
        result.write(folder, meta={"wall_seconds": round(wall, 3), "run_id": run_id,
                                   "command": "serve"})
        payload = {**light(result), "cascade": cascade_of(result)}
        store.save_payload(key, payload)
        progress.send("run-done", {"run_id": run_id, "summary": payload["summary"],
                                   "wall": wall})
        progress.finished_run()
    if with_charts and "charts" not in payload:
        progress.send("step", {"label": f"drawing the report's charts of {scenario.name}"})
        payload.update(charts(result or Result.load(folder)))
        store.save_payload(key, payload)
    return payload


def _runs(store: Store, state: State, limits: Limits, send: Send
          ) -> tuple[Scenario, Scenario | None, list[dict], list[dict] | None]:
    base, changed = scenarios(state, limits)
    seeds = state.seed_list
    progress = Progress(send, _missing(store, base, seeds)
                        + (_missing(store, changed, seeds) if changed is not None else 0))
    before = [ensure_run(store, base, s, progress) for s in seeds]
    after = None if changed is None else [ensure_run(store, changed, s, progress)
                                          for s in seeds]
    return base, changed, before, after


def build_view(store: Store, state: State, limits: Limits, send: Send) -> str:
    """Run what the link needs and store what the page shows of it; returns the view key."""
    base, changed, before, after = _runs(store, state, limits, send)
    send("step", {"label": "comparing"})
    store.put("views", state.key(), views.view(state, base, changed, before, after))
    return state.key()


def build_charts(store: Store, state: State, limits: Limits, send: Send) -> str:
    """The report's charts of the first seed of each scenario, side by side."""
    base, changed = scenarios(state, limits)
    progress = Progress(send, _missing(store, base, state.seed_list[:1])
                        + (_missing(store, changed, state.seed_list[:1]) if changed else 0))
    out = {"unchanged": ensure_run(store, base, state.seed, progress, True)["charts"],
           "changed": None if changed is None else
           ensure_run(store, changed, state.seed, progress, True)["charts"]}
    store.put("charts", state.key(), out)
    return state.key()


def build_report(store: Store, state: State, limits: Limits, send: Send) -> str:
    """The report page of what the page shows, written by the report's page writer."""
    base, changed, before, after = _runs(store, state, limits, send)
    send("step", {"label": "writing the report"})
    target = store.path("reports", state.key(), ".html")
    first = changed if changed is not None else base
    result = Result.load(store.run_dir(run_key(first, state.seed)))
    views.write_report_page(target, state, base, changed, before, after, result)
    return state.key()


def build_claim(store: Store, claim_id: str, scale: int, seed: int, seeds: int,
                send: Send) -> str:
    """A claim's answer: the historical scenario and each counterfactual that tests the
    claim, on the same seeds."""
    claim = claim_defs.CLAIMS[claim_id]
    seed_list = list(range(seed, seed + seeds))
    base = claim_defs.baseline(scale, seed)
    tests = [(test, claim_defs.counterfactual_scenario(test, base)) for test in claim.tests]
    progress = Progress(send, _missing(store, base, seed_list)
                        + sum(_missing(store, sc, seed_list) for _, sc in tests))
    before = [ensure_run(store, base, s, progress)["summary"] for s in seed_list]
    answers = []
    for test, sc in tests:
        after = [ensure_run(store, sc, s, progress)["summary"] for s in seed_list]
        answers.append(claim_defs.answer(test, before, after))
    key = claim_defs.claim_key(claim_id, scale, seed, seeds)
    store.put("claims", key, {"claim": claim_id, "scale": scale, "seeds": seed_list,
                              "tests": answers})
    return key


JOBS: dict[str, Callable[..., str]] = {
    "view": build_view, "charts": build_charts, "report": build_report, "claim": build_claim,
}
