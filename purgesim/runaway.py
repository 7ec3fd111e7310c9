"""The runaway analysis of denunciation from below (the essay's mechanism (c)).

Fear feeds denunciation: each arrest in a workplace makes its coworkers denounce
(``denunciation.fear_workplace`` denunciations a week per recent arrest), and the NKVD arrests
some of those denounced, which frightens their own workplaces. A denunciation made out of fear
is recorded as the child of the arrest that caused it, so the loop has a reproduction number of
its own: people arrested on a frightened coworker's denunciation, per person arrested. Above
one, every arrest begets more than one more from below alone, and the loop would run away
without any push from the centre (within the NKVD's capacity, which caps any runaway).

:func:`runaway` runs a scenario at several values of ``fear_workplace`` on the same seeds and
reports, for each, that reproduction number (its mean over the 4-week windows of the mass
operations and its peak), the cascade's whole reproduction number, the denunciations' share of
arrests and the arrests; and where the loop from below crosses one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from purgesim.parallel import run_jobs
from purgesim.results import REPRODUCTION_MIN_AGENTS, Result, reproduction
from purgesim.scenario import Scenario, load_scenario
from purgesim.sim import run
from purgesim.vocab import SRC

FEARS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
"""Denunciations a week per recent arrest in one's workplace: the shipped value and around it."""
WINDOW_WEEKS = 4


def bottom_up_reproduction(result: Result) -> dict[str, float | None]:
    """People arrested on a denunciation made out of fear, per person arrested, by 4-week
    window of the arrests that caused the fear: the mean over the windows of the mass
    operations (Order 00447 to the stop decree) with enough arrests, and the peak."""
    c = result.columns
    parents = result.parent_rows()
    from_fear = np.where(c["source"] == SRC["denunciation"], parents, -1)
    r = reproduction(c["week"], c["weight"], from_fear, result.weeks, result.start,
                     window_weeks=WINDOW_WEEKS)
    values = np.array([np.nan if v is None else v for v in r["r"]])
    agents = np.bincount(c["week"].astype(np.int64) // WINDOW_WEEKS, minlength=len(values))
    enough = agents[: len(values)] >= REPRODUCTION_MIN_AGENTS
    scenario = result.scenario
    lo = scenario.event_week("order_00447") if scenario is not None else None
    hi = scenario.event_week("stop_decree") if scenario is not None else None
    window = np.arange(len(values)) * WINDOW_WEEKS
    mass = enough & (window >= (lo or 0)) & (window < (hi if hi is not None else 10**9))
    mean = float(np.nanmean(values[mass])) if np.any(mass) else None
    peak = float(np.nanmax(values[enough])) if np.any(enough) else None
    return {"mean": None if mean is None else round(mean, 4),
            "peak": None if peak is None else round(peak, 4)}


def _one(scenario: Scenario, fear: float, seed: int) -> dict[str, Any]:
    result = run(scenario, seed=seed, denunciation__fear_workplace=fear)
    summary = result.summary()
    arrested = summary["totals"]["arrested"]
    return {"fear_workplace": fear, "seed": seed, "bottom_up_r": bottom_up_reproduction(result),
            "peak_r": summary["reproduction"]["peak"], "arrested": arrested,
            "denunciation_share": (round(summary["by_source"]["denunciation"] / arrested, 6)
                                   if arrested else None)}


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def crossing(fears: Sequence[float], r: Sequence[float | None]) -> float | None:
    """The fear at which the loop's reproduction number reaches one, interpolated on a log
    scale between the grid's values; None if it never does (or starts above one)."""
    points = [(f, v) for f, v in zip(fears, r, strict=True) if v is not None]
    for (f0, r0), (f1, r1) in zip(points, points[1:], strict=False):
        if r0 < 1.0 <= r1:
            t = (1.0 - r0) / (r1 - r0)
            return round(float(np.exp(np.log(f0) + t * (np.log(f1) - np.log(f0)))), 4)
    return None


def runaway(scenario: str | Scenario = "great-terror", fears: Sequence[float] = FEARS,
            seeds: Sequence[int] = (1, 2, 3), scale: int | None = 2000, workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run ``scenario`` at each of ``fears`` on ``seeds``; the means over the seeds, per fear,
    and where the loop from below crosses one (see the module's docstring)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, scale=scale)
    keys = [(f, s) for f in fears for s in seeds]
    done = 0

    def ended(key: tuple[float, int], _: Any) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(keys))

    runs = run_jobs(_one, keys, lambda key: (sc, *key), workers=workers, on_done=ended)
    rows = []
    for fear in fears:
        mine = [runs[(fear, s)] for s in seeds]
        rows.append({
            "fear_workplace": fear,
            "bottom_up_r_mean": _mean([m["bottom_up_r"]["mean"] for m in mine]),
            "bottom_up_r_peak": _mean([m["bottom_up_r"]["peak"] for m in mine]),
            "peak_r": _mean([m["peak_r"] for m in mine]),
            "denunciation_share": _mean([m["denunciation_share"] for m in mine]),
            "arrested": _mean([m["arrested"] for m in mine]),
        })
    return {"scenario": sc.name, "scale": sc.scale, "seeds": list(seeds),
            "shipped_fear_workplace": sc.denunciation.fear_workplace, "rows": rows,
            "crossing_mean": crossing(fears, [r["bottom_up_r_mean"] for r in rows]),
            "crossing_peak": crossing(fears, [r["bottom_up_r_peak"] for r in rows])}
