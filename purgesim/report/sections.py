"""The sections of a report, in page order: for each, a chart or table and a one-sentence
caption saying what it shows. :func:`run_charts` for one run, :func:`compare_charts` for a
comparison of scenarios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from purgesim.history import history_cells
from purgesim.metrics import METRICS, format_metric
from purgesim.report import data
from purgesim.report.figures import (
    SENTENCE_COLORS,
    Chart,
    Table,
    as_array,
    fig_cascade,
    fig_cumulative,
    fig_economy,
    fig_evidence_and_r,
    fig_innocent_share,
    fig_limits,
    fig_lines,
    fig_stacked,
    layout,
)
from purgesim.results import REPRODUCTION_MIN_AGENTS, Result
from purgesim.series import WINDOW_WEEKS, reproduction_series, run_series
from purgesim.vocab import OPERATION_LABELS, SENTENCE_LABELS, SENTENCES, SOURCE_LABELS, SOURCES

COMPARE_COLORS = ("#c0392b", "#2c7fb8", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d",
                  "#d35400", "#2c3e50", "#b8860b")


# ============================================================================================
# one run


def run_charts(result: Result) -> list[Chart]:
    """Every section of the report of one run, in page order."""
    series = run_series(result)
    summary = result.summary()
    charts = [*_arrests(result, series), _limits(result, series["dates"]),
              _evidence(result, series), _innocent(result, series, summary),
              _economy(result, series["dates"], summary), _elite(result, series["dates"], summary)]
    rows = data.history_rows(result)
    if rows is not None:
        charts.append(Chart(
            "history", "The model against the archival record",
            "Each comparable figure of data/history.csv against this one run (one seed, so no "
            "interval: purgesim history gives the spread over seeds), with the relative error "
            "and the source; fit marks the figures the scenario's calibration fitted.",
            table=history_table(rows)))
    cascade = data.sample_cascade(result)
    if cascade is not None:
        charts.append(Chart(
            "cascade", "A sample cascade: who named whom",
            f"The largest tree of arrests in this run that grew from one arrest ({cascade.size:,} "
            f"arrested agents, {len(cascade.rows)} shown, at most {data.CASCADE_GENERATIONS} "
            "generations), each arrested person linked to those arrested because he or she "
            "named or denounced them, coloured by the model's ground truth (guilty or "
            "innocent); hover over a person for the details.",
            fig_cascade(data.people(result, cascade.rows), cascade)))
    return charts


def _arrests(result: Result, series: dict[str, Any]) -> list[Chart]:
    dates = series["dates"]
    by_source = {name: data.weekly_total(result, f"arrests_{name}") for name in SOURCES}
    return [
        Chart("arrests-by-source", "Arrests by source",
              "Arrests per week in real people, stacked by how each arrest began: named under "
              "interrogation, denounced, reported for a remark, blamed for an enterprise's "
              "failure, swept from the NKVD card file, taken as a family member, or purged as "
              "one of the elite.",
              fig_stacked(dates, by_source, SOURCE_LABELS, "people per week")),
        Chart("arrests-by-operation", "Arrests by operation",
              "The same arrests stacked by the operation they were booked under: ordinary NKVD "
              "work, the kulak Order 00447, the national operations and the elite.",
              fig_stacked(dates, data.arrests_by_operation(result), OPERATION_LABELS,
                          "people per week")),
        Chart("sentences", "Sentences",
              "Sentences per week by the date they were passed, in real people: shot "
              "(category 1), sent to the camps (category 2), and released without conviction.",
              fig_lines(dates, {SENTENCE_LABELS[k]: series[k] for k in SENTENCES},
                        {SENTENCE_LABELS[k]: SENTENCE_COLORS[k] for k in SENTENCES},
                        "people per week")),
    ]


def _limits(result: Result, dates: Sequence[str]) -> Chart:
    limit = data.by_region(result, "limit_cat1") + data.by_region(result, "limit_cat2")
    raised = (data.by_region(result, "limit_increase_cat1")
              + data.by_region(result, "limit_increase_cat2"))
    ops = data.limited_operations(result.scenario_data)
    against = data.arrests_against_limits(result, ops)
    return Chart(
        "limits", "Limits against arrests, by republic",
        "For each republic, the centre's limit (categories 1 and 2, real people) against the "
        "running total of arrests counted against it (arrests in "
        f"{', '.join(ops) or 'no limited operation'}), with a diamond where the centre approved "
        f"a request for more ({int(np.count_nonzero(raised > 0))} raises in all; hover for the "
        "amount).",
        fig_limits(dates, list(result.region_names), limit, raised, against))


def _evidence(result: Result, series: dict[str, Any]) -> Chart:
    r = reproduction_series(result)
    peak = ("no window had enough arrests" if r["peak"] is None
            else f"peak {r['peak']:.2f} in the window from {r['peak_date']}")
    return Chart(
        "evidence-and-reproduction", "Evidence threshold and the cascade",
        "Top: the evidence a named or denounced suspect needed before arrest (median and range "
        "over the republics), which falls as the limits press; bottom: the cascade's "
        "reproduction number, the people arrested because an arrested person named or "
        f"denounced them per person arrested, by {WINDOW_WEEKS}-week window of the namer's "
        f"arrest ({peak}; windows with fewer than {REPRODUCTION_MIN_AGENTS} arrested agents "
        "left blank).",
        fig_evidence_and_r(series["dates"], data.by_region(result, "evidence_needed"),
                           series["window_dates"], r["r"]))


def _innocent(result: Result, series: dict[str, Any], summary: dict[str, Any]) -> Chart:
    overall = summary["innocent_share"]
    prevalence = result.scenario_data.get("population", {}).get("guilty_prevalence")
    return Chart(
        "innocent-share", "Innocent share of the convicted",
        "The share of the convicted who were not guilty in the model's ground truth, by "
        f"{WINDOW_WEEKS}-week window of sentence and overall "
        f"({'n/a' if overall is None else f'{overall:.2%}'}); it follows from the assumed "
        "prevalence of real guilt (population.guilty_prevalence = "
        f"{'unknown' if prevalence is None else f'{prevalence:g}'}), an assumption and not a "
        "finding.",
        fig_innocent_share(series["window_dates"], series["innocent_share"], overall,
                           series["dates"]))


def _economy(result: Result, dates: Sequence[str], summary: dict[str, Any]) -> Chart:
    loss = summary.get("economy", {}).get("output_loss")
    return Chart(
        "economy", "The economy against plan",
        "Weekly output of the enterprises as a share of plan, against a shadow of the same run "
        "without the terror (the same failures by chance, but no arrested managers and "
        "engineers and no inexperienced promotees): "
        + ("no economy in this run." if loss is None else
           f"{loss:.2%} of output lost over the run."),
        fig_economy(dates, data.weekly_total(result, "output"),
                    data.weekly_total(result, "output_no_terror"),
                    data.weekly_total(result, "plan")))


def _elite(result: Result, dates: Sequence[str], summary: dict[str, Any]) -> Chart:
    elite = {"officials (local, regional, republic)": data.weekly_total(result,
                                                                        "officials_arrested"),
             "army officers": data.weekly_total(result, "officers_arrested"),
             "NKVD officers (purge of the purgers)": data.weekly_total(result, "nkvd_arrested")}
    e = summary.get("elite", {})
    cc = ""
    if e.get("central_committee_arrested") is not None:
        cc = (f"; of the 139 members and candidates of the 1934 Central Committee, "
              f"{e['central_committee_arrested']} were arrested and "
              f"{e['central_committee_shot']} shot")
    return Chart(
        "elite", "Elite and officer losses",
        "Running totals of arrests of state and party officials, army officers, and NKVD "
        f"officers taken in the purge of the purgers, in real people{cc}.",
        fig_cumulative(dates, elite, "people arrested (running total)"))


def history_table(rows: list[dict[str, Any]]) -> Table:
    """The rows of :func:`purgesim.report.data.history_rows` as a table (one run: no
    interval), in the cells `purgesim history` prints."""
    body = []
    for r in rows:
        cells = history_cells(r, range_sep=" - ")
        body.append([cells["figure"], cells["model"], cells["history"], cells["error"],
                     cells["kind"], cells["source"]])
    return Table(["figure", "this run", "history (range)", "error", "kind", "source"], body,
                 ["left", "right", "right", "right", "left", "left"])


# ============================================================================================
# a comparison


def compare_charts(result: dict[str, Any]) -> list[Chart]:
    """The sections of a compare report, from :func:`purgesim.compare.compare` run with
    ``series=True``: every scenario overlaid in the same charts."""
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
                x=s["window_dates" if window else "dates"], y=as_array(s[key]), name=name,
                mode="lines+markers" if window else "lines", marker={"size": 4},
                line={"color": color[name], "width": 1.5, "shape": "hv" if window else "linear"}))
        return layout(fig, height, y_title, span=span)

    sentences = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                              subplot_titles=[SENTENCE_LABELS[k] for k in SENTENCES])
    for row, key in enumerate(SENTENCES, 1):
        for name in names:
            s = scenarios[name]["series"]
            sentences.add_trace(go.Scatter(x=s["dates"], y=as_array(s[key]), name=name,
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
              f"on {seed_list(seeds)}.", table=table),
        Chart("compare-arrests", "Arrests per week",
              f"Arrests per week in real people, one line per scenario{mean}, all on the same "
              "seeds (common random numbers), so that the differences come from what the "
              "scenarios change.", per_scenario("arrests", height=420)),
        Chart("compare-sentences", "Sentences per week",
              "Sentences per week by the date they were passed, one line per scenario: shot "
              "(category 1), sent to the camps (category 2), released without conviction.",
              layout(sentences, 680, span=span, titled=True)),
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


def seed_list(seeds: Sequence[int]) -> str:
    """``seed 1`` or ``seeds 1, 2, 3``."""
    return f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}"
