"""Side-by-side comparison of scenarios on the same seeds (common random numbers).

Each scenario runs on the same seeds; because every mechanism draws from its own stream, the
differences between columns come from what the scenarios change, not from reshuffled luck.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from purgesim.metrics import METRICS, figures
from purgesim.parallel import JobFailed, run_jobs
from purgesim.scenario import Scenario, load_scenario

__all__ = ["METRICS", "CompareFailed", "compare", "figures"]

Run = tuple[dict[str, float | None], dict[str, Any] | None]


class CompareFailed(RuntimeError):
    """A run of the comparison raised (its error is the cause); no new run was started."""

    def __init__(self, scenario: str, seed: int, error: BaseException):
        super().__init__(f"{scenario} seed {seed} failed: {type(error).__name__}: {error}")
        self.scenario, self.seed, self.error = scenario, seed, error


def _figures_of(scenario: Scenario, seed: int, series: bool = False) -> Run:
    """One run's figures, and with ``series`` the light weekly series a compare report
    charts (:func:`purgesim.series.run_series`, a few hundred numbers)."""
    from purgesim.sim import run

    result = run(scenario, seed=seed)
    if not series:
        return figures(result.summary()), None
    from purgesim.series import run_series

    return figures(result.summary()), run_series(result)


def compare(scenarios: Sequence[str], seeds: Sequence[int], scale: int | None = None,
            progress: Callable[[str, int], None] | None = None, workers: int = 1,
            series: bool = False) -> dict[str, Any]:
    """Run every scenario on every seed; return the mean of each figure per scenario, and the
    per-seed values. Scenarios are validated before anything runs. With ``workers`` > 1 the
    runs are spread over that many processes (at most that many in flight, as for
    ensembles); each run depends only on its scenario and seed, so the result is the same.
    ``progress(name, seed)`` is called as each run ends. With ``series``, each scenario also
    gets ``series``: its weekly series averaged over the seeds, for
    :func:`purgesim.report.write_compare_report`."""
    loaded = [load_scenario(ref, scale=scale) for ref in scenarios]
    jobs = [(i, seed) for i in range(len(loaded)) for seed in seeds]

    def ended(job: tuple[int, int], _: Run) -> None:
        if progress is not None:
            progress(loaded[job[0]].name, job[1])

    try:
        done = run_jobs(_figures_of, jobs, lambda job: (loaded[job[0]], job[1], series),
                        workers=workers, on_done=ended)
    except JobFailed as exc:
        # the worker's traceback (if any) stays the cause of what it raised
        index, seed = exc.key
        raise CompareFailed(loaded[index].name, seed, exc.error) from exc.error
    result: dict[str, Any] = {"seeds": list(seeds), "scale": loaded[0].scale, "scenarios": {}}
    for i, (ref, scenario) in enumerate(zip(scenarios, loaded, strict=True)):
        runs = [done[(i, seed)][0] for seed in seeds]
        mean = {}
        for key, _ in METRICS:
            values = [r[key] for r in runs if r[key] is not None]
            mean[key] = None if not values else round(float(np.mean(values)), 6)
        entry: dict[str, Any] = {"mean": mean, "runs": runs}
        if series:
            from purgesim.series import mean_series

            entry["series"] = mean_series(
                [s for seed in seeds if (s := done[(i, seed)][1]) is not None])
        result["scenarios"][scenario.name if scenario.name not in result["scenarios"] else ref] = (
            entry)
    return result
