"""Side-by-side comparison of scenarios on the same seeds (common random numbers).

Each scenario runs on the same seeds; because every mechanism draws from its own stream, the
differences between columns come from what the scenarios change, not from reshuffled luck.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from purgesim.scenario import Scenario, load_scenario
from purgesim.sim import run
from purgesim.vocab import SOURCES

METRICS: tuple[tuple[str, str], ...] = (
    ("arrested", "arrests"),
    ("convicted", "convictions"),
    ("cat1", "shot (category 1)"),
    ("innocent_share", "innocent share of the convicted"),
    ("peak_r", "peak reproduction number (4-week windows)"),
    ("output_loss", "output loss against no terror"),
    ("officers_arrested", "officers arrested, 1937-38"),
    ("officials_arrested", "officials arrested, 1937-38"),
    ("central_committee_shot", "Central Committee (of 139) shot"),
    *((f"from_{name}", f"arrests from {name.replace('_', ' ')}") for name in SOURCES),
)


def figures(summary: dict[str, Any]) -> dict[str, float | None]:
    """The compared figures of one run's summary."""
    out: dict[str, float | None] = {
        "arrested": summary["totals"]["arrested"],
        "convicted": summary["totals"]["convicted"],
        "cat1": summary["totals"]["cat1"],
        "innocent_share": summary["innocent_share"],
        "peak_r": summary["reproduction"]["peak"],
        "output_loss": summary["economy"]["output_loss"],
        "officers_arrested": summary["elite"]["officers_arrested"],
        "officials_arrested": summary["elite"]["officials_arrested"],
        "central_committee_shot": summary["elite"]["central_committee_shot"],
    }
    for name in SOURCES:
        out[f"from_{name}"] = summary["by_source"][name]
    return out


Run = tuple[dict[str, float | None], dict[str, Any] | None]


def _figures_of(scenario: Scenario, seed: int, series: bool = False) -> Run:
    """One run's figures, and with ``series`` the light weekly series a compare report
    charts (:func:`purgesim.report.run_series`, a few hundred numbers)."""
    result = run(scenario, seed=seed)
    if not series:
        return figures(result.summary()), None
    from purgesim.report import run_series

    return figures(result.summary()), run_series(result.events_table(), result.weekly_table())


def compare(scenarios: Sequence[str], seeds: Sequence[int], scale: int | None = None,
            progress: Callable[[str, int], None] | None = None, workers: int = 1,
            series: bool = False) -> dict[str, Any]:
    """Run every scenario on every seed; return the mean of each figure per scenario, and the
    per-seed values. Scenarios are validated before anything runs. With ``workers`` > 1 the
    runs are spread over that many processes; each run depends only on its scenario and seed,
    so the result is the same. With ``series``, each scenario also gets ``series``: its weekly
    series averaged over the seeds, for :func:`purgesim.report.write_compare_report`."""
    loaded = [load_scenario(ref, scale=scale) for ref in scenarios]
    jobs = [(i, seed) for i in range(len(loaded)) for seed in seeds]
    done: dict[tuple[int, int], Run] = {}
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = {pool.submit(_figures_of, loaded[i], seed, series): (i, seed)
                       for i, seed in jobs}
            for future in as_completed(futures):
                i, seed = futures[future]
                done[(i, seed)] = future.result()
                if progress is not None:
                    progress(loaded[i].name, seed)
    else:
        for i, seed in jobs:
            if progress is not None:
                progress(loaded[i].name, seed)
            done[(i, seed)] = _figures_of(loaded[i], seed, series)
    result: dict[str, Any] = {"seeds": list(seeds), "scale": loaded[0].scale, "scenarios": {}}
    for i, (ref, scenario) in enumerate(zip(scenarios, loaded, strict=True)):
        runs = [done[(i, seed)][0] for seed in seeds]
        mean = {}
        for key, _ in METRICS:
            values = [r[key] for r in runs if r[key] is not None]
            mean[key] = None if not values else round(float(np.mean(values)), 6)
        entry: dict[str, Any] = {"mean": mean, "runs": runs}
        if series:
            from purgesim.report import mean_series

            entry["series"] = mean_series(
                [s for seed in seeds if (s := done[(i, seed)][1]) is not None])
        result["scenarios"][scenario.name if scenario.name not in result["scenarios"] else ref] = (
            entry)
    return result
