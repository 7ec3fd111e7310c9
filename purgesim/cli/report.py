"""``purgesim report``: the HTML report of a saved run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from purgesim.cli.app import app, check_folder, check_target, fail, on_interrupt, out


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by `purgesim run --out`.")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="The HTML file to write (default: RUN_DIR/report.html).")
    ] = None,
    png: Annotated[Path | None, typer.Option(
        help="Also draw the charts as PNG files in this folder (needs Chromium or Chrome).")
    ] = None,
) -> None:
    """Write a self-contained HTML report (Plotly charts) of a saved run."""
    from purgesim.report import PngError, ReportError, write_report

    if output is not None:
        check_target(output, "--output")
    if png is not None:
        check_folder(png, "--png")
    try:
        with on_interrupt(lambda: "every file is written whole or not at all, so nothing is "
                          "half-written; rerun the same command"):
            written = write_report(run_dir, output, png=png)
    except PngError as exc:
        fail(f"error: --png {png}: {exc} (the HTML report was written to "
             f"{output or run_dir / 'report.html'})", code=1)
    except ReportError as exc:
        fail(f"error: {exc}", code=2)
    except OSError as exc:
        fail(f"error: cannot write the report: {exc}", code=1)
    out.print(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB)"
              + (f"; PNG files in {png}" if png is not None else ""),
              highlight=False, markup=False, soft_wrap=True)
