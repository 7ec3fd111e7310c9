"""Scale invariance: the same scenario at several scales gives the same real numbers.

One agent stands for ``scale`` real people (the elite for one), so a run at 1:1000 should
report the same arrests, convictions and deaths, by source, by operation and at the top, as a
run at 1:100, up to sampling noise. This benchmark runs seeds 1..K at each scale and prints,
for every figure, its mean and 90% interval over the seeds at each scale and the gap of each
mean to the finest scale's, flagging gaps larger than the finest scale's own interval.

    python benchmarks/scale_invariance.py                      # 8 seeds at 1:100, 1:300, 1:1000
    python benchmarks/scale_invariance.py --seeds 4 --scales 100 1000 --json out.json

Run on demand (a few minutes on two cores); the test suite checks a coarser pair of scales.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

import purgesim as ps


def figures(summary: dict[str, Any]) -> dict[str, float]:
    """The compared figures of one run: totals, sources, operations, the elite."""
    out = {f"totals.{k}": summary["totals"][k] for k in ("arrested", "convicted", "cat1")}
    out.update({f"by_source.{k}": v for k, v in summary["by_source"].items()})
    out.update({f"by_operation.{k}": v["arrested"] for k, v in summary["by_operation"].items()})
    out.update({f"elite.{k}": v for k, v in summary["elite"].items()
                if isinstance(v, int | float)})
    return out


def one(args: tuple[str, int, int]) -> tuple[int, int, dict[str, float]]:
    scenario, scale, seed = args
    return scale, seed, figures(ps.run(scenario, scale=scale, seed=seed).summary())


def measure(scenario: str, scales: list[int], seeds: list[int], workers: int
            ) -> dict[str, dict[int, dict[str, float]]]:
    """figure -> scale -> {mean, p05, p95} over the seeds."""
    jobs = [(scenario, scale, seed) for scale in scales for seed in seeds]
    values: dict[str, dict[int, list[float]]] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for scale, _, figs in pool.map(one, jobs):
            for key, value in figs.items():
                values.setdefault(key, {}).setdefault(scale, []).append(float(value))
    return {key: {scale: {"mean": float(np.mean(v)), "p05": float(np.percentile(v, 5)),
                          "p95": float(np.percentile(v, 95))}
                  for scale, v in by_scale.items()}
            for key, by_scale in values.items()}


def table(result: dict[str, dict[int, dict[str, float]]], scales: list[int]) -> str:
    finest = scales[0]
    lines = ["| figure | " + " | ".join(f"1:{s} mean (p05-p95)" for s in scales)
             + " | " + " | ".join(f"gap 1:{s}" for s in scales[1:]) + " |",
             "|---" * (2 * len(scales)) + "|"]
    for key, by_scale in result.items():
        base = by_scale[finest]
        cells = [f"{by_scale[s]['mean']:,.0f} ({by_scale[s]['p05']:,.0f}-"
                 f"{by_scale[s]['p95']:,.0f})" for s in scales]
        gaps = []
        for s in scales[1:]:
            mean = by_scale[s]["mean"]
            gap = (mean - base["mean"]) / base["mean"] if base["mean"] else float("nan")
            outside = not base["p05"] <= mean <= base["p95"]
            gaps.append(f"{gap:+.1%}{' *' if outside else ''}")
        lines.append(f"| {key} | " + " | ".join(cells) + " | " + " | ".join(gaps) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="great-terror")
    parser.add_argument("--scales", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args()
    scales = sorted(args.scales)
    result = measure(args.scenario, scales, list(range(1, args.seeds + 1)), args.workers)
    print(f"{args.scenario}, seeds 1..{args.seeds}; * = mean outside the 1:{scales[0]} "
          "90% interval")
    print(table(result, scales))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump({"scenario": args.scenario, "seeds": args.seeds, "scales": scales,
                       "figures": result}, f, indent=1)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
