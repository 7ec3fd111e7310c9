"""What the page needs of one run, as plain JSON: the report's charts (the report's own
figure functions, so the explorer and ``purgesim report`` show the same charts), the light
weekly series a comparison charts, and the sample cascade with what a student clicking
through it needs (who named each person, whom each named, how many arrests each led to).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np

from purgesim.export import cascade_edges
from purgesim.report import data as report_data
from purgesim.report.figures import Chart, fig_cascade, tree_layout
from purgesim.report.sections import run_charts
from purgesim.results import Result
from purgesim.series import run_series


def chart_json(chart: Chart) -> dict[str, Any]:
    """A report section as JSON: its figure as Plotly's JSON (numbers as typed arrays, which
    the plotly.js this server ships reads), or its table."""
    out: dict[str, Any] = {"key": chart.key, "title": chart.title, "caption": chart.caption,
                           "height": chart.height}
    if chart.figure is not None:
        out["figure"] = json.loads(chart.figure.to_json())
    if chart.table is not None:
        out["table"] = {"header": chart.table.header, "rows": chart.table.rows,
                        "align": chart.table.align}
    return out


def light(result: Result) -> dict[str, Any]:
    """The part of a run every use needs: its summary and light series."""
    return {"summary": result.summary(), "series": run_series(result)}


def charts(result: Result) -> dict[str, Any]:
    """The report's sections of the run, and its cascade, for the page."""
    return {"charts": [chart_json(c) for c in run_charts(result) if c.key != "cascade"],
            "cascade": cascade(result)}


def cascade(result: Result) -> dict[str, Any] | None:
    """The report's sample cascade (the largest tree of arrests grown from one arrest), drawn
    by the report's figure function, with one record per person shown: where the chart draws
    them (to find a clicked point), their accuser and those they named among the people
    shown, and how many arrests their accusations led to in the whole run (from the export's
    edge list, so a person cut from the sample still counts)."""
    tree = report_data.sample_cascade(result)
    if tree is None:
        return None
    people = report_data.people(result, tree.rows)
    figure = fig_cascade(people, tree)
    edges = cascade_edges(result.events_table())
    led = Counter(edges.column("source").to_pylist())
    y = tree_layout(tree.parent)
    children: dict[int, list[int]] = {}
    for node, parent in enumerate(tree.parent):
        if parent >= 0:
            children.setdefault(int(parent), []).append(node)
    parent_ids = result.columns["parent"][tree.rows]
    nodes = []
    for node, person in enumerate(people):
        accuser = int(parent_ids[node])
        nodes.append({**person, "node": node, "x": int(tree.depth[node]), "y": float(y[node]),
                      "parent": int(tree.parent[node]), "children": children.get(node, []),
                      "accuser": accuser if accuser >= 0 else None,
                      "led_to": int(led.get(person["person"], 0))})
    return {"figure": json.loads(figure.to_json()), "size": tree.size, "shown": len(nodes),
            "generations": int(np.max(tree.depth, initial=0)), "nodes": nodes}
