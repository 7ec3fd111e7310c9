"""Side-by-side comparison of scenarios on the same seeds (common random numbers).

Each scenario runs on the same seeds; because every mechanism draws from its own stream, the
differences between columns come from what the scenarios change, not from reshuffled luck.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from purgesim.run import run
from purgesim.scenario import load_scenario
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


def compare(scenarios: Sequence[str], seeds: Sequence[int], scale: int | None = None,
            progress: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Run every scenario on every seed; return the mean of each figure per scenario, and the
    per-seed values. Scenarios are validated before anything runs."""
    loaded = [load_scenario(ref, scale=scale) for ref in scenarios]
    result: dict[str, Any] = {"seeds": list(seeds), "scale": loaded[0].scale, "scenarios": {}}
    for ref, scenario in zip(scenarios, loaded, strict=True):
        runs = []
        for seed in seeds:
            if progress is not None:
                progress(scenario.name, seed)
            runs.append(figures(run(scenario, seed=seed).summary()))
        mean = {}
        for key, _ in METRICS:
            values = [r[key] for r in runs if r[key] is not None]
            mean[key] = None if not values else round(float(np.mean(values)), 6)
        result["scenarios"][scenario.name if scenario.name not in result["scenarios"] else ref] = {
            "mean": mean, "runs": runs}
    return result
