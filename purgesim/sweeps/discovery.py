"""Scenario discovery: which combinations of parameters keep an outcome under a threshold.

Every run of a sweep is a point (its parameters' codes: a level's index, a date's week, a
number) labelled by whether the output stayed under the threshold the user gives. A shallow
decision tree (scikit-learn) cuts the space into boxes, each a conjunction of conditions such
as "interrogation.torture = false and stop decree by week 64"; for each box whose runs are
mostly under the threshold:

- **coverage**: the share of all runs under the threshold that fall in the box;
- **density**: the share of the box's runs that are under the threshold.

Null outputs are explicit: ``nulls="drop"`` (default) leaves those runs out, ``"below"`` or
``"above"`` counts them as under or over the threshold; the answer says how many there were.
A null peak reproduction number, for instance, means that too few people were arrested in any
4-week window to measure one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np

from purgesim.sweeps import store
from purgesim.sweeps.config import Spec

Nulls = Literal["drop", "below", "above"]


def points(out_dir: Path) -> tuple[list[Spec], np.ndarray, Any]:
    """(specs, codes of every committed run, the runs' table), in the same row order."""
    info = store.manifest(out_dir)
    specs = store.specs(info)
    design = store.design_table(out_dir)
    table = store.read_results(out_dir)
    sample = table["sample"].to_numpy()
    x = np.column_stack([design[s.name].to_numpy().astype(float)[sample] for s in specs])
    return specs, x, table


def labels(table: Any, name: str, below: float, nulls: Nulls) -> tuple[np.ndarray, np.ndarray]:
    """(kept rows, under the threshold) for output column ``name``."""
    if name not in table.column_names:
        raise KeyError(name)
    values = np.array(table[name].to_pylist(), dtype=float)
    missing = ~np.isfinite(values)
    good = np.where(missing, nulls == "below", values < below)
    keep = ~missing if nulls == "drop" else np.ones(len(values), dtype=bool)
    return keep, good


def discover(out_dir: str | Path, output: str, below: float, *, depth: int = 3,
             min_share: float = 0.05, nulls: Nulls = "drop") -> dict[str, Any]:
    """Boxes of the parameter space where ``output`` stays under ``below``, best first (by
    density, then coverage), each with its conditions, runs, coverage and density; and the
    tree's importance of each parameter. ``min_share`` is the smallest box, as a share of
    the runs."""
    from sklearn.tree import DecisionTreeClassifier

    specs, x, table = points(Path(out_dir))
    keep, good = labels(table, output, below, nulls)
    x, good = x[keep], good[keep]
    result: dict[str, Any] = {
        "output": output, "below": below, "runs": int(len(good)), "under": int(good.sum()),
        "nulls": {"how": nulls, "count": int((~keep).sum()) if nulls == "drop" else int(
            np.sum(~np.isfinite(np.array(table[output].to_pylist(), dtype=float))))},
        "density_all": _share(good.sum(), len(good)), "boxes": [], "importance": {}}
    if len(good) == 0 or good.all() or not good.any():
        return result
    tree = DecisionTreeClassifier(max_depth=depth, random_state=0,
                                  min_samples_leaf=max(1, math.ceil(min_share * len(good))))
    tree.fit(x, good)
    leaf_of = tree.apply(x)
    for leaf, bounds in _leaves(tree.tree_, len(specs)):
        inside = leaf_of == leaf
        under = int(good[inside].sum())
        if under * 2 <= inside.sum():
            continue  # a box where most runs exceed the threshold keeps nothing under it
        result["boxes"].append({
            "conditions": {s.name: _condition(s, *bounds[i]) for i, s in enumerate(specs)
                           if bounds[i] != (-math.inf, math.inf)},
            "limits": {s.name: [_bound(v) for v in bounds[i]] for i, s in enumerate(specs)
                       if bounds[i] != (-math.inf, math.inf)},
            "runs": int(inside.sum()), "under": under,
            "coverage": _share(under, good.sum()), "density": _share(under, inside.sum())})
    result["boxes"].sort(key=lambda b: (-b["density"], -b["coverage"]))
    result["importance"] = {s.name: round(float(v), 4)
                            for s, v in zip(specs, tree.feature_importances_, strict=True)}
    return result


def _share(part: float, whole: float) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0


def _bound(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


def _leaves(tree: Any, n: int) -> list[tuple[int, list[tuple[float, float]]]]:
    """Each leaf with the (low, high] interval of every parameter on the way to it."""
    found = []
    stack = [(0, [(-math.inf, math.inf)] * n)]
    while stack:
        node, bounds = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            found.append((node, bounds))
            continue
        f, t = int(tree.feature[node]), float(tree.threshold[node])
        low, high = bounds[f]
        stack.append((left, [*bounds[:f], (low, min(high, t)), *bounds[f + 1:]]))
        stack.append((right, [*bounds[:f], (max(low, t), high), *bounds[f + 1:]]))
    return found


def _condition(spec: Spec, low: float, high: float) -> str:
    """The codes with ``low < code <= high`` in words."""
    if spec.kind == "levels":
        chosen = [spec.labels[i] for i in range(spec.count) if low < i <= high]
        return " or ".join(chosen)
    if spec.kind in ("weeks", "integer"):
        first = spec.low if math.isinf(low) else math.floor(low) + 1
        last = spec.high if math.isinf(high) else math.floor(high)
        if first == last:
            return spec.show(first)
        return f"{spec.show(first)} to {spec.show(last)}"
    parts = ([f"above {low:.4g}"] if not math.isinf(low) else []) + (
        [f"at most {high:.4g}"] if not math.isinf(high) else [])
    return " and ".join(parts)
