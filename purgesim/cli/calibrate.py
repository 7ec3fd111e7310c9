"""``purgesim calibrate``: fit parameters to archival figures (ABC-SMC on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from purgesim.cli.app import app, check_folder, err, fail, on_interrupt, out, plural, refuse


@app.command()
def calibrate(
    config: Annotated[str, typer.Argument(help="A shipped calibration name or a TOML file.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Local Dask workers (default: one per core); 1 runs in-process, "
                    "reproducibly.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of an existing Dask scheduler to run on.")] = None,
) -> None:
    """Fit parameters to archival figures (ABC-SMC); resumes an interrupted run."""
    from purgesim.calibration import calibrate as run_calibration
    from purgesim.calibration import load_config
    from purgesim.scenario import ScenarioError

    try:
        label, cfg = load_config(config)
    except ScenarioError as exc:
        refuse(exc)
    name = Path(config).stem
    target = out_dir or Path("runs") / f"calibrate-{name}"
    check_folder(target)  # resuming in its own folder is the point: no claim on it
    err.print(f"calibrating {label}: {len(cfg.parameters)} parameters, {len(cfg.targets)} "
              f"targets, {cfg.abc.generations} generations of {cfg.abc.population_size}; "
              f"progress in {target / 'calibration.db'}", markup=False)
    if cfg.selection is not None:
        err.print(f"then the central particles are rerun at 1:{cfg.selection.scale} over seeds "
                  f"{cfg.selection.seeds} to choose the one that ships", markup=False)
    from purgesim.calibration import CalibrationError, finished_generations, shipped_values

    def kept() -> str:
        n = finished_generations(target)
        return (f"{plural(n, 'finished generation')} kept in {target / 'calibration.db'}; "
                "rerun the same command to resume")

    try:
        with on_interrupt(kept):
            fit = run_calibration(cfg, target, workers=workers, scheduler=scheduler,
                                  config_ref=config)
    except CalibrationError as exc:
        fail(f"error: {exc}", code=1)

    shipped = shipped_values(cfg)
    table = Table(title=f"posterior after {fit['generations']} generations (epsilon "
                  f"{fit['epsilon']:.3f}, effective sample size "
                  f"{fit['effective_sample_size']:.0f}), against the values {cfg.scenario} "
                  f"ships; distance of the best particle {fit['best']['distance']:.3f}, of "
                  f"the fitted one {fit['shipped']['distance']:.3f}")
    for col in ("parameter", "median", "90% interval", "best", "fitted", "shipped",
                "shipped inside"):
        table.add_column(col)
    for pname, stats in fit["parameters"].items():
        inside = stats["p05"] <= shipped[pname] <= stats["p95"]
        table.add_row(pname, f"{stats['median']:.4g}", f"{stats['p05']:.4g}-{stats['p95']:.4g}",
                      f"{stats['best']:.4g}", f"{stats['shipped']:.4g}",
                      f"{shipped[pname]:.4g}", "yes" if inside else "[red]no[/red]")
    out.print(table)
    out.print(f"fitted scenario ({fit['shipped']['rule']}): {target / 'scenario.toml'}",
              highlight=False)
