"""The report's charts as Plotly figures, and the sections that hold them.

Every function takes plain series (lists or arrays by week or by window) and returns a
figure; none reads a run. Every chart of a page shares one time axis (the run's weeks) and
one look (:func:`layout`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from purgesim.report.data import Cascade
from purgesim.series import WINDOW_WEEKS
from purgesim.vocab import OPERATION_LABELS, SENTENCE_LABELS, SOURCE_LABELS

TEMPLATE = "plotly_white"
SENTENCE_COLORS = {"cat1": "#8b1a1a", "cat2": "#3b5b92", "released": "#7f9f7f"}
INNOCENT_COLOR, GUILTY_COLOR = "#4a78a8", "#d62728"


@dataclass
class Table:
    """A table of a report, rendered as an HTML table (text wraps, nothing is clipped)."""

    header: list[str]
    rows: list[list[str]]
    align: list[str]


@dataclass
class Chart:
    """One section of a report: a file-friendly key, a title, a one-sentence caption, and a
    Plotly figure or a :class:`Table`."""

    key: str
    title: str
    caption: str
    figure: go.Figure | None = None
    table: Table | None = None

    @property
    def height(self) -> int:
        return int(self.figure.layout.height or 420) if self.figure is not None else 0


def layout(fig: go.Figure, height: int, y_title: str | None = None,
           span: Sequence[str] | None = None, titled: bool = False, **extra: Any
           ) -> go.Figure:
    """The common look: white template, legend on top (above the subplot titles when
    ``titled``), time axes over ``span`` (the run's first and last week), so that every
    chart of a page shares one time axis."""
    top = 80 if titled else 40
    look: dict[str, Any] = {
        "template": TEMPLATE, "height": height, "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": top, "b": 40},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0,
                   "yref": "container" if titled else "paper"}}
    if titled:
        look["legend"].update(y=1.0, yanchor="top")
    fig.update_layout(**{**look, **extra})
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    if span is not None:
        last = dt.date.fromisoformat(span[-1]) + dt.timedelta(weeks=1)
        fig.update_xaxes(range=[span[0], str(last)])
    return fig


def fig_stacked(dates: Sequence[str], series: dict[str, np.ndarray], labels: dict[str, str],
                y_title: str) -> go.Figure:
    """Weekly series stacked as areas, one per key of ``series``."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=list(dates), y=np.asarray(values, dtype=float),
                                 name=labels.get(name, name), mode="lines",
                                 line={"width": 0.5}, stackgroup="one"))
    return layout(fig, 420, y_title, span=dates, legend_traceorder="normal")


def fig_lines(dates: Sequence[str], series: dict[str, Sequence[float | None]],
              colors: dict[str, str], y_title: str, span: Sequence[str] | None = None,
              steps: bool = False, height: int = 400) -> go.Figure:
    """One line per key of ``series`` over ``dates`` (steps with markers for windows)."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(
            x=list(dates), y=as_array(values), name=name,
            mode="lines+markers" if steps else "lines", marker={"size": 4},
            line={"color": colors.get(name), "width": 1.5, "shape": "hv" if steps else "linear"}))
    return layout(fig, height, y_title, span=span or dates)


def fig_limits(dates: Sequence[str], regions: list[str], limit: np.ndarray,
               increase: np.ndarray, arrests: np.ndarray) -> go.Figure:
    """Small multiples, one per region with a limit: the limit against the running total of
    arrests counted against it, with a marker where the limit was raised."""
    shown = [i for i in range(len(regions)) if limit[:, i].max(initial=0) > 0]
    cols = 4
    rows = max(1, -(-len(shown) // cols))
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True,
                        subplot_titles=[regions[i] for i in shown] or ["no limits in this run"],
                        vertical_spacing=0.1 if rows > 1 else 0.0, horizontal_spacing=0.06)
    x = np.array(dates)
    cumulative = np.cumsum(arrests, axis=0)
    raised_in_legend = False
    for k, i in enumerate(shown):
        row, col = k // cols + 1, k % cols + 1
        fig.add_trace(go.Scatter(x=x, y=limit[:, i], name="limit (categories 1 + 2)",
                                 mode="lines", line={"color": "#555555", "shape": "hv"},
                                 legendgroup="limit", showlegend=k == 0), row=row, col=col)
        fig.add_trace(go.Scatter(x=x, y=cumulative[:, i], name="arrests counted against it",
                                 mode="lines", line={"color": "#c0392b"},
                                 legendgroup="arrests", showlegend=k == 0), row=row, col=col)
        raised = np.flatnonzero(increase[:, i] > 0)
        if len(raised):
            fig.add_trace(go.Scatter(
                x=x[raised], y=limit[raised, i], name="limit raised", mode="markers",
                marker={"symbol": "diamond", "size": 7, "color": "#e67e22"},
                legendgroup="raised", showlegend=not raised_in_legend,
                customdata=increase[raised, i],
                hovertemplate="raised by %{customdata:,.0f} on %{x}<extra></extra>"),
                row=row, col=col)
            raised_in_legend = True
    fig.update_annotations(font_size=12)
    return layout(fig, 230 * rows + 80, span=dates, titled=True, hovermode="closest")


def fig_evidence_and_r(dates: Sequence[str], evidence: np.ndarray,
                       window_dates: Sequence[str], r: Sequence[float | None]) -> go.Figure:
    """The evidence threshold (median over regions, with their range) above the cascade's
    reproduction number by window."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=["evidence needed for arrest (the bar)",
                                        f"reproduction number ({WINDOW_WEEKS}-week windows)"])
    x = list(dates)
    if evidence.size:
        fig.add_trace(go.Scatter(x=x, y=np.max(evidence, axis=1), mode="lines",
                                 line={"width": 0}, showlegend=False, hoverinfo="skip"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=np.min(evidence, axis=1), mode="lines",
                                 line={"width": 0}, fill="tonexty",
                                 fillcolor="rgba(74,120,168,0.2)", name="range over republics",
                                 hoverinfo="skip"), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=np.median(evidence, axis=1), mode="lines",
                                 line={"color": INNOCENT_COLOR}, name="median over republics"),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=list(window_dates), y=as_array(r), mode="lines+markers",
                             line={"color": "#8e44ad", "shape": "hv"}, marker={"size": 4},
                             name="arrests caused per arrest"), row=2, col=1)
    fig.update_yaxes(title_text="evidence", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="R", rangemode="tozero", row=2, col=1)
    return layout(fig, 580, span=dates, titled=True)


def fig_innocent_share(window_dates: Sequence[str], share: Sequence[float | None],
                       overall: float | None, span: Sequence[str]) -> go.Figure:
    """The share of the convicted who were innocent, by window of sentence, and overall."""
    fig = fig_lines(window_dates, {"innocent share of the convicted": share},
                    {"innocent share of the convicted": INNOCENT_COLOR}, "innocent / convicted",
                    span=span, steps=True, height=340)
    if overall is not None:
        fig.add_hline(y=overall, line={"dash": "dot", "color": "#333333"},
                      annotation_text=f"overall {overall:.2%}",
                      annotation_position="bottom right")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


def fig_economy(dates: Sequence[str], output: np.ndarray, shadow: np.ndarray, plan: np.ndarray
                ) -> go.Figure:
    """Weekly output and its no-terror shadow as shares of plan."""
    with np.errstate(all="ignore"):
        actual = np.where(plan > 0, output / plan, np.nan)
        ideal = np.where(plan > 0, shadow / plan, np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(dates), y=ideal, mode="lines", name="without the terror",
                             line={"color": "#7f8c8d", "dash": "dash"}))
    fig.add_trace(go.Scatter(x=list(dates), y=actual, mode="lines", name="this run",
                             line={"color": "#c0392b"}))
    fig.add_hline(y=1.0, line={"dash": "dot", "color": "#333333"}, annotation_text="plan",
                  annotation_position="top left")
    fig.update_yaxes(tickformat=".0%")
    return layout(fig, 380, "output / plan", span=dates)


def fig_cumulative(dates: Sequence[str], series: dict[str, np.ndarray], y_title: str
                   ) -> go.Figure:
    """Running totals of weekly series, one line each."""
    return fig_lines(dates, {k: list(np.cumsum(v)) for k, v in series.items()},
                     dict(zip(series, ("#2c7fb8", "#c0392b", "#27ae60"), strict=False)),
                     y_title, height=380)


def fig_cascade(people: Sequence[dict[str, Any]], cascade: Cascade) -> go.Figure:
    """A sample cascade laid out by generation, each person (``people``, one per node of
    ``cascade``, as :func:`purgesim.report.data.people` gives them) coloured by ground
    truth."""
    y = tree_layout(cascade.parent)
    x = cascade.depth.astype(float)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for node, p in enumerate(cascade.parent):
        if p >= 0:
            edge_x += [float(x[p]), float(x[node]), None]
            edge_y += [float(y[p]), float(y[node]), None]
    fig = go.Figure(go.Scatter(x=edge_x, y=edge_y, mode="lines", hoverinfo="skip",
                               line={"color": "#b0b0b0", "width": 1}, showlegend=False))
    text = []
    for node, c in enumerate(people):
        weight = "1 person" if c["weight"] == 1 else f"{c['weight']:,} people"
        text.append(
            f"generation {cascade.depth[node]} of this tree<br>person {c['person']} "
            f"({c['occupation']}; this agent is {weight})<br>arrested {c['date']}: "
            f"{SOURCE_LABELS.get(c['source'], c['source'])}, "
            f"{OPERATION_LABELS.get(c['operation'], c['operation'])}<br>"
            f"{'tortured, ' if c['tortured'] else ''}"
            f"{'confessed' if c['confessed'] else 'did not confess'}, named {c['named']}<br>"
            f"{SENTENCE_LABELS.get(c['sentence'], 'pending')}; "
            f"{'guilty' if c['guilty'] else 'innocent'} (ground truth)")
    guilty = np.array([bool(c["guilty"]) for c in people])
    for label, mask, color in (("innocent", ~guilty, INNOCENT_COLOR),
                               ("guilty", guilty, GUILTY_COLOR)):
        if np.any(mask):
            fig.add_trace(go.Scatter(
                x=x[mask], y=y[mask], mode="markers", name=f"{label} (ground truth)",
                marker={"color": color, "size": 11, "line": {"width": 1, "color": "#ffffff"}},
                text=[t for t, m in zip(text, mask, strict=True) if m],
                hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(title_text="generation (0 = the arrest that began the tree)", dtick=1,
                     zeroline=False)
    fig.update_yaxes(visible=False)
    height = int(min(900, max(320, 14 * (y.max(initial=0) + 1) + 120)))
    return layout(fig, height, hovermode="closest")


def as_array(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """Values as floats, None as NaN (a gap in a line)."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def tree_layout(parent: np.ndarray) -> np.ndarray:
    """Vertical position of each node of a tree given as parent indices (parents before their
    children): leaves one apart in depth-first order, a parent centred over its children."""
    kids: dict[int, list[int]] = {}
    for node, p in enumerate(parent):
        if p >= 0:
            kids.setdefault(int(p), []).append(node)
    y = np.zeros(len(parent))
    next_leaf = 0.0
    order: list[tuple[int, bool]] = [(0, False)]
    while order:  # iterative post-order
        node, seen = order.pop()
        if not kids.get(node):
            y[node] = next_leaf
            next_leaf += 1.0
        elif seen:
            y[node] = float(np.mean([y[k] for k in kids[node]]))
        else:
            order.append((node, True))
            order.extend((k, False) for k in reversed(kids[node]))
    return y
