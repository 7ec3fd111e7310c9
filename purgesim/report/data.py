"""What the report charts, computed from a :class:`~purgesim.results.Result`.

Series by week, the sample cascade and the model-against-history rows; the headline figures
come from the run's summary, where they are computed once (:meth:`Result.summary`). Counts
are real people (sums of agent weights). Nothing here draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from purgesim import weeks as clock
from purgesim.results import Result
from purgesim.series import by_week
from purgesim.vocab import OCCUPATIONS, OPERATIONS, SENTENCES, SOURCES

CASCADE_GENERATIONS = 6
CASCADE_MAX_NODES = 150


class ReportError(Exception):
    """A report cannot be made; the message says why and what to do."""


# ============================================================================================
# weekly series


def by_region(result: Result, name: str) -> np.ndarray:
    """A weekly series as floats, weeks x regions (zeros if the run has no such series)."""
    values = result.series.get(name)
    if values is None:
        return np.zeros((result.weeks, len(result.region_names)))
    return values.astype(float)


def weekly_total(result: Result, name: str) -> np.ndarray:
    """A weekly series summed over regions (zeros if the run has no such series)."""
    return by_region(result, name).sum(axis=1)


def arrests_by_operation(result: Result) -> dict[str, np.ndarray]:
    """Weekly arrests in real people per operation (operations with no arrest left out)."""
    c = result.columns
    week = c["week"].astype(np.int64)
    weight = c["weight"].astype(float)
    out = {}
    for code, name in enumerate(OPERATIONS):
        series = by_week(week, weight, c["operation"] == code, result.weeks)
        if series.sum() > 0:
            out[name] = series
    return out


def limited_operations(scenario: dict[str, Any]) -> list[str]:
    """The operations whose arrests count against the centre's limits (from the scenario as
    plain data)."""
    ops = scenario.get("operations", {})
    return [name for name, op in ops.items() if isinstance(op, dict) and op.get("limited")]


def arrests_against_limits(result: Result, operations: Sequence[str]) -> np.ndarray:
    """Weekly arrests (weeks x regions, real people) in the limited operations."""
    c = result.columns
    week = c["week"].astype(np.int64)
    region = c["region"].astype(np.int64)
    limited = np.isin(c["operation"], [OPERATIONS.index(o) for o in operations
                                       if o in OPERATIONS])
    out = np.zeros((result.weeks, len(result.region_names)))
    keep = limited & (region >= 0) & (week < result.weeks)
    np.add.at(out, (week[keep], region[keep]), c["weight"].astype(float)[keep])
    return out


# ============================================================================================
# the headline


def headline(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The run's headline figures, as the report's first table shows them."""
    totals = summary["totals"]
    share = summary["innocent_share"]
    peak = summary.get("reproduction", {}).get("peak")
    loss = summary.get("economy", {}).get("output_loss")
    return [("arrested", f"{totals['arrested']:,}"),
            ("convicted", f"{totals['convicted']:,}"),
            ("shot (category 1)", f"{totals['cat1']:,}"),
            ("camp (category 2)", f"{totals['cat2']:,}"),
            ("released unconvicted", f"{totals['released']:,}"),
            ("pending at the end", f"{totals['pending']:,}"),
            ("innocent share of the convicted", "n/a" if share is None else f"{share:.2%}"),
            ("peak reproduction number", "n/a" if peak is None else f"{peak:.2f}"),
            ("output lost against no terror", "n/a" if loss is None else f"{loss:.2%}")]


# ============================================================================================
# a sample cascade


@dataclass
class Cascade:
    """A sample tree of who named (or denounced) whom: one row per node."""

    rows: np.ndarray
    """Event rows of the nodes, the root first."""
    parent: np.ndarray
    """Index into ``rows`` of each node's parent (-1 for the root)."""
    depth: np.ndarray
    size: int
    """Arrests in the whole tree (the sample may show only its first generations)."""


def sample_cascade(result: Result, generations: int = CASCADE_GENERATIONS,
                   max_nodes: int = CASCADE_MAX_NODES) -> Cascade | None:
    """The largest tree of arrests that began with one arrest (ties: the earliest), cut at
    ``generations`` below its root and at ``max_nodes`` nodes; ``None`` if nobody arrested led
    to another arrest."""
    parents = result.parent_rows()
    if not np.any(parents >= 0):
        return None
    root = np.arange(len(parents))
    for _ in range(len(parents)):
        linked = parents[root] >= 0
        if not np.any(linked):
            break
        root[linked] = parents[root[linked]]
    sizes = np.bincount(root, minlength=len(parents))
    top = int(np.argmax(sizes))  # argmax takes the first of equals: rows are in arrest order
    children: dict[int, list[int]] = {}
    for child in np.flatnonzero((root == top) & (parents >= 0)):
        children.setdefault(int(parents[child]), []).append(int(child))
    rows, parent, depth = [top], [-1], [0]
    i = 0
    while i < len(rows) and len(rows) < max_nodes:
        if depth[i] < generations:
            for child in children.get(rows[i], []):
                if len(rows) >= max_nodes:
                    break
                rows.append(child)
                parent.append(i)
                depth.append(depth[i] + 1)
        i += 1
    return Cascade(np.array(rows), np.array(parent), np.array(depth), int(sizes[top]))


def people(result: Result, rows: np.ndarray) -> list[dict[str, Any]]:
    """The arrests at event ``rows`` as plain values with names for codes (``sentence`` None
    while pending), for the cascade's hover text."""
    c = result.columns

    def name(vocab: Sequence[str], code: int) -> str | None:
        return vocab[code] if code >= 0 else None

    return [{"person": int(c["person"][row]), "date": clock.iso(result.start, int(c["week"][row])),
             "occupation": name(OCCUPATIONS, int(c["occupation"][row])),
             "source": name(SOURCES, int(c["source"][row])),
             "operation": name(OPERATIONS, int(c["operation"][row])),
             "sentence": name(SENTENCES, int(c["sentence"][row])),
             "guilty": bool(c["guilty"][row]), "tortured": bool(c["tortured"][row]),
             "confessed": bool(c["confessed"][row]), "named": int(c["named"][row]),
             "weight": int(c["weight"][row])} for row in rows]


# ============================================================================================
# model against history


def is_historical(scenario: dict[str, Any]) -> bool:
    """Whether a saved scenario (plain data) is the history (the shipped ``great-terror`` at
    any scale and seed, or a calibration of it): the only runs the archival record can
    judge."""
    from purgesim.scenario import Scenario, load_scenario

    if scenario.get("calibration") and scenario.get("name", "great-terror") == "great-terror":
        return True  # a counterfactual inherits the calibration but keeps its own name
    skip = {"name", "description", "scale", "seed", "calibration"}
    try:  # a pydantic ValidationError is a ValueError
        saved = Scenario.model_validate(scenario).model_dump(exclude=skip)
    except ValueError:
        return False
    return saved == load_scenario("great-terror").model_dump(exclude=skip)


def history_rows(result: Result) -> list[dict[str, Any]] | None:
    """The model-against-history rows of :func:`purgesim.history.compare_runs` for a
    historical run (its calibration's targets marked); ``None`` for a counterfactual."""
    if not is_historical(result.scenario_data):
        return None
    from purgesim.history import compare_runs
    from purgesim.history_check import calibration_targets

    return compare_runs([result], calibration_targets(result.scenario_data.get("calibration")))
