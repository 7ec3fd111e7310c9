"""The page of a sweep's Sobol indices (:func:`purgesim.sensitivity.sobol_indices`): one
chart per output, first-order and total index of each parameter with its interval, and the
table of the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from purgesim.report.figures import Chart, Table, layout
from purgesim.report.page import write_page
from purgesim.sensitivity import LABELS

S1_COLOR, ST_COLOR = "#3b5b92", "#8b1a1a"


def fig_indices(indices: dict[str, dict[str, float | None]]) -> go.Figure:
    """Horizontal bars of S1 and ST per parameter, with their bootstrap intervals."""
    names = list(indices)[::-1]  # the first parameter on top

    def series(key: str) -> tuple[list[float | None], list[float | None]]:
        return ([indices[n][key] for n in names], [indices[n][f"{key}_conf"] for n in names])

    fig = go.Figure()
    for key, label, color in (("S1", "first order (alone)", S1_COLOR),
                              ("ST", "total (with interactions)", ST_COLOR)):
        values, conf = series(key)
        fig.add_trace(go.Bar(
            x=values, y=names, orientation="h", name=label, marker_color=color,
            error_x={"type": "data", "array": conf, "visible": True, "color": "#444"},
            hovertemplate="%{y}: %{x:.3f}<extra>" + key + "</extra>"))
    layout(fig, 120 + 48 * len(names), barmode="group", hovermode="closest")
    fig.update_xaxes(title_text="share of the output's variance", range=[-0.05, 1.05])
    return fig


def charts(result: dict[str, Any]) -> list[Chart]:
    found = []
    for output, indices in result["outputs"].items():
        blocks = result["blocks"][output]
        label = LABELS.get(output, output)
        caption = (f"Sobol indices of {label} ({output}): bars are the first-order and total "
                   f"indices, whiskers their {result['conf_level']:.0%} bootstrap intervals; "
                   f"{blocks['used']} blocks of runs used, {blocks['dropped']} dropped for a "
                   "null or missing value.")
        if blocks["note"]:
            found.append(Chart(f"indices-{_key(output)}", label,
                               f"No indices for {output}: {blocks['note']}."))
            continue
        found.append(Chart(f"indices-{_key(output)}", label, caption, fig_indices(indices)))
    found.append(Chart("table", "all indices", "S1 and ST with the half-width of their "
                       "intervals, by output and parameter.", table=indices_table(result)))
    return found


def indices_table(result: dict[str, Any]) -> Table:
    rows = []
    for output, indices in result["outputs"].items():
        for name, v in indices.items():
            rows.append([output, name, _pm(v["S1"], v["S1_conf"]), _pm(v["ST"], v["ST_conf"])])
    return Table(["output", "parameter", "S1", "ST"], rows, ["left", "left", "right", "right"])


def _pm(value: float | None, conf: float | None) -> str:
    return "-" if value is None else f"{value:.3f} ± {conf or 0.0:.3f}"


def _key(output: str) -> str:
    return output.replace(".", "-").replace("_", "-")


def write_sensitivity_page(result: dict[str, Any], target: str | Path,
                           extra: Sequence[Chart] = ()) -> Path:
    """Write the page atomically; return its path."""
    seeds = result.get("seeds") or []
    subtitle = (f"{result.get('config')}: {result['base_samples']} base samples x "
                f"{len(result['outputs'][next(iter(result['outputs']))])} parameters, "
                f"{len(seeds)} seeds, 1:{result.get('scale')}, {result['runs']} runs "
                f"({result['missing_runs']} missing), model commit {result.get('commit')}")
    intro = ("How much of the variance of each outcome each parameter explains alone (first "
             "order) and with its interactions (total), over the ranges and levels of the "
             "design. The model reports; it does not judge: read the indices as the behaviour "
             "of mechanisms over these ranges, not as historical findings.")
    return write_page(Path(target), "purgesim sensitivity", subtitle, intro, [],
                      [*charts(result), *extra], "Built by purgesim sensitivity.")
