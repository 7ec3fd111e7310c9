"""``purgesim compare``: scenarios on the same seeds, side by side."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from purgesim.cli.app import (
    MAX_SEEDS,
    app,
    bar,
    check_target,
    cores,
    err,
    fail,
    load,
    on_interrupt,
    out,
)


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or files to compare.")],
    scale: Annotated[int | None, typer.Option(help="Real people per agent.")] = None,
    seed: Annotated[int, typer.Option(help="First seed.")] = 1,
    seeds: Annotated[int, typer.Option(min=1, max=MAX_SEEDS,
                                       help="Number of seeds (seed, seed+1, ...).")] = 1,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes to run on (default: one per core).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report_file: Annotated[Path | None, typer.Option(
        "--report", help="Also write an HTML report with the scenarios in the same charts.")
    ] = None,
) -> None:
    """Run scenarios on the same seeds and show them side by side."""
    from purgesim.compare import CompareFailed
    from purgesim.compare import compare as run_compare
    from purgesim.metrics import METRICS, format_metric

    for ref in scenarios:  # refuse a bad file, or a bad first or last seed, before anything runs
        load(ref, scale=scale, seed=seed)
        load(ref, scale=scale, seed=seed + seeds - 1)
    if report_file is not None:
        check_target(report_file, "--report")
    with bar() as shown, on_interrupt(lambda: "compare keeps no files, so nothing was "
                                      "written; rerun the same command"):
        task = shown.add_task("comparing", total=len(scenarios) * seeds)
        try:
            result = run_compare(
                scenarios, range(seed, seed + seeds), scale=scale, workers=workers or cores(),
                progress=lambda name, s: shown.update(task, advance=1,
                                                      description=f"{name} seed {s}"),
                series=report_file is not None)
        except CompareFailed as exc:
            fail(f"error: {exc}", code=1)
    if as_json:
        if report_file is not None:
            _compare_report(result, report_file, err)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    names = list(result["scenarios"])
    table = Table(title=f"mean over seeds {seed}..{seed + seeds - 1} at 1:{result['scale']} "
                  "(real people)")
    table.add_column("figure")
    for name in names:
        table.add_column(name, justify="right")
    for key, label in METRICS:
        table.add_row(label, *(format_metric(key, result["scenarios"][name]["mean"][key])
                               for name in names))
    out.print(table)
    if report_file is not None:
        _compare_report(result, report_file, out)


def _compare_report(result: dict[str, Any], target: Path, console: Console) -> None:
    from purgesim.report import write_compare_report

    try:
        written = write_compare_report(result, target)
    except OSError as exc:
        fail(f"error: --report {target}: cannot write the report: {exc}", code=1)
    console.print(f"report written to {written}", highlight=False, markup=False, soft_wrap=True)
