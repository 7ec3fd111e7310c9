"""Running a sweep: every (sample, seed) not yet in the folder, on Dask or in this process.

One run is :func:`run_point`: the base scenario with the sample's values and the seed, run,
its summary flattened into one row. It is a pure function of its arguments, so where it runs
(this process, a local worker, a remote cluster) changes nothing in the row. The client keeps
a bounded number of runs in flight, collects rows as they finish (in any order) and commits
them a few at a time as part files (:func:`purgesim.sweeps.store.write_part`); a sweep that is
killed loses at most the rows not yet committed, and its rerun runs only what is missing.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from purgesim.cluster import dask_client
from purgesim.scenario import Scenario, with_overrides
from purgesim.sweeps import store
from purgesim.sweeps.config import Spec, SweepConfig, config_hash, config_toml, value_of
from purgesim.sweeps.config import overrides as as_overrides
from purgesim.sweeps.design import codes

FLUSH_SECONDS = 5.0
"""Rows wait at most this long before they are committed (or until there are two per worker,
four in-process)."""

Runner = Callable[[Scenario, dict[str, Any], int, int], tuple[dict[str, Any], dict[str, Any]]]


class SweepError(RuntimeError):
    """A run failed; the rows finished before it are committed."""


def figures(summary: dict[str, Any], prefix: str = "") -> dict[str, int | float | None]:
    """The numeric leaves of a summary as flat columns (``totals.arrested``), nulls kept
    (``reproduction.peak`` is null when no window had enough arrests); lists and strings
    (the weekly R series, dates, the scenario's name) are left out, and so is the seed, which
    is a key of the row."""
    flat: dict[str, int | float | None] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(figures(value, f"{name}."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[name] = value
    flat.pop("seed", None)
    return flat


def run_point(base: Scenario, values: dict[str, Any], sample: int, seed: int
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(row, log entry) of one run: the parameters' values, then every summary figure."""
    from purgesim.sim import Sim

    t0 = time.perf_counter()
    scenario = with_overrides(base, seed=seed, **as_overrides(values))
    summary = Sim(scenario).run().summary()
    row = {"sample": sample, "seed": seed, **values}
    for name, value in figures(summary).items():
        row.setdefault(name, value)  # a parameter named like a figure (scale) is the same
    return row, {"sample": sample, "seed": seed, "seconds": round(time.perf_counter() - t0, 4),
                 "host": socket.gethostname(), "pid": os.getpid()}


def warm_up(base: Scenario) -> float:
    """Import the simulation and load its compiled kernels on a worker (one small run)."""
    from purgesim.sim import Sim

    t0 = time.perf_counter()
    Sim(with_overrides(base, scale=max(base.scale, 50_000))).run()
    return time.perf_counter() - t0


@dataclass
class Outcome:
    folder: Path
    total: int
    before: int
    ran: int = 0
    resumed: bool = False
    removed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.before + self.ran == self.total


def prepare(config: SweepConfig, base: Scenario, specs: list[Spec], out: Path, label: str
            ) -> tuple[dict[str, Any], bool]:
    """Open the folder for this sweep (a new one, or the same sweep begun before)."""
    digest = config_hash(config, base)
    design = codes(config, specs)
    return store.begin(out, digest=digest, label=label, text=config_toml(config), specs_=specs, design=design,
                       extra={"scale": config.scale, "seeds": config.seeds,
                              "method": config.design.method,
                              "scenario": config.scenario})


def points(config: SweepConfig, specs: list[Spec], out: Path) -> dict[int, dict[str, Any]]:
    """Each sample's parameter values, from the folder's design."""
    table = store.design_table(out)
    columns = {s.name: table[s.name].to_numpy() for s in specs}
    return {int(i): {s.name: _plain(value_of(s, config.parameters[s.name], columns[s.name][i]))
                     for s in specs} for i in range(table.num_rows)}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def sweep(config: SweepConfig, base: Scenario, specs: list[Spec], out: Path, *, label: str = "",
          workers: int | None = None, scheduler: str | None = None,
          progress: Callable[[int, int], None] | None = None,
          runner: Runner = run_point) -> Outcome:
    """Run (or resume) the sweep into ``out``; ``progress(done, total)`` after each commit."""
    out = Path(out)
    info, resumed = prepare(config, base, specs, out, label)
    with store.locked(out):
        outcome = Outcome(out, 0, 0, resumed=resumed, removed=store.remove_temporary(out))
        if resumed and info.get("commit") != _commit():
            outcome.notes.append(f"this sweep began at commit {info.get('commit')}; this is "
                                 f"{_commit()}: rows of a changed model may differ")
        values = points(config, specs, out)
        done = store.done_keys(out)
        todo = [(s, seed) for s in sorted(values) for seed in config.seeds
                if (s, seed) not in done]
        outcome.total = len(values) * len(config.seeds)
        outcome.before = outcome.total - len(todo)
        if progress is not None:
            progress(outcome.before, outcome.total)
        tasks = [(values[s], s, seed) for s, seed in todo]
        with dask_client(workers, scheduler) as client:
            if client is None:
                results, batch = _in_process(base, tasks, runner), 4
            else:
                results = _on_dask(client, base, tasks, runner, key=info["hash"][:10])
                batch = 2 * max(1, sum(client.nthreads().values()))
            _commit_as_they_come(out, results, outcome, progress, batch)
    return outcome


def _commit() -> str | None:
    from purgesim.files import git_commit

    return git_commit()


def _commit_as_they_come(out: Path, results: Iterable[tuple[dict[str, Any], dict[str, Any]]],
                         outcome: Outcome, progress: Callable[[int, int], None] | None,
                         batch: int) -> None:
    rows: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    last = time.monotonic()

    def commit() -> None:
        nonlocal rows, logs, last
        if rows:
            store.write_part(out, rows)
            finished = time.time()
            store.append_log(out, [{**e, "committed": finished} for e in logs])
            outcome.ran += len(rows)
            rows, logs = [], []
            if progress is not None:
                progress(outcome.before + outcome.ran, outcome.total)
        last = time.monotonic()

    try:
        for row, log in results:
            rows.append(row)
            logs.append(log)
            if len(rows) >= batch or time.monotonic() - last >= FLUSH_SECONDS:
                commit()
    finally:
        commit()  # what finished is kept, whatever stopped the loop


def _in_process(base: Scenario, tasks: list[tuple[dict[str, Any], int, int]], runner: Runner
                ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for values, sample, seed in tasks:
        try:
            yield runner(base, values, sample, seed)
        except Exception as exc:
            raise SweepError(f"sample {sample}, seed {seed}: {type(exc).__name__}: {exc}"
                             ) from exc


def _on_dask(client: Any, base: Scenario, tasks: list[tuple[dict[str, Any], int, int]],
             runner: Runner, key: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Rows as they finish on the cluster, with at most a few runs per worker in flight (a
    sweep of a million runs does not submit a million tasks at once)."""
    from distributed import as_completed

    if not tasks:
        return
    scenario = client.scatter(base, broadcast=True)
    client.run(warm_up, base)
    window = 2 * max(1, sum(client.nthreads().values()))
    queue = iter(tasks)

    def submit() -> Any | None:
        task = next(queue, None)
        if task is None:
            return None
        values, sample, seed = task
        return client.submit(runner, scenario, values, sample, seed, pure=False,
                             key=f"sweep-{key}-{sample}-{seed}")

    running = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
    for future in running:
        try:
            yield future.result()
        except Exception as exc:
            sample, seed = future.key.split("-")[-2:]
            raise SweepError(f"sample {sample}, seed {seed}: {type(exc).__name__}: {exc}"
                             ) from exc
        following = submit()
        if following is not None:
            running.add(following)
