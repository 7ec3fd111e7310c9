"""The points of a design: one code per parameter per sample, from the config alone.

The design is computed once, when a sweep starts, and kept in its folder (``design.parquet``),
so that a resumed sweep runs exactly the points the first one chose whatever the versions of
SALib and SciPy by then. Sample *i* is row *i*; a Sobol design keeps SALib's order, which
:mod:`purgesim.sensitivity` relies on (blocks of ``parameters + 2`` rows per base point).
"""

from __future__ import annotations

import itertools

import numpy as np

from purgesim.sweeps.config import Spec, SweepConfig


def unit_points(config: SweepConfig) -> np.ndarray:
    """The design's points in [0, 1)^D, as SALib samples them (Latin hypercube or Saltelli's
    scheme on a scrambled Sobol' sequence, seeded by ``design.seed``)."""
    names = list(config.parameters)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    design = config.design
    assert design.samples is not None
    if design.method == "lhs":
        from SALib.sample import latin

        points = latin.sample(problem, design.samples, seed=design.seed)
    else:
        from SALib.sample import sobol

        points = sobol.sample(problem, design.samples, calc_second_order=False,
                              seed=design.seed)
    # a point exactly at 1.0 would fall outside the last level; [0, 1) throughout
    return np.clip(np.asarray(points, dtype=float), 0.0, np.nextafter(1.0, 0.0))


def grid_codes(spec: Spec, steps: int | None) -> list[float]:
    """A parameter's codes in a grid: every level, or ``steps`` evenly spaced values (whole
    weeks and integers rounded, repeats dropped)."""
    if spec.kind == "levels":
        return list(range(spec.count))
    assert steps is not None
    values = np.linspace(spec.low, spec.high, steps)
    if spec.kind == "range":
        return [float(v) for v in values]
    return list(dict.fromkeys(int(round(v)) for v in values))


def codes(config: SweepConfig, specs: list[Spec]) -> dict[str, np.ndarray]:
    """Each parameter's code for every sample, in sample order."""
    if config.design.method == "grid":
        axes = [grid_codes(s, config.parameters[s.name].steps) for s in specs]
        rows = list(itertools.product(*axes))
        return {s.name: _typed(s, [r[i] for r in rows]) for i, s in enumerate(specs)}
    points = unit_points(config)
    return {s.name: _typed(s, [s.code(u) for u in points[:, i]]) for i, s in enumerate(specs)}


def _typed(spec: Spec, values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64 if spec.kind == "range" else np.int64)
