"""``purgesim history``: a scenario against the archival record (the work is
:func:`purgesim.history.against_history`; this prints it)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from purgesim.cli.app import MAX_SEEDS, ScenarioArg, app, bar, err, load, on_interrupt, out, plural


@app.command()
def history(
    scenario: ScenarioArg = "great-terror",
    reps: Annotated[int, typer.Option(min=1, max=MAX_SEEDS,
                                      help="Seeds to run (seed, seed+1, ...).")] = 5,
    seed: Annotated[int | None, typer.Option(help="First seed (default: the scenario's).")] = None,
    scale: Annotated[int | None, typer.Option(help="Real people per agent.")] = None,
    prevalence: Annotated[list[float] | None, typer.Option(
        help="Guilt prevalences for the innocent share's sensitivity (repeatable).")] = None,
    posterior: Annotated[int | None, typer.Option(
        min=0, max=MAX_SEEDS, help="Parameter sets drawn from the shipped posterior for the headline's "
                    "interval over the posterior (default: --reps, when the scenario's "
                    "calibration ships one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compare a scenario with the archival record, figure by figure."""
    from purgesim.history_check import against_history

    sc = load(scenario, scale=scale)
    # refuse a bad seed or prevalence before anything runs, as the runs would
    load(scenario, scale=scale, seed=seed)
    load(scenario, scale=scale, seed=(sc.seed if seed is None else seed) + reps - 1)
    for value in prevalence or []:
        load(scenario, scale=scale, population__guilty_prevalence=value)
    with bar() as shown, on_interrupt(lambda: "history keeps no files, so nothing was written; "
                                      "rerun the same command"):
        task = shown.add_task("running", total=None)
        report = against_history(
            sc, reps=reps, first_seed=seed, prevalences=prevalence, posterior=posterior,
            progress=lambda done, total: shown.update(task, completed=done, total=total),
            warn=lambda line: err.print(f"warning: {line}", markup=False))
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    _print_figures(report, reps)
    e = report["errors"]
    out.print("mean absolute error: " + ", ".join(f"{kind} {_pct(e[kind])}" for kind in e)
              + ("" if report["targets"] else " (no calibration config named by the scenario)"))
    out.print("  target: fitted, or tuned by hand; echo: set by an input; derived: mostly a sum "
              "or ratio of targets; independent: an outcome nothing fitted", style="dim")
    for over, h in ((plural(reps, "seed"), report["headline"]),
                    (f"{report['posterior_draws']} posterior draws",
                     report["headline_over_posterior"])):
        if h is None:
            continue
        out.print(f"headline (mean, 90% interval over {over}): arrested "
                  f"{h['arrested']['mean']:,.0f} ({h['arrested']['p05']:,.0f}-"
                  f"{h['arrested']['p95']:,.0f}), shot {h['shot']['mean']:,.0f} "
                  f"({h['shot']['p05']:,.0f}-{h['shot']['p95']:,.0f}), innocent share "
                  f"{h['innocent_share']['mean']:.2%} ({h['innocent_share']['p05']:.2%}-"
                  f"{h['innocent_share']['p95']:.2%})")
    sens = Table(title="innocent share of the convicted against the assumed prevalence of guilt")
    sens.add_column("guilty prevalence", justify="right")
    sens.add_column("innocent share (mean, 90% interval)", justify="right")
    for row in report["innocent_share_sensitivity"]:
        sens.add_row(f"{row['guilty_prevalence']:g}",
                     "n/a" if row["mean"] is None else
                     f"{row['mean']:.2%} ({row['p05']:.2%}-{row['p95']:.2%})")
    out.print(sens)


def _print_figures(report: dict[str, Any], reps: int) -> None:
    """The figures as a table, their sources as numbered notes under it."""
    from purgesim.history import history_cells

    table = Table(title=f"{report['scenario']} against the archives: mean and 90% interval "
                  f"over {plural(reps, 'seed')} at 1:{report['scale']}")
    # numbers are never cut: in a narrow terminal an interval or a range takes two lines,
    # broken after its dash, and the figure's name wraps in what is left
    narrow = out.width < 130
    for col in ("figure", "model", "90% interval", "history (range)", "error", "kind", "src"):
        table.add_column(col.replace(" ", "\n", 1) if narrow and col[0] in "9h" else col,
                         justify="left" if col in ("figure", "kind") else "right",
                         no_wrap=col != "figure", overflow="fold",
                         min_width=12 if col == "figure" else None)
    sources: list[str] = []
    for row in report["figures"]:
        cells = history_cells(row, range_sep="-\n" if narrow else "-")
        if narrow:
            cells["interval"] = cells["interval"].replace("-", "-\n", 1)
            cells["history"] = cells["history"].replace(" (", "\n(", 1)
        if cells["source"] not in sources:
            sources.append(cells["source"])
        table.add_row(cells["figure"], cells["model"], cells["interval"], cells["history"],
                      cells["error"], cells["kind"], str(sources.index(cells["source"]) + 1))
    out.print(table)
    for i, source in enumerate(sources, 1):
        out.print(f"  [{i}] {source}", highlight=False, soft_wrap=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
