"""``purgesim export``: a run's cascade of accusations as GraphML and Parquet edges."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from purgesim.cli.app import app, check_target, fail, on_interrupt, out


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by `purgesim run --out`.")],
    graph: Annotated[Path | None, typer.Option(
        "--graph", help="Write the cascade (who named whom) as GraphML here.")] = None,
    edges: Annotated[Path | None, typer.Option(
        "--edges", help="Write its edges (source, target, week, via) as Parquet here.")] = None,
) -> None:
    """Export a run's cascade of accusations as a graph (GraphML) and an edge list."""
    from purgesim.export import ExportError
    from purgesim.export import export as run_export

    if graph is None and edges is None:
        fail("error: nothing to export; allowed: --graph FILE.graphml and/or "
             "--edges FILE.parquet", code=2)
    for target, option in ((graph, "--graph"), (edges, "--edges")):
        if target is not None:
            check_target(target, option)
    try:
        with on_interrupt(lambda: "every file is written whole or not at all, so nothing is "
                          "half-written; rerun the same command"):
            counts = run_export(run_dir, graph=graph, edges=edges)
    except ExportError as exc:
        fail(f"error: {exc}", code=2)
    except OSError as exc:
        fail(f"error: cannot write the export: {exc}", code=1)
    written = " and ".join(str(p) for p in (graph, edges) if p is not None)
    out.print(f"{counts['nodes']:,} people ({counts['arrests']:,} arrested) and "
              f"{counts['edges']:,} accusations written to {written}", highlight=False,
              markup=False, soft_wrap=True)
