"""Ensembles: one scenario on many seeds, in parallel, summarised as mean and 90% interval.

Rep *i* of an ensemble starting at seed *s* runs seed *s + i*, exactly as ``purgesim run
--seed s+i`` would, so any rep can be reproduced alone. Each rep depends only on its scenario
and seed, and the aggregate is computed in seed order, so the result is the same whatever the
number of worker processes.

The aggregate has the shape of a single run's summary (:meth:`Result.summary`), with:

- ``seed`` replaced by ``seeds`` (the list) and ``reps`` (how many);
- ``scenario``, ``scale`` and ``weeks`` kept as they are (the same in every rep);
- every other number replaced by ``{"mean": ..., "p05": ..., "p95": ...}`` over the reps
  (5th and 95th percentiles, linear interpolation; reps where the number is null are left out,
  and all three are null if it is null in every rep);
- lists of the same length aggregated element by element, dictionaries key by key;
- any other value (a string, a boolean) kept if the same in every rep, else replaced by
  ``{"values": [...]}`` (one per seed, in seed order).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from purgesim.catalog import utcnow
from purgesim.parallel import JobFailed, run_jobs
from purgesim.scenario import Scenario

KEPT = ("scenario", "scale", "weeks")
"""Summary keys that are the same in every rep and are kept as plain values."""
PERCENTILES = (5, 95)


@dataclass
class Rep:
    """What one rep leaves behind (returned from its worker process)."""

    seed: int
    summary: dict[str, Any]
    wall_seconds: float
    timings: dict[str, float]
    started: dt.datetime  # UTC, naive (as in the catalog)
    finished: dt.datetime
    out_dir: Path | None = None


@dataclass
class Ensemble:
    """The reps of an ensemble, in seed order, and their aggregate."""

    scenario: Scenario
    reps: list[Rep]
    summary: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.summary = aggregate([r.summary for r in self.reps])

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.reps]

    def timings(self) -> dict[str, float]:
        """Mean seconds per phase over the reps."""
        names = list(dict.fromkeys(k for r in self.reps for k in r.timings))
        return {k: float(np.mean([r.timings.get(k, 0.0) for r in self.reps])) for k in names}


class RepFailed(RuntimeError):
    """A rep raised; the ensemble stopped submitting new reps."""

    def __init__(self, seed: int, error: BaseException):
        super().__init__(f"seed {seed}: {type(error).__name__}: {error}")
        self.seed = seed
        self.error = error


def seeds_for(first: int, reps: int) -> list[int]:
    """The seeds of an ensemble of ``reps`` starting at ``first``: first, first+1, ..."""
    return list(range(first, first + reps))


# ---------------------------------------------------------------------------- aggregation
def spread(values: Sequence[float | int | None]) -> dict[str, float | None]:
    """Mean and 90% interval of the non-null values."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return {"mean": None, "p05": None, "p95": None}
    lo, hi = np.percentile(v, PERCENTILES)
    return {"mean": _round(v.mean()), "p05": _round(lo), "p95": _round(hi)}


def _round(x: float) -> float:
    return round(float(x), 6)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _combine(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dict) for v in present):
        keys = list(dict.fromkeys(k for v in present for k in v))
        return {k: _combine([None if v is None else v.get(k) for v in values]) for k in keys}
    if present and all(isinstance(v, list) for v in present) and len(
            {len(v) for v in present}) == 1 and len(present) == len(values):
        return [_combine([v[i] for v in values]) for i in range(len(present[0]))]
    if all(v is None or _is_number(v) for v in values):
        return spread(values)
    if all(v == values[0] for v in values):
        return values[0]
    return {"values": list(values)}


def aggregate(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ensemble summary of per-seed summaries (in seed order); see the module docstring."""
    if not summaries:
        raise ValueError("an ensemble needs at least one summary")
    out: dict[str, Any] = {}
    for key in summaries[0]:
        values = [s.get(key) for s in summaries]
        if key == "seed":
            out["seeds"] = values
            out["reps"] = len(values)
        elif key in KEPT and all(v == values[0] for v in values):
            out[key] = values[0]
        else:
            out[key] = _combine(values)
    return out


# ---------------------------------------------------------------------------- running
def run_rep(scenario: Scenario, seed: int, out_dir: Path | None = None,
            meta: dict[str, Any] | None = None) -> Rep:
    """Run one rep (in whatever process calls it) and write its files if ``out_dir``."""
    from purgesim.sim import run

    started = utcnow()
    t0 = time.perf_counter()
    result = run(scenario, seed=seed)
    wall = time.perf_counter() - t0
    summary = result.summary()
    if out_dir is not None:
        result.write(out_dir, meta={"wall_seconds": round(wall, 3), **(meta or {})})
    return Rep(seed=seed, summary=summary, wall_seconds=wall, timings=dict(result.timings),
               started=started, finished=utcnow(), out_dir=out_dir)


def rep_dir(out: Path, seed: int) -> Path:
    return out / f"seed-{seed}"


def saved_rep(scenario: Scenario, seed: int, folder: Path) -> Rep | None:
    """The rep of ``seed`` that an interrupted ensemble of ``scenario`` finished in ``folder``
    (its ``meta.json`` is written last), if that folder holds exactly the run of this scenario
    and seed; None otherwise. A rep is a pure function of its scenario and seed, so reusing
    it gives the ensemble an uninterrupted run would have given."""
    from purgesim.scenario import with_overrides

    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        data = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
        saved = type(scenario).model_validate(data)
        finished = dt.datetime.fromtimestamp((folder / "meta.json").stat().st_mtime, dt.UTC)
    except (OSError, ValueError):  # ValueError: JSON, TOML or a scenario that no longer validates
        return None
    if saved != with_overrides(scenario, seed=seed) or not (folder / "events.parquet").is_file():
        return None
    wall = float(meta.get("wall_seconds") or 0.0)
    finished = finished.replace(tzinfo=None)
    return Rep(seed=seed, summary=summary, wall_seconds=wall,
               timings=dict(meta.get("timings_seconds") or {}),
               started=finished - dt.timedelta(seconds=wall), finished=finished,
               out_dir=folder)


def run_ensemble(scenario: Scenario, seeds: Sequence[int], *, workers: int = 1,
                 out: Path | None = None,
                 on_start: Callable[[int, Path | None], dict[str, Any] | None] | None = None,
                 on_done: Callable[[Rep], None] | None = None,
                 on_failed: Callable[[int, BaseException], None] | None = None,
                 saved: dict[int, Rep] | None = None) -> Ensemble:
    """Run ``scenario`` on each of ``seeds``, on up to ``workers`` processes.

    At most ``workers`` reps are in flight: a rep is handed to a worker only when one is free,
    and ``on_start(seed, out_dir)`` is called just before, in the calling process (it may
    return extra metadata for the rep's ``meta.json``, such as its catalog id). ``on_done``
    and ``on_failed`` are called in the calling process as reps end. After a failure no new
    rep starts; the reps in flight finish, then :class:`RepFailed` is raised. On an interrupt
    (Ctrl-C), ``on_failed`` is called for each rep in flight before the interrupt propagates.
    The ``saved`` reps (:func:`saved_rep`, by seed) are not run again.
    """
    seeds = list(seeds)
    saved = saved or {}

    def args_of(seed: int) -> tuple[Scenario, int, Path | None, dict[str, Any] | None]:
        where = None if out is None else rep_dir(out, seed)
        return scenario, seed, where, (on_start(seed, where) if on_start is not None else None)

    try:
        # run_rep is looked up here, at call time, so that a test can replace it
        reps = run_jobs(run_rep, [s for s in seeds if s not in saved], args_of,
                        workers=workers, on_failed=on_failed,
                        on_done=None if on_done is None else lambda _, rep: on_done(rep))
    except JobFailed as exc:
        raise RepFailed(exc.key, exc.error) from exc.error
    reps.update(saved)
    return Ensemble(scenario, [reps[s] for s in seeds])


def write_ensemble(ensemble: Ensemble, out: Path, meta: dict[str, Any] | None = None) -> None:
    """``summary.json`` (exactly the ``purgesim run --reps --json`` object) and ``meta.json``
    in ``out``, each written atomically; the reps' own files are already in ``seed-N/``."""
    from purgesim.files import atomic_write_text, git_commit
    from purgesim.version import __version__

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json.dumps(ensemble.summary) + "\n")
    info = {
        "version": __version__,
        "scenario": ensemble.scenario.name,
        "scale": ensemble.scenario.scale,
        "seeds": ensemble.seeds,
        "rep_dirs": [rep_dir(out, s).name for s in ensemble.seeds],
        "git_commit": git_commit(),
        **(meta or {}),
    }
    atomic_write_text(out / "meta.json", json.dumps(info, indent=2) + "\n")
