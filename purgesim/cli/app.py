"""The Typer application, the consoles and what every command shares.

Progress bars and logs go to stderr, so ``--json`` output on stdout is exactly one JSON object.
A scenario that cannot run is refused before anything runs, one problem per line, exit code 2.
Nothing heavy is imported here or at the top of a command module (numba, pyarrow, plotly,
duckdb): each command imports what it needs when it runs, so ``purgesim check`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from purgesim.scenario import Scenario, ScenarioError

app = typer.Typer(
    help="purgesim: simulate the machinery of Soviet mass repression, 1936-39.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")]
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="The run catalog (DuckDB file); default: $PURGESIM_CATALOG, else "
                      "catalog.duckdb in the user's data folder.")]


def fail(message: str, code: int) -> NoReturn:
    """Print one error line on stderr (plain text: it may quote a user's file) and exit."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=code)


def refuse(exc: ScenarioError) -> NoReturn:
    """One line per problem of a refused scenario or config file, then exit with code 2."""
    for line in exc.problems:
        # the line quotes the user's file: escaped, so that '[...]' is not read as markup
        err.print(f"[red]error:[/red] {escape(line)}", highlight=False, markup=True,
                  soft_wrap=True)
    raise typer.Exit(code=2)


def load(ref: str, **overrides: Any) -> Scenario:
    """The scenario ``ref`` with ``overrides``, or exit refusing it."""
    from purgesim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(ref, **overrides)
    except ScenarioError as exc:
        refuse(exc)


def progress(*columns: str | ProgressColumn) -> Progress:
    """A progress bar on stderr, shown only on a terminal and gone when done."""
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


def bar(unit: str | None = None) -> Progress:
    """The usual bar: what is running, the bar, done/total ``unit`` (if given), time."""
    counts = [TextColumn(f"{{task.completed}}/{{task.total}} {unit}")] if unit else []
    return progress(TextColumn("{task.description}"), BarColumn(), *counts,
                    TimeElapsedColumn())


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def main() -> None:
    app()
