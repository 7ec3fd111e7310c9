"""The chart and page of the runaway analysis (:mod:`purgesim.runaway`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from purgesim.report.figures import Chart, Table, layout
from purgesim.report.page import write_page

FEAR = "denunciations a week per recent arrest in one's workplace (fear_workplace)"


def runaway_chart(result: dict[str, Any]) -> Chart:
    """The loop's reproduction number against fear, with one and the shipped value marked."""
    rows = result["rows"]
    fears = [r["fear_workplace"] for r in rows]
    fig = go.Figure()
    for key, name, dash in (("bottom_up_r_mean", "from below: mean over the mass operations",
                             "solid"),
                            ("bottom_up_r_peak", "from below: peak (4-week window)", "dot"),
                            ("peak_r", "whole cascade (names and fear): peak", "dash")):
        fig.add_trace(go.Scatter(x=fears, y=[r[key] for r in rows], name=name,
                                 mode="lines+markers", line={"dash": dash}))
    fig.add_hline(y=1.0, line={"color": "#8b1a1a", "dash": "dot"},
                  annotation_text="one: every arrest begets another",
                  annotation_position="top left")
    shipped = result["shipped_fear_workplace"]
    fig.add_vline(x=shipped, line={"color": "#555555", "dash": "dot"})
    # an annotation on a log axis takes the logarithm of its position
    fig.add_annotation(x=math.log10(shipped), y=1.0, yref="paper", text="shipped",
                       showarrow=False, xanchor="left", yanchor="top")
    fig.update_xaxes(type="log", title_text=FEAR)
    caption = (f"{result['scenario']} at 1:{result['scale']}, means over seeds "
               f"{', '.join(map(str, result['seeds']))}: people arrested on a denunciation "
               "made out of fear, per person arrested, as fear grows.")
    return Chart("runaway", "The loop from below", caption,
                 layout(fig, 460, "reproduction number"))


def runaway_table(result: dict[str, Any]) -> Chart:
    rows = [[f"{r['fear_workplace']:g}", _f(r["bottom_up_r_mean"]), _f(r["bottom_up_r_peak"]),
             _f(r["peak_r"]), _pct(r["denunciation_share"]),
             "n/a" if r["arrested"] is None else f"{r['arrested']:,.0f}"] for r in result["rows"]]
    table = Table(["fear_workplace", "R from below (mean)", "R from below (peak)",
                   "R whole cascade (peak)", "denunciations / arrests", "arrests"], rows,
                  ["right"] * 6)
    return Chart("runaway-table", "The figures", "Means over the seeds.", table=table)


def write_runaway(result: dict[str, Any], out: str | Path) -> Path:
    """Write the runaway analysis as one HTML page."""
    mean, peak = result["crossing_mean"], result["crossing_peak"]
    intro = ("Fear feeds denunciation and denunciation feeds arrests. The loop from below "
             "reaches one on average over the mass operations "
             + ("nowhere on this grid" if mean is None else f"at fear_workplace = {mean:g}")
             + ", and in its peak window "
             + ("nowhere on this grid" if peak is None else f"at {peak:g}")
             + f"; the scenario ships {result['shipped_fear_workplace']:g}.")
    return write_page(Path(out), "purgesim runaway: denunciation from below",
                      f"{result['scenario']}, scale 1:{result['scale']}", intro, [],
                      [runaway_chart(result), runaway_table(result)],
                      "Built by purgesim runaway.")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
