"""``purgesim sweep`` and ``purgesim sweeps``: a design over scenario parameters, on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from purgesim.cli.app import app, bar, err, fail, out, refuse


@app.command()
def sweep(
    config: Annotated[str, typer.Argument(help="A shipped design name or a TOML file.")],
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Output folder (default runs/sweep-NAME); rerun on it to resume.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Local Dask workers (default: one per core); 1 runs in this process.")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of an existing Dask scheduler to run on (its workers need purgesim).")
    ] = None,
    scale: Annotated[int | None, typer.Option(min=1, help="Instead of the design's scale.")
                     ] = None,
    samples: Annotated[int | None, typer.Option(
        min=1, help="Instead of the design's samples (lhs, sobol).")] = None,
    seeds: Annotated[str | None, typer.Option(
        help="Instead of the design's seeds: a comma-separated list such as 1,2,3.")] = None,
) -> None:
    """Run a design of scenario parameters times seeds into DIR/results/ (Parquet); rerun
    the same command to finish an interrupted sweep."""
    from purgesim.scenario import ScenarioError
    from purgesim.sweeps import SweepDirError, SweepError, load_config
    from purgesim.sweeps import sweep as run_sweep

    seed_list = _seeds(seeds)
    try:
        label, cfg, base, specs = load_config(config, scale=scale, samples=samples,
                                              seeds=seed_list)
    except ScenarioError as exc:
        refuse(exc)
    target = out_dir or Path("runs") / f"sweep-{Path(config).stem}"
    if target.exists() and not target.is_dir():
        fail(f"error: --out {target}: exists and is not a folder; allowed: a folder", code=2)
    from purgesim.sweeps import config_hash
    from purgesim.sweeps.store import same_sweep

    try:
        same_sweep(target, config_hash(cfg, base))
    except SweepDirError as exc:
        fail(f"error: {exc}", code=2)
    where = f"scheduler {scheduler}" if scheduler else (
        "this process" if workers == 1 else f"{workers or 'one per core'} local workers")
    err.print(f"sweep {label}: {len(specs)} parameters, {cfg.design.method} design, "
              f"{len(cfg.seeds)} seeds, 1:{cfg.scale}, on {where}; rows in "
              f"{target / 'results'}", markup=False, highlight=False)
    try:
        with bar("runs") as progress:
            task = progress.add_task("sweep", total=None)
            outcome = run_sweep(
                cfg, base, specs, target, label=label, workers=workers, scheduler=scheduler,
                progress=lambda done, total: progress.update(task, completed=done, total=total))
    except SweepDirError as exc:
        fail(f"error: {exc}", code=2)
    except SweepError as exc:
        fail(f"error: a run failed ({exc}); the rows finished before it are kept in "
             f"{target / 'results'}: fix it and rerun to finish", code=1)
    for note in outcome.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    resumed = (f"resumed: {outcome.before} rows were there, " if outcome.resumed else "")
    out.print(f"{resumed}{outcome.ran} runs now; {outcome.before + outcome.ran} of "
              f"{outcome.total} rows in {target / 'results'}", highlight=False, markup=False)


def _seeds(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        fail(f"error: --seeds {text!r}: allowed: a comma-separated list of whole numbers of "
             "at least 0, such as 1,2,3", code=2)
    return values


@app.command()
def sweeps() -> None:
    """List the shipped sweep designs."""
    from purgesim.sweeps import shipped_designs

    table = Table(title="shipped sweep designs (purgesim sweep NAME)")
    table.add_column("name")
    table.add_column("description")
    for name, description in shipped_designs().items():
        table.add_row(name, description)
    out.print(table)
