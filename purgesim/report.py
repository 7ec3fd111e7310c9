"""The report of a run: one self-contained HTML page of Plotly charts, built from a run folder.

A report is built only from the files :meth:`purgesim.results.Result.write` leaves in a folder
(``events.parquet``, ``weekly.parquet``, ``scenario.toml``, and ``summary.json`` and
``meta.json`` where present), so it can be made for any saved run without running it again.
The page embeds plotly.js and needs no network to open. Each chart carries a one-sentence
caption saying what it shows; every count is in real people (sums of agent weights).

Three layers, each usable on its own:

- series: light numeric series computed from the Arrow tables (:func:`run_series` is also what
  the workers of :mod:`purgesim.compare` return for a compare report);
- figures: functions that take those series or tables and return a Plotly figure;
- writers: :func:`write_report` (one run folder) and :func:`write_compare_report` (the result
  of :func:`purgesim.compare.compare`), each writing its HTML file atomically, and
  :func:`write_pngs`, which draws charts as PNG files through Kaleido and a local Chromium.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import shutil
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.parquet as pq
from plotly.subplots import make_subplots

from purgesim.files import atomic_write_text
from purgesim.results import REPRODUCTION_MIN_AGENTS, parent_rows, reproduction
from purgesim.vocab import OPERATIONS, SENTENCES, SOURCES

WINDOW_WEEKS = 4
"""Width of the windows of the reproduction number and of the innocent share (as the summary)."""
CASCADE_GENERATIONS = 6
CASCADE_MAX_NODES = 150
REQUIRED_FILES = ("events.parquet", "weekly.parquet", "scenario.toml")
EVENT_COLUMNS = ("person", "week", "date", "region", "occupation", "operation", "source",
                 "parent", "tortured", "confessed", "named", "sentence", "sentence_date",
                 "guilty", "weight")
WEEKLY_COLUMNS = ("week", "date", "region")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                  "chrome")
TEMPLATE = "plotly_white"

SOURCE_LABELS = {
    "named": "named under interrogation", "denunciation": "denounced", "remark": "remark reported",
    "sabotage": "blamed for sabotage", "card_file": "card-file sweep", "family": "family member",
    "elite": "elite purge",
}
OPERATION_LABELS = {
    "ordinary": "ordinary NKVD work", "kulak_00447": "Order 00447 (kulak)",
    "german_00439": "German (00439)", "polish_00485": "Polish (00485)",
    "harbin_00593": "Harbin (00593)", "latvian": "Latvian", "other_national": "other national",
    "elite": "elite",
}
SENTENCE_LABELS = {"cat1": "shot (category 1)", "cat2": "camp (category 2)",
                   "released": "released unconvicted"}
SENTENCE_COLORS = {"cat1": "#8b1a1a", "cat2": "#3b5b92", "released": "#7f9f7f"}
INNOCENT_COLOR, GUILTY_COLOR = "#4a78a8", "#d62728"


class ReportError(Exception):
    """A report cannot be made; the message says why and what to do."""


class PngError(ReportError):
    """The PNG files cannot be drawn (no Chromium, or it failed); the HTML is unaffected."""


# ============================================================================================
# reading a run folder


@dataclass
class RunFolder:
    """The files of one saved run."""

    path: Path
    events: pa.Table
    weekly: pa.Table
    scenario: dict[str, Any]
    """The resolved scenario as plain TOML data (read without validation, so that a run saved
    by another version of purgesim can still be reported)."""
    summary: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.scenario.get("name") or self.meta.get("scenario") or self.path.name)


def read_run(run_dir: str | Path) -> RunFolder:
    """Read a folder written by ``purgesim run --out``; refuse one that lacks a needed file."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ReportError(f"{path}: not a folder; allowed: a folder written by "
                          "`purgesim run --out`")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ReportError(f"{path}: missing {', '.join(missing)}; allowed: a folder written by "
                          "`purgesim run --out`")
    try:
        events = pq.read_table(path / "events.parquet")
        weekly = pq.read_table(path / "weekly.parquet")
        scenario = tomllib.loads((path / "scenario.toml").read_text(encoding="utf-8"))
        summary = _json_or_none(path / "summary.json")
        meta = _json_or_none(path / "meta.json") or {}
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ReportError(f"{path}: cannot read the run's files: {exc}") from None
    for name, table, needed in (("events.parquet", events, EVENT_COLUMNS),
                                ("weekly.parquet", weekly, WEEKLY_COLUMNS)):
        lacking = [c for c in needed if c not in table.column_names]
        if lacking:
            raise ReportError(f"{path / name}: no column {', '.join(lacking)}; allowed: the "
                              "files of `purgesim run --out`")
    if weekly.num_rows == 0:
        raise ReportError(f"{path / 'weekly.parquet'}: no weeks")
    return RunFolder(path, events, weekly, scenario, summary, meta)


def _json_or_none(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# ============================================================================================
# series from the tables


def week_dates(weekly: pa.Table) -> list[str]:
    """ISO date of each week of the run (the weekly table has one row per week and region)."""
    weeks = weekly.column("week").to_numpy().astype(np.int64)
    dates = weekly.column("date").to_numpy()
    out = [""] * (int(weeks.max()) + 1 if len(weeks) else 0)
    for w, d in zip(weeks, dates, strict=True):
        out[w] = str(d)[:10]
    return out


def _start(weekly: pa.Table) -> dt.date:
    return dt.date.fromisoformat(week_dates(weekly)[0])


def by_region(weekly: pa.Table, column: str) -> tuple[list[str], np.ndarray]:
    """A weekly series as an array of weeks x regions, and the region names."""
    weeks = weekly.column("week").to_numpy().astype(np.int64)
    region = weekly.column("region").combine_chunks()
    if isinstance(region, pa.DictionaryArray):
        names = [str(v) for v in region.dictionary.to_pylist()]
        codes = region.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        names = sorted({str(v) for v in region.to_pylist()})
        codes = np.array([names.index(str(v)) for v in region.to_pylist()], dtype=np.int64)
    out = np.zeros((int(weeks.max()) + 1 if len(weeks) else 0, len(names)))
    if column in weekly.column_names:
        values = weekly.column(column).to_numpy(zero_copy_only=False).astype(float)
        np.add.at(out, (weeks, codes), values)
    return names, out


def weekly_total(weekly: pa.Table, column: str) -> np.ndarray:
    """A weekly series summed over regions (zeros if the run has no such series)."""
    return by_region(weekly, column)[1].sum(axis=1)


def codes(table: pa.Table, column: str, vocab: Sequence[str]) -> np.ndarray:
    """A label column as codes into ``vocab`` (-1 for null or a label not in it)."""
    index = {name: i for i, name in enumerate(vocab)}
    labels = table.column(column).to_pylist()
    return np.array([index.get(str(v), -1) if v is not None else -1 for v in labels],
                    dtype=np.int64)


def weeks_since(table: pa.Table, column: str, start: dt.date) -> np.ndarray:
    """A date column as weeks since ``start`` (-1 for null)."""
    missing = np.iinfo(np.int32).min
    days = table.column(column).cast(pa.int32()).fill_null(missing).to_numpy().astype(np.int64)
    base = (start - dt.date(1970, 1, 1)).days
    return np.where(days == missing, -1, (days - base) // 7)


def _weighted_by_week(week: np.ndarray, weight: np.ndarray, mask: np.ndarray, n: int
                      ) -> np.ndarray:
    keep = mask & (week >= 0) & (week < n)
    return np.bincount(week[keep], weights=weight[keep], minlength=n)[:n]


def _list(values: np.ndarray, digits: int = 6) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


def run_series(events: pa.Table, weekly: pa.Table) -> dict[str, Any]:
    """The light series a report charts for one run, in real people: weekly arrests and
    sentences (cat1, cat2, released, by sentence week), and by window of ``WINDOW_WEEKS``
    weeks the share of the convicted who were innocent (by sentence week) and the cascade's
    reproduction number (by the namer's arrest week; windows with fewer than
    ``REPRODUCTION_MIN_AGENTS`` arrested agents are left blank)."""
    dates = week_dates(weekly)
    n = len(dates)
    start = dt.date.fromisoformat(dates[0])
    weight = events.column("weight").to_numpy().astype(float)
    week = events.column("week").to_numpy().astype(np.int64)
    sentence = codes(events, "sentence", SENTENCES)
    sentence_week = weeks_since(events, "sentence_date", start)
    everyone = np.ones(len(weight), dtype=bool)
    out: dict[str, Any] = {"dates": dates,
                           "arrests": _list(_weighted_by_week(week, weight, everyone, n), 3)}
    for code, name in enumerate(SENTENCES):
        out[name] = _list(_weighted_by_week(sentence_week, weight, sentence == code, n), 3)
    n_windows = (n + WINDOW_WEEKS - 1) // WINDOW_WEEKS
    out["window_dates"] = [str(start + dt.timedelta(weeks=WINDOW_WEEKS * i))
                           for i in range(n_windows)]
    convicted = sentence >= 0
    convicted &= sentence != SENTENCES.index("released")
    guilty = events.column("guilty").to_numpy(zero_copy_only=False).astype(bool)
    window = np.where(sentence_week >= 0, sentence_week // WINDOW_WEEKS, -1)
    conv = _weighted_by_week(window, weight, convicted, n_windows)
    innocent = _weighted_by_week(window, weight, convicted & ~guilty, n_windows)
    out["innocent_share"] = _list(np.where(conv > 0, innocent / np.maximum(conv, 1), np.nan))
    cascade = reproduction_series(events, n, start)
    out["r"] = cascade["r"]
    return out


def reproduction_series(events: pa.Table, weeks: int, start: dt.date) -> dict[str, Any]:
    """:func:`purgesim.results.reproduction` on a saved event table, with the windows that
    have too few arrested agents to mean something blanked (as for the summary's peak)."""
    week = events.column("week").to_numpy().astype(np.int64)
    rows = _parent_rows(events)
    r = reproduction(week, events.column("weight").to_numpy(), rows, weeks, start,
                     window_weeks=WINDOW_WEEKS)
    agents = np.bincount(week // WINDOW_WEEKS, minlength=len(r["r"]))[:len(r["r"])]
    r["r"] = [v if a >= REPRODUCTION_MIN_AGENTS else None
              for v, a in zip(r["r"], agents, strict=True)]
    return r


def _parent_rows(events: pa.Table) -> np.ndarray:
    person = events.column("person").to_numpy()
    parent = events.column("parent").fill_null(-1).to_numpy()
    return parent_rows(person, parent)


def mean_series(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Element-wise mean of the series of several runs of one scenario (dates from the first);
    a point that is blank in every run stays blank."""
    first = runs[0]
    out: dict[str, Any] = {"dates": first["dates"], "window_dates": first["window_dates"]}
    for key in first:
        if key in out:
            continue
        stack = np.array([[np.nan if v is None else v for v in r[key]] for r in runs],
                         dtype=float)
        with np.errstate(all="ignore"):
            empty = np.all(np.isnan(stack), axis=0)
            mean = np.where(empty, np.nan, np.nanmean(np.where(empty, 0.0, stack), axis=0))
        out[key] = _list(mean)
    return out


def arrests_by_operation(events: pa.Table, weeks: int) -> dict[str, np.ndarray]:
    """Weekly arrests in real people per operation (operations with no arrest left out)."""
    op = codes(events, "operation", OPERATIONS)
    week = events.column("week").to_numpy().astype(np.int64)
    weight = events.column("weight").to_numpy().astype(float)
    out = {}
    for code, name in enumerate(OPERATIONS):
        series = _weighted_by_week(week, weight, op == code, weeks)
        if series.sum() > 0:
            out[name] = series
    return out


def limited_operations(scenario: dict[str, Any]) -> list[str]:
    """The operations whose arrests count against the centre's limits."""
    ops = scenario.get("operations", {})
    return [name for name, op in ops.items() if isinstance(op, dict) and op.get("limited")]


def arrests_against_limits(events: pa.Table, regions: list[str], weeks: int,
                           operations: Sequence[str]) -> np.ndarray:
    """Weekly arrests (weeks x regions, real people) in the limited operations."""
    op = codes(events, "operation", OPERATIONS)
    region = codes(events, "region", regions)
    week = events.column("week").to_numpy().astype(np.int64)
    weight = events.column("weight").to_numpy().astype(float)
    limited = np.isin(op, [OPERATIONS.index(o) for o in operations if o in OPERATIONS])
    out = np.zeros((weeks, len(regions)))
    keep = limited & (region >= 0) & (week < weeks)
    np.add.at(out, (week[keep], region[keep]), weight[keep])
    return out


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


def sample_cascade(events: pa.Table, generations: int = CASCADE_GENERATIONS,
                   max_nodes: int = CASCADE_MAX_NODES) -> Cascade | None:
    """The largest tree of arrests that began with one arrest (ties: the earliest), cut at
    ``generations`` below its root and at ``max_nodes`` nodes; ``None`` if nobody arrested led
    to another arrest."""
    parents = _parent_rows(events)
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


def _tree_layout(parent: np.ndarray) -> np.ndarray:
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


# ============================================================================================
# figures of one run


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


def _layout(fig: go.Figure, height: int, y_title: str | None = None,
            span: Sequence[str] | None = None, titled: bool = False, **extra: Any
            ) -> go.Figure:
    """The common look: white template, legend on top (above the subplot titles when
    ``titled``), time axes over ``span`` (the run's first and last week), so that every
    chart of a page shares one time axis."""
    top = 80 if titled else 40
    layout: dict[str, Any] = {
        "template": TEMPLATE, "height": height, "hovermode": "x unified",
        "margin": {"l": 60, "r": 20, "t": top, "b": 40},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0,
                   "yref": "container" if titled else "paper"}}
    if titled:
        layout["legend"].update(y=1.0, yanchor="top")
    fig.update_layout(**{**layout, **extra})
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
    return _layout(fig, 420, y_title, span=dates, legend_traceorder="normal")


def fig_lines(dates: Sequence[str], series: dict[str, Sequence[float | None]],
              colors: dict[str, str], y_title: str, span: Sequence[str] | None = None,
              steps: bool = False, height: int = 400) -> go.Figure:
    """One line per key of ``series`` over ``dates`` (steps with markers for windows)."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(
            x=list(dates), y=_array(values), name=name,
            mode="lines+markers" if steps else "lines", marker={"size": 4},
            line={"color": colors.get(name), "width": 1.5, "shape": "hv" if steps else "linear"}))
    return _layout(fig, height, y_title, span=span or dates)


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
    return _layout(fig, 230 * rows + 80, span=dates, titled=True, hovermode="closest")


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
    fig.add_trace(go.Scatter(x=list(window_dates), y=_array(r), mode="lines+markers",
                             line={"color": "#8e44ad", "shape": "hv"}, marker={"size": 4},
                             name="arrests caused per arrest"), row=2, col=1)
    fig.update_yaxes(title_text="evidence", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="R", rangemode="tozero", row=2, col=1)
    return _layout(fig, 580, span=dates, titled=True)


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
    return _layout(fig, 380, "output / plan", span=dates)


def fig_cumulative(dates: Sequence[str], series: dict[str, np.ndarray], y_title: str
                   ) -> go.Figure:
    """Running totals of weekly series, one line each."""
    return fig_lines(dates, {k: list(np.cumsum(v)) for k, v in series.items()},
                     dict(zip(series, ("#2c7fb8", "#c0392b", "#27ae60"), strict=False)),
                     y_title, height=380)


def fig_cascade(events: pa.Table, cascade: Cascade) -> go.Figure:
    """A sample cascade laid out by generation, each person coloured by ground truth."""
    y = _tree_layout(cascade.parent)
    x = cascade.depth.astype(float)
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for node, p in enumerate(cascade.parent):
        if p >= 0:
            edge_x += [float(x[p]), float(x[node]), None]
            edge_y += [float(y[p]), float(y[node]), None]
    fig = go.Figure(go.Scatter(x=edge_x, y=edge_y, mode="lines", hoverinfo="skip",
                               line={"color": "#b0b0b0", "width": 1}, showlegend=False))
    cols = {name: events.column(name).to_pylist() for name in (
        "person", "date", "occupation", "source", "operation", "sentence", "guilty", "tortured",
        "confessed", "named", "weight")}
    text = []
    for node, row in enumerate(cascade.rows):
        c = {k: v[row] for k, v in cols.items()}
        people = "1 person" if c["weight"] == 1 else f"{c['weight']:,} people"
        text.append(
            f"generation {cascade.depth[node]} of this tree<br>person {c['person']} "
            f"({c['occupation']}; this agent is {people})<br>arrested {c['date']}: "
            f"{SOURCE_LABELS.get(c['source'], c['source'])}, "
            f"{OPERATION_LABELS.get(c['operation'], c['operation'])}<br>"
            f"{'tortured, ' if c['tortured'] else ''}"
            f"{'confessed' if c['confessed'] else 'did not confess'}, named {c['named']}<br>"
            f"{SENTENCE_LABELS.get(c['sentence'], 'pending')}; "
            f"{'guilty' if c['guilty'] else 'innocent'} (ground truth)")
    guilty = np.array([bool(cols["guilty"][row]) for row in cascade.rows])
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
    return _layout(fig, height, hovermode="closest")


def _array(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# ============================================================================================
# model against history


def is_historical(scenario: dict[str, Any]) -> bool:
    """Whether a saved scenario is the history (the shipped ``great-terror`` at any scale and
    seed, or a calibration of it): the only runs the archival record can judge."""
    from purgesim.scenario import Scenario, load_scenario

    if scenario.get("calibration") and scenario.get("name", "great-terror") == "great-terror":
        return True  # a counterfactual inherits the calibration but keeps its own name
    skip = {"name", "description", "scale", "seed", "calibration"}
    try:  # a pydantic ValidationError is a ValueError
        saved = Scenario.model_validate(scenario).model_dump(exclude=skip)
    except ValueError:
        return False
    return saved == load_scenario("great-terror").model_dump(exclude=skip)


def history_rows(run: RunFolder) -> list[dict[str, Any]] | None:
    """The model-against-history rows of :mod:`purgesim.history` for a saved historical run;
    ``None`` for a counterfactual."""
    if not is_historical(run.scenario):
        return None
    from purgesim.history import compare_runs

    targets: list[str] = []
    if run.scenario.get("calibration"):
        from purgesim.calibration import load_config
        from purgesim.scenario import ScenarioError

        try:
            targets = list(load_config(run.scenario["calibration"])[1].targets)
        except ScenarioError:
            targets = []
    from purgesim.results import Result

    return compare_runs([Result.load(run.path)], targets)


def history_table(rows: list[dict[str, Any]]) -> Table:
    """The rows of :func:`history_rows` as `purgesim history` prints them (one run: no
    interval)."""
    body = []
    for r in rows:
        ratio = r["history"] < 2

        def fmt(v: float, ratio: bool = ratio) -> str:
            return f"{v:.3f}" if ratio else f"{v:,.0f}"

        hist = fmt(r["history"]) + ("" if r["history_range"] is None else
                                    " (" + " - ".join(fmt(v) for v in r["history_range"]) + ")")
        body.append([r["label"], "n/a" if r["model_mean"] is None else fmt(r["model_mean"]),
                     hist, "n/a" if r["relative_error"] is None else f"{r['relative_error']:+.1%}",
                     "target" if r["target"] else "", f"{r['source']} [{r['confidence']}]"])
    return Table(["figure", "this run", "history (range)", "error", "fit", "source"], body,
                 ["left", "right", "right", "right", "left", "left"])


# ============================================================================================
# the report of one run


def run_charts(run: RunFolder) -> list[Chart]:
    """Every section of the report of one saved run, in page order."""
    events, weekly, scenario = run.events, run.weekly, run.scenario
    series = run_series(events, weekly)
    dates = series["dates"]
    n = len(dates)
    start = dt.date.fromisoformat(dates[0])
    charts: list[Chart] = []

    by_source = {name: weekly_total(weekly, f"arrests_{name}") for name in SOURCES}
    charts.append(Chart(
        "arrests-by-source", "Arrests by source",
        "Arrests per week in real people, stacked by how each arrest began: named under "
        "interrogation, denounced, reported for a remark, blamed for an enterprise's failure, "
        "swept from the NKVD card file, taken as a family member, or purged as one of the elite.",
        fig_stacked(dates, by_source, SOURCE_LABELS, "people per week")))
    charts.append(Chart(
        "arrests-by-operation", "Arrests by operation",
        "The same arrests stacked by the operation they were booked under: ordinary NKVD work, "
        "the kulak Order 00447, the national operations and the elite.",
        fig_stacked(dates, arrests_by_operation(events, n), OPERATION_LABELS,
                    "people per week")))
    charts.append(Chart(
        "sentences", "Sentences",
        "Sentences per week by the date they were passed, in real people: shot (category 1), "
        "sent to the camps (category 2), and released without conviction.",
        fig_lines(dates, {SENTENCE_LABELS[k]: series[k] for k in SENTENCES},
                  {SENTENCE_LABELS[k]: SENTENCE_COLORS[k] for k in SENTENCES},
                  "people per week")))

    regions, limit1 = by_region(weekly, "limit_cat1")
    _, limit2 = by_region(weekly, "limit_cat2")
    _, inc1 = by_region(weekly, "limit_increase_cat1")
    _, inc2 = by_region(weekly, "limit_increase_cat2")
    ops = limited_operations(scenario)
    against = arrests_against_limits(events, regions, n, ops)
    raised = int(np.count_nonzero((inc1 + inc2) > 0))
    charts.append(Chart(
        "limits", "Limits against arrests, by republic",
        "For each republic, the centre's limit (categories 1 and 2, real people) against the "
        "running total of arrests counted against it (arrests in "
        f"{', '.join(ops) or 'no limited operation'}), with a diamond where the centre approved "
        f"a request for more ({raised} raises in all; hover for the amount).",
        fig_limits(dates, regions, limit1 + limit2, inc1 + inc2, against)))

    _, evidence = by_region(weekly, "evidence_needed")
    r = reproduction_series(events, n, start)
    peak = ("no window had enough arrests" if r["peak"] is None
            else f"peak {r['peak']:.2f} in the window from {r['peak_date']}")
    charts.append(Chart(
        "evidence-and-reproduction", "Evidence threshold and the cascade",
        "Top: the evidence a named or denounced suspect needed before arrest (median and range "
        "over the republics), which falls as the limits press; bottom: the cascade's "
        "reproduction number, the people arrested because an arrested person named or "
        f"denounced them per person arrested, by {WINDOW_WEEKS}-week window of the namer's "
        f"arrest ({peak}; windows with fewer than {REPRODUCTION_MIN_AGENTS} arrested agents "
        "left blank).",
        fig_evidence_and_r(dates, evidence, series["window_dates"], r["r"])))

    overall = _innocent_overall(events)
    prevalence = scenario.get("population", {}).get("guilty_prevalence")
    charts.append(Chart(
        "innocent-share", "Innocent share of the convicted",
        "The share of the convicted who were not guilty in the model's ground truth, by "
        f"{WINDOW_WEEKS}-week window of sentence and overall "
        f"({'n/a' if overall is None else f'{overall:.2%}'}); it follows from the assumed "
        "prevalence of real guilt (population.guilty_prevalence = "
        f"{'unknown' if prevalence is None else f'{prevalence:g}'}), an assumption and not a "
        "finding.",
        fig_innocent_share(series["window_dates"], series["innocent_share"], overall, dates)))

    output = weekly_total(weekly, "output")
    shadow = weekly_total(weekly, "output_no_terror")
    plan = weekly_total(weekly, "plan")
    loss = (1.0 - output.sum() / shadow.sum()) if shadow.sum() > 0 else None
    charts.append(Chart(
        "economy", "The economy against plan",
        "Weekly output of the enterprises as a share of plan, against a shadow of the same run "
        "without the terror (the same failures by chance, but no arrested managers and "
        "engineers and no inexperienced promotees): "
        + ("no economy in this run." if loss is None else
           f"{loss:.2%} of output lost over the run."),
        fig_economy(dates, output, shadow, plan)))

    elite = {"officials (local, regional, republic)": weekly_total(weekly, "officials_arrested"),
             "army officers": weekly_total(weekly, "officers_arrested"),
             "NKVD officers (purge of the purgers)": weekly_total(weekly, "nkvd_arrested")}
    cc = ""
    if run.summary is not None and "elite" in run.summary:
        e = run.summary["elite"]
        cc = (f"; of the 139 members and candidates of the 1934 Central Committee, "
              f"{e['central_committee_arrested']} were arrested and "
              f"{e['central_committee_shot']} shot")
    charts.append(Chart(
        "elite", "Elite and officer losses",
        "Running totals of arrests of state and party officials, army officers, and NKVD "
        f"officers taken in the purge of the purgers, in real people{cc}.",
        fig_cumulative(dates, elite, "people arrested (running total)")))

    rows = history_rows(run)
    if rows is not None:
        charts.append(Chart(
            "history", "The model against the archival record",
            "Each comparable figure of data/history.csv against this one run (one seed, so no "
            "interval: purgesim history gives the spread over seeds), with the relative error "
            "and the source; fit marks the figures the scenario's calibration fitted.",
            table=history_table(rows)))

    cascade = sample_cascade(events)
    if cascade is not None:
        charts.append(Chart(
            "cascade", "A sample cascade: who named whom",
            f"The largest tree of arrests in this run that grew from one arrest ({cascade.size:,} "
            f"arrested agents, {len(cascade.rows)} shown, at most {CASCADE_GENERATIONS} "
            "generations), each arrested person linked to those arrested because he or she "
            "named or denounced them, coloured by the model's ground truth (guilty or "
            "innocent); hover over a person for the details.",
            fig_cascade(events, cascade)))
    return charts


def _innocent_overall(events: pa.Table) -> float | None:
    sentence = codes(events, "sentence", SENTENCES)
    convicted = (sentence == SENTENCES.index("cat1")) | (sentence == SENTENCES.index("cat2"))
    weight = events.column("weight").to_numpy().astype(float)
    guilty = events.column("guilty").to_numpy(zero_copy_only=False).astype(bool)
    total = weight[convicted].sum()
    return None if total == 0 else float(weight[convicted & ~guilty].sum() / total)


def _headline(run: RunFolder) -> list[tuple[str, str]]:
    weight = run.events.column("weight").to_numpy().astype(np.int64)
    sentence = codes(run.events, "sentence", SENTENCES)
    cat1, cat2, released = (SENTENCES.index(k) for k in ("cat1", "cat2", "released"))

    def people(mask: np.ndarray) -> str:
        return f"{int(weight[mask].sum()):,}"

    share = _innocent_overall(run.events)
    out = [("arrested", people(np.ones(len(weight), dtype=bool))),
           ("convicted", people((sentence == cat1) | (sentence == cat2))),
           ("shot (category 1)", people(sentence == cat1)),
           ("camp (category 2)", people(sentence == cat2)),
           ("released unconvicted", people(sentence == released)),
           ("pending at the end", people(sentence < 0)),
           ("innocent share of the convicted", "n/a" if share is None else f"{share:.2%}")]
    s = run.summary
    if s is not None:
        peak = s.get("reproduction", {}).get("peak")
        out.append(("peak reproduction number", "n/a" if peak is None else f"{peak:.2f}"))
        loss = s.get("economy", {}).get("output_loss")
        out.append(("output lost against no terror", "n/a" if loss is None else f"{loss:.2%}"))
    return out


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 png: str | Path | None = None) -> Path:
    """Write the HTML report of a saved run (default ``RUN_DIR/report.html``) atomically and
    return its path; with ``png``, also draw its charts as PNG files in that folder (see
    :func:`write_pngs`; the HTML is written first, and a :class:`PngError` leaves it)."""
    run = read_run(run_dir)
    title, subtitle, intro, headline, charts, footer = _run_page(run)
    target = _write_page(Path(out) if out is not None else run.path / "report.html", title,
                         subtitle, intro, headline, charts, footer)
    if png is not None:
        write_pngs(charts, png)
    return target


def _run_page(run: RunFolder) -> tuple[str, str, str, list[tuple[str, str]], list[Chart], str]:
    sc, meta = run.scenario, run.meta
    agents = meta.get("agents") or (run.summary or {}).get("agents")
    subtitle = (f"scale 1:{sc.get('scale', '?')}, seed {sc.get('seed', '?')}, "
                f"{len(week_dates(run.weekly))} weeks from {sc.get('start', '?')}"
                + (f", {agents:,} agents" if isinstance(agents, int) else "")
                + (f"; purgesim {meta['version']}" if meta.get("version") else "")
                + (f", commit {str(meta['git_commit'])[:10]}" if meta.get("git_commit") else ""))
    intro = (f"{sc.get('description', '')}. Figures are real people (sums of agent weights). "
             "The model reports; it does not judge: read the numbers as the behaviour of "
             "mechanisms, not as estimates.").lstrip(". ")
    return (f"purgesim report: {run.name}", subtitle, intro, _headline(run), run_charts(run),
            f"Built by purgesim report from the files in {run.path}.")


# ============================================================================================
# the report of a comparison


COMPARE_COLORS = ("#c0392b", "#2c7fb8", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d",
                  "#d35400", "#2c3e50", "#b8860b")


def compare_charts(result: dict[str, Any]) -> list[Chart]:
    """The sections of a compare report, from :func:`purgesim.compare.compare` run with
    ``series=True``: every scenario overlaid in the same charts."""
    from purgesim.compare import METRICS

    scenarios = result["scenarios"]
    names = list(scenarios)
    color = {name: COMPARE_COLORS[i % len(COMPARE_COLORS)] for i, name in enumerate(names)}
    seeds = result["seeds"]
    mean = "" if len(seeds) == 1 else f" (means over {len(seeds)} seeds)"
    span = [min(scenarios[n]["series"]["dates"][0] for n in names),
            max(scenarios[n]["series"]["dates"][-1] for n in names)]

    def per_scenario(key: str, window: bool = False, height: int = 400,
                     y_title: str = "people per week") -> go.Figure:
        fig = go.Figure()
        for name in names:
            s = scenarios[name]["series"]
            fig.add_trace(go.Scatter(
                x=s["window_dates" if window else "dates"], y=_array(s[key]), name=name,
                mode="lines+markers" if window else "lines", marker={"size": 4},
                line={"color": color[name], "width": 1.5, "shape": "hv" if window else "linear"}))
        return _layout(fig, height, y_title, span=span)

    sentences = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                              subplot_titles=[SENTENCE_LABELS[k] for k in SENTENCES])
    for row, key in enumerate(SENTENCES, 1):
        for name in names:
            s = scenarios[name]["series"]
            sentences.add_trace(go.Scatter(x=s["dates"], y=_array(s[key]), name=name,
                                           mode="lines", line={"color": color[name],
                                                               "width": 1.5},
                                           legendgroup=name, showlegend=row == 1),
                                row=row, col=1)
    innocent = per_scenario("innocent_share", window=True, height=360,
                            y_title="innocent / convicted")
    innocent.update_yaxes(tickformat=".0%", range=[0, 1.05])
    cascade = per_scenario("r", window=True, height=360, y_title="R")
    cascade.update_yaxes(rangemode="tozero")
    table = Table(["figure", *names],
                  [[label] + [format_metric(key, scenarios[n]["mean"][key]) for n in names]
                   for key, label in METRICS],
                  ["left"] + ["right"] * len(names))
    return [
        Chart("compare-table", "The compared figures",
              f"The figures of purgesim compare{mean}, in real people, at 1:{result['scale']} "
              f"on {_seeds(seeds)}.", table=table),
        Chart("compare-arrests", "Arrests per week",
              f"Arrests per week in real people, one line per scenario{mean}, all on the same "
              "seeds (common random numbers), so that the differences come from what the "
              "scenarios change.", per_scenario("arrests", height=420)),
        Chart("compare-sentences", "Sentences per week",
              "Sentences per week by the date they were passed, one line per scenario: shot "
              "(category 1), sent to the camps (category 2), released without conviction.",
              _layout(sentences, 680, span=span, titled=True)),
        Chart("compare-innocent-share", "Innocent share of the convicted",
              "The share of the convicted who were innocent in the model's ground truth, by "
              f"{WINDOW_WEEKS}-week window of sentence, per scenario; it follows from the "
              "assumed prevalence of real guilt (population.guilty_prevalence).", innocent),
        Chart("compare-reproduction", "The cascade's reproduction number",
              "People arrested because an arrested person named or denounced them, per person "
              f"arrested, by {WINDOW_WEEKS}-week window of the namer's arrest, per scenario "
              f"(windows with fewer than {REPRODUCTION_MIN_AGENTS} arrested agents left blank).",
              cascade),
    ]


def _seeds(seeds: Sequence[int]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"


def format_metric(key: str, value: float | None) -> str:
    """A compared figure as `purgesim compare` prints it."""
    if value is None:
        return "n/a"
    if key in ("innocent_share", "output_loss"):
        return f"{value:.2%}"
    if key == "peak_r":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def write_compare_report(result: dict[str, Any], out: str | Path) -> Path:
    """Write the HTML report of a comparison atomically and return its path."""
    missing = [n for n, s in result["scenarios"].items() if "series" not in s]
    if missing:
        raise ReportError(f"no weekly series for {', '.join(missing)}: run the comparison "
                          "with series=True")
    names = list(result["scenarios"])
    seeds = result["seeds"]
    return _write_page(
        Path(out), f"purgesim compare: {' vs '.join(names)}",
        f"scale 1:{result['scale']}, {_seeds(seeds)}",
        "Scenarios run on the same seeds and set side by side. Figures are real people (sums "
        "of agent weights).", [], compare_charts(result), "Built by purgesim compare --report.")


# ============================================================================================
# the page and the PNG files


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
       margin: 0; background: #f4f4f4; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 28px 40px; background: #fff; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.4em 0 0.2em; border-top: 1px solid #ddd; padding-top: 0.8em; }
p.sub { color: #555; margin: 0 0 0.8em; }
p.caption { margin: 0.2em 0 0.4em; color: #333; max-width: 62em; }
table { border-collapse: collapse; font-size: 0.92em; margin: 0.6em 0; }
td, th { padding: 3px 10px; vertical-align: top; border-bottom: 1px solid #eee; }
th { background: #eef1f5; text-align: left; }
td.right, th.right { text-align: right; font-variant-numeric: tabular-nums;
                      white-space: nowrap; }
table.headline td { border: none; padding: 1px 16px 1px 0; }
footer { color: #777; font-size: 0.9em; margin-top: 2em; }
"""


def _html_table(table: Table, cls: str = "") -> str:
    def row(cells: Sequence[str], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag} class=\"{a}\">{html.escape(c)}</{tag}>"
                                for c, a in zip(cells, table.align, strict=True)) + "</tr>\n"

    return (f"<table class=\"{cls}\">\n<thead>{row(table.header, 'th')}</thead>\n<tbody>\n"
            + "".join(row(r, "td") for r in table.rows) + "</tbody>\n</table>\n")


def _write_page(target: Path, title: str, subtitle: str, intro: str,
                headline: list[tuple[str, str]], charts: Sequence[Chart], footer: str) -> Path:
    parts = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
             f"<main>\n<h1>{html.escape(title)}</h1>\n<p class=\"sub\">{html.escape(subtitle)}"
             f"</p>\n<p>{html.escape(intro)}</p>\n"]
    if headline:
        parts.append(_html_table(Table(["figure", "this run"], [list(h) for h in headline],
                                       ["left", "right"]), "headline"))
    config = {"displaylogo": False, "responsive": True}
    plotly_included = False
    for chart in charts:
        if chart.figure is not None:
            body = chart.figure.to_html(
                full_html=False, include_plotlyjs=not plotly_included, config=config,
                div_id=f"chart-{chart.key}", default_height=f"{chart.height}px")
            plotly_included = True
        else:
            body = _html_table(chart.table) if chart.table is not None else ""
        parts.append(f"<section id=\"{chart.key}\">\n<h2>{html.escape(chart.title)}</h2>\n"
                     f"<p class=\"caption\">{html.escape(chart.caption)}</p>\n{body}\n"
                     "</section>\n")
    parts.append(f"<footer>{html.escape(footer)}</footer>\n</main>\n</body>\n</html>\n")
    page = "".join(parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, page)
    return target


def find_chromium() -> str:
    """The Chrome or Chromium that draws PNG files: ``BROWSER_PATH`` if set, else the first
    of ``CHROMIUM_NAMES`` on the PATH. Raises :class:`ReportError` saying how to get one."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise PngError(f"BROWSER_PATH={env}: not an executable file; allowed: the path of "
                          "a Chromium or Chrome executable")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PngError("drawing PNG files needs Chromium or Chrome, and none was found (looked "
                      f"for {', '.join(CHROMIUM_NAMES)} on the PATH; BROWSER_PATH is not "
                      "set): install one (on Debian: apt-get install chromium) or set "
                      "BROWSER_PATH to its executable")


@contextmanager
def _browser_path(path: str) -> Iterator[None]:
    old = os.environ.get("BROWSER_PATH")
    os.environ["BROWSER_PATH"] = path
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BROWSER_PATH", None)
        else:
            os.environ["BROWSER_PATH"] = old


def write_pngs(charts: Sequence[Chart], out_dir: str | Path, width: int = 1100,
               scale: float = 1.0) -> list[Path]:
    """Draw the charts (not the tables) as ``NN-key.png`` files in ``out_dir`` (created if
    missing), titled, through Kaleido and a local Chromium; return the paths."""
    import plotly.io as pio

    browser = find_chromium()
    chosen = [c for c in charts if c.figure is not None]
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:02d}-{c.key}.png" for i, c in enumerate(chosen, 1)]
    figures = []
    for chart in chosen:
        fig = go.Figure(chart.figure)
        top = int(fig.layout.margin.t or 40)
        fig.update_layout(title={"text": chart.title, "x": 0.01, "y": 0.99, "yref": "container",
                                 "yanchor": "top"}, margin={"t": top + 40})
        if fig.layout.legend.yref == "container":
            fig.update_layout(legend={"y": 0.99 - 40 / (chart.height + 40)})
        figures.append(fig)
    try:
        with _browser_path(browser):
            pio.write_images(figures, paths, width=width,
                             height=[c.height + 40 for c in chosen], scale=scale)
    except Exception as exc:  # Kaleido reports a missing or broken browser in many ways
        raise PngError(f"drawing PNG files with {browser} failed: {exc}") from None
    return paths
