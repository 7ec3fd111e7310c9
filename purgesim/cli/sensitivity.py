"""``purgesim sensitivity`` (Sobol indices of a sweep) and ``purgesim safeguards`` (which
combinations keep an outcome under a threshold)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from purgesim.cli.app import app, err, fail, out

OUTPUT_HELP = ("arrests, shot, innocent_share, peak_r, output_loss, or any numeric column of "
               "the rows (such as totals.cat1)")


@app.command()
def sensitivity(
    folder: Annotated[Path, typer.Argument(help="A sweep folder (purgesim sweep --out).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[Path | None, typer.Option(
        help="Where to write the chart page (default FOLDER/sensitivity.html).")] = None,
    resamples: Annotated[int, typer.Option(min=10, help="Bootstrap resamples.")] = 1000,
    png: Annotated[Path | None, typer.Option(
        help="Also draw the charts as PNG files in this folder (needs Chromium).")] = None,
) -> None:
    """Sobol first-order and total indices, with bootstrap intervals, of each parameter on
    arrests, shot, the innocent share, the peak reproduction number and output loss."""
    from purgesim.report.sensitivity import write_sensitivity_page
    from purgesim.sensitivity import SensitivityError, sobol_indices
    from purgesim.sweeps import SweepDirError

    try:
        result = sobol_indices(folder, resamples=resamples)
    except (SweepDirError, SensitivityError) as exc:
        fail(f"error: {exc}", code=2)
    page = write_sensitivity_page(result, html or folder / "sensitivity.html")
    if png is not None:
        from purgesim.report import PngError, write_pngs
        from purgesim.report.sensitivity import charts

        try:
            write_pngs(charts(result), png)
        except PngError as exc:
            fail(f"error: --png: {exc} (the page {page} is written)", code=1)
    if result["missing_runs"]:
        err.print(f"note: {result['missing_runs']} runs of the design are missing; rerun the "
                  "sweep to finish it (blocks with a missing run are left out)", markup=False)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    for output, indices in result["outputs"].items():
        blocks = result["blocks"][output]
        table = Table(title=f"{output}: {blocks['used']} blocks used, {blocks['dropped']} "
                      f"dropped{'; ' + blocks['note'] if blocks['note'] else ''}")
        for name in ("parameter", "S1", f"{result['conf_level']:.0%} ±", "ST", "±"):
            table.add_column(name, justify="left" if name == "parameter" else "right")
        for name, v in indices.items():
            table.add_row(name, *(_num(v[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")))
        out.print(table)
    out.print(f"chart: {page}", highlight=False, markup=False)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@app.command()
def safeguards(
    folder: Annotated[Path, typer.Argument(help="A sweep folder (purgesim sweep --out).")],
    below: Annotated[float, typer.Option(help="The threshold the output should stay under.")],
    output: Annotated[str, typer.Option(help=f"The outcome: {OUTPUT_HELP}.")] = "shot",
    depth: Annotated[int, typer.Option(min=1, max=8, help="Depth of the decision tree.")] = 3,
    min_share: Annotated[float, typer.Option(
        min=0.0, max=0.5, help="Smallest box, as a share of the runs.")] = 0.05,
    nulls: Annotated[str, typer.Option(
        help="Runs where the output is null: drop, below or above the threshold.")] = "drop",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Which combinations of parameters (and how early) keep an outcome under a threshold:
    boxes from a decision tree, with coverage and density."""
    from purgesim.sensitivity import OUTPUTS, column
    from purgesim.sweeps import SweepDirError
    from purgesim.sweeps.discovery import discover

    if nulls not in ("drop", "below", "above"):
        fail(f"error: --nulls {nulls!r}: allowed: drop, below, above", code=2)
    name = column(output)
    try:
        result = discover(folder, name, below, depth=depth, min_share=min_share,
                          nulls=nulls)  # type: ignore[arg-type]
    except SweepDirError as exc:
        fail(f"error: {exc}", code=2)
    except KeyError:
        fail(f"error: --output {output!r}: not a column of {folder}'s rows; allowed: "
             f"{', '.join(OUTPUTS)}, or a numeric column such as totals.cat1", code=2)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    out.print(f"{name} under {below:,.6g} in {result['under']} of {result['runs']} runs "
              f"({result['density_all']:.0%}); {result['nulls']['count']} null "
              f"({result['nulls']['how']})", highlight=False, markup=False)
    table = Table(title="boxes where most runs stay under the threshold, best first")
    for col in ("conditions", "runs", "coverage", "density"):
        table.add_column(col, justify="left" if col == "conditions" else "right")
    for box in result["boxes"]:
        words = "\n".join(f"{k} = {v}" for k, v in box["conditions"].items()) or "(anywhere)"
        table.add_row(words, str(box["runs"]), f"{box['coverage']:.0%}", f"{box['density']:.0%}")
    out.print(table)
    ranked = sorted(result["importance"].items(), key=lambda kv: -kv[1])
    out.print("importance in the tree: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked if v),
              highlight=False, markup=False)
