"""The ``purgesim`` command line (Typer + Rich).

Progress bars and logs go to stderr, so ``--json`` output on stdout is exactly one JSON object.
A scenario that cannot run is refused before anything runs, one problem per line, exit code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from purgesim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

app = typer.Typer(
    help="purgesim: simulate the machinery of Soviet mass repression, 1936-39.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")]


def _load(ref: str, **overrides: Any) -> Scenario:
    try:
        return load_scenario(ref, **overrides)
    except ScenarioError as exc:
        for line in exc.problems:
            # the line quotes the user's file: escaped, so that '[...]' is not read as markup
            err.print(f"[red]error:[/red] {escape(line)}", highlight=False, markup=True,
                      soft_wrap=True)
        raise typer.Exit(code=2) from None


@app.command()
def run(
    scenario: ScenarioArg = "great-terror",
    scale: Annotated[int | None, typer.Option(help="Real people per agent (1 = everyone).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write result files here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: Annotated[bool, typer.Option(help="Show time spent in each phase.")] = False,
) -> None:
    """Run a scenario and summarise it (real people, not agents)."""
    from purgesim.engine.sim import Sim

    sc = _load(scenario, scale=scale, seed=seed)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        err.print(f"error: --out {out_dir}: exists and is not a folder; allowed: a folder "
                  "(created if missing)", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2)
    t0 = time.perf_counter()
    sim = Sim(sc)
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} weeks"), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"building {sc.name} at 1:{sc.scale}", total=sc.weeks)
        sim.init()
        bar.update(task, description=f"running {sc.name}")
        result = sim.run(progress=lambda done, total: bar.update(task, completed=done))
    wall = time.perf_counter() - t0
    summary = result.summary()
    if out_dir is not None:
        try:
            result.write(out_dir, meta={"wall_seconds": round(wall, 3)})
        except OSError as exc:
            err.print(f"error: --out {out_dir}: cannot write the results: {exc}",
                      highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        _print_summary(summary)
        if out_dir is not None:
            out.print(f"results written to {out_dir}")
    if profile:
        console = err if as_json else out
        table = Table(title=f"time per phase ({wall:.2f} s wall)")
        table.add_column("phase")
        table.add_column("seconds", justify="right")
        for phase, seconds in result.timings.items():
            table.add_row(phase, f"{seconds:.3f}")
        console.print(table)


def _print_summary(s: dict[str, Any]) -> None:
    out.print(f"[bold]{escape(s['scenario'])}[/bold]: {s['agents']:,} agents at 1:{s['scale']}, "
              f"{s['weeks']} weeks, seed {s['seed']}. Figures are real people.")
    years = Table(title="by year (arrests by arrest date, convictions by sentence date)")
    for col in ("year", "arrested", "convicted", "category 1 (shot)", "category 2 (camp)"):
        years.add_column(col, justify="right")
    for year, v in s["by_year"].items():
        years.add_row(year, f"{v['arrested']:,}", f"{v['convicted']:,}", f"{v['cat1']:,}",
                      f"{v['cat2']:,}")
    out.print(years)
    totals = Table(title="totals")
    totals.add_column("outcome")
    totals.add_column("people", justify="right")
    for key, value in s["totals"].items():
        totals.add_row(key.replace("_", " "), f"{value:,}")
    out.print(totals)
    sources = Table(title="arrests by source and by operation")
    sources.add_column("source")
    sources.add_column("arrested", justify="right")
    sources.add_column("operation")
    sources.add_column("arrested", justify="right")
    sources.add_column("convicted", justify="right")
    src = list(s["by_source"].items())
    ops = list(s["by_operation"].items())
    for i in range(max(len(src), len(ops))):
        a = src[i] if i < len(src) else ("", None)
        b = ops[i] if i < len(ops) else ("", None)
        sources.add_row(a[0], "" if a[1] is None else f"{a[1]:,}", b[0],
                        "" if b[1] is None else f"{b[1]['arrested']:,}",
                        "" if b[1] is None else f"{b[1]['convicted']:,}")
    out.print(sources)
    share = s["innocent_share"]
    out.print("innocent share of the convicted: "
              + ("n/a (nobody convicted)" if share is None else f"{share:.2%}")
              + " (depends on the assumed prevalence of real guilt, population.guilty_prevalence)")


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or files to compare.")],
    scale: Annotated[int | None, typer.Option(help="Real people per agent.")] = None,
    seed: Annotated[int, typer.Option(help="First seed.")] = 1,
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeds (seed, seed+1, ...).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run scenarios on the same seeds and show them side by side."""
    from purgesim.compare import METRICS
    from purgesim.compare import compare as run_compare

    for ref in scenarios:
        _load(ref, scale=scale)  # refuse a bad file before anything runs
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("comparing", total=len(scenarios) * seeds)
        result = run_compare(
            scenarios, range(seed, seed + seeds), scale=scale,
            progress=lambda name, s: bar.update(task, advance=1, description=f"{name} seed {s}"))
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    names = list(result["scenarios"])
    table = Table(title=f"mean over seeds {seed}..{seed + seeds - 1} at 1:{result['scale']} "
                  "(real people)")
    table.add_column("figure")
    for name in names:
        table.add_column(name, justify="right")
    for key, label in METRICS:
        cells = []
        for name in names:
            value = result["scenarios"][name]["mean"][key]
            if value is None:
                cells.append("n/a")
            elif key in ("innocent_share", "output_loss"):
                cells.append(f"{value:.2%}")
            elif key == "peak_r":
                cells.append(f"{value:.2f}")
            else:
                cells.append(f"{value:,.0f}")
        table.add_row(label, *cells)
    out.print(table)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    table = Table(title="shipped scenarios")
    table.add_column("name")
    table.add_column("description")
    for name, description in shipped_scenarios().items():
        table.add_row(name, description)
    out.print(table)


@app.command()
def check(scenario: ScenarioArg) -> None:
    """Validate a scenario file without running it."""
    sc = _load(scenario)
    out.print(f"ok: {scenario} is a valid scenario ({sc.name}, 1:{sc.scale}, {sc.weeks} weeks, "
              f"seed {sc.seed})", highlight=False, markup=False, soft_wrap=True)


@app.command()
def order(scenario: ScenarioArg = "great-terror") -> None:
    """Print the order in which the mechanisms act each week."""
    from purgesim.engine.sim import Sim

    out.print(Sim(_load(scenario)).loop_table(), highlight=False)


@app.command()
def core(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of agents.")] = 1_000_000,
    weeks: Annotated[int, typer.Option(min=0, help="Weeks to run.")] = 70,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the reference core model of MODEL.md section 6 (for benchmarks)."""
    from purgesim.core import run_core

    t0 = time.perf_counter()
    totals = run_core(n, weeks, seed).totals()
    seconds = time.perf_counter() - t0
    if as_json:
        sys.stdout.write(json.dumps(totals) + "\n")
        return
    table = Table(title=f"core model: N = {n:,}, T = {weeks}, seed {seed} ({seconds:.3f} s)")
    table.add_column("total")
    table.add_column("agents", justify="right")
    for key, value in totals.items():
        table.add_row(key, f"{value:,}")
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
