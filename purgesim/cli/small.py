"""The small commands: ``scenarios``, ``check``, ``order`` and ``core``."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer
from rich.table import Table

from purgesim.cli.app import ScenarioArg, app, load, out, plain, plural
from purgesim.params import MAX_RUN_WEEKS


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    from purgesim.scenario import shipped_scenarios

    table = Table(title="shipped scenarios")
    table.add_column("name")
    table.add_column("description")
    for name, description in shipped_scenarios().items():
        table.add_row(name, description)
    out.print(table)


@app.command()
def check(scenario: ScenarioArg) -> None:
    """Validate a scenario file without running it."""
    sc = load(scenario)
    out.print(plain(f"ok: {scenario} is a valid scenario ({sc.name}, 1:{sc.scale}, "
                    f"{plural(sc.weeks, 'week')}, seed {sc.seed})"),
              highlight=False, markup=False, soft_wrap=True)


@app.command()
def order(scenario: ScenarioArg = "great-terror") -> None:
    """Print the order in which the mechanisms act each week."""
    from purgesim.sim import Sim

    out.print(Sim(load(scenario)).loop_table(), highlight=False)


@app.command()
def core(
    n: Annotated[int, typer.Option(
        "--n", min=1, max=200_000_000,
        help="Number of agents (at most 200 million, more than the USSR's population).")
    ] = 1_000_000,
    weeks: Annotated[int, typer.Option(min=0, max=MAX_RUN_WEEKS, help="Weeks to run.")] = 70,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Random seed.")] = 0,
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
