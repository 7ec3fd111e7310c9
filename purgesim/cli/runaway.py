"""``purgesim runaway``: the runaway analysis of denunciation from below."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from purgesim.cli.app import ScenarioArg, app, bar, cores, load, out


@app.command()
def runaway(
    scenario: ScenarioArg = "great-terror",
    fear: Annotated[list[float] | None, typer.Option(
        help="Values of denunciation.fear_workplace to run (repeatable; default: 0.03 to "
             "10).")] = None,
    scale: Annotated[int, typer.Option(help="Real people per agent.")] = 2000,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 1..N.")] = 3,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes to run on (default: one per core).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    chart: Annotated[Path | None, typer.Option(
        help="Also write the chart and table as an HTML page here.")] = None,
) -> None:
    """How the reproduction number of denunciation from below grows with fear."""
    from purgesim.runaway import FEARS
    from purgesim.runaway import runaway as analyse

    sc = load(scenario, scale=scale)
    fears = sorted(fear) if fear else list(FEARS)
    with bar("runs") as shown:
        task = shown.add_task("runaway", total=len(fears) * seeds)
        result = analyse(sc, fears, range(1, seeds + 1), workers=workers or cores(),
                         progress=lambda done, total: shown.update(task, completed=done))
    if chart is not None:
        from purgesim.report.runaway import write_runaway

        write_runaway(result, chart)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table(title=f"{result['scenario']} at 1:{result['scale']}, means over "
                  f"{seeds} seed(s)")
    for col in ("fear_workplace", "R from below (mean)", "R from below (peak)",
                "R whole (peak)", "denunciations/arrests", "arrests"):
        table.add_column(col, justify="right")
    for r in result["rows"]:
        table.add_row(*(("n/a" if v is None else f"{v:,.3g}") for v in (
            r["fear_workplace"], r["bottom_up_r_mean"], r["bottom_up_r_peak"], r["peak_r"],
            r["denunciation_share"], r["arrested"])))
    out.print(table)
    out.print(f"shipped fear_workplace = {result['shipped_fear_workplace']:g}; the loop from "
              f"below reaches one: on average over the mass operations "
              f"{_at(result['crossing_mean'])}; in its peak window {_at(result['crossing_peak'])}",
              highlight=False)


def _at(value: float | None) -> str:
    return "not on this grid" if value is None else f"at about {value:g}"
