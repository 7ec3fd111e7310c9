"""The Typer application, the consoles and what every command shares.

Progress bars and logs go to stderr, so ``--json`` output on stdout is exactly one JSON object.
A scenario that cannot run is refused before anything runs, one problem per line, exit code 2.
Nothing heavy is imported here or at the top of a command module (numba, pyarrow, plotly,
duckdb): each command imports what it needs when it runs, so ``purgesim check`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

from purgesim.params import unprintable

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
MAX_SEEDS = 10_000
"""The most seeds one command runs (--reps, --seeds): ten thousand runs at the default scale
already take most of a day on the development machine."""
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="The run catalog (DuckDB file); default: $PURGESIM_CATALOG, else "
                      "catalog.duckdb in the user's data folder.")]


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""
_said_interrupted = False


def plain(text: str) -> str:
    """``text`` with every character a terminal would not show as itself (control and
    bidirectional characters: they could recolour or reorder what is printed) escaped as
    ``\\x1b``, ``\\u202e``..., so that quoted names, paths and values print as they are."""
    if not any(unprintable(char) for char in text):
        return text
    return "".join(char.encode("unicode_escape").decode("ascii") if unprintable(char) else char
                   for char in text)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 week``, ``2 weeks``, ``1,000 people`` (``words`` for an irregular plural)."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def fail(message: str, code: int) -> NoReturn:
    """Print one error line on stderr (plain text: it may quote a user's file) and exit."""
    err.print(plain(message), highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=code)


def refuse(exc: ScenarioError) -> NoReturn:
    """One line per problem of a refused scenario or config file, then exit with code 2."""
    for line in exc.problems:
        # the line quotes the user's file: escaped, so that '[...]' is not read as markup
        err.print(f"[red]error:[/red] {escape(plain(line))}", highlight=False, markup=True,
                  soft_wrap=True)
    raise typer.Exit(code=2)


def check_target(path: Path, option: str) -> None:
    """Before any work: refuse a file a command must not or cannot write (a run's own file,
    a folder that cannot be written), in one line, exit code 2."""
    from purgesim.outputs import OutputError, prepare_file

    try:
        prepare_file(path, option)
    except OutputError as exc:
        fail(f"error: {exc}", code=2)


def check_folder(path: Path, option: str = "--out") -> None:
    """Before any work: create ``path`` if needed and refuse it, in one line, exit code 2,
    if nothing can be written there."""
    from purgesim.outputs import OutputError, prepare_folder

    try:
        prepare_folder(path, option)
    except OutputError as exc:
        fail(f"error: {exc}", code=2)


@contextmanager
def on_interrupt(said: Callable[[], str]) -> Iterator[None]:
    """Turn Ctrl-C inside the block into one line on stderr, ``interrupted: ...`` with what
    ``said()`` returns (what was kept and how to go on), and exit code 130."""
    global _said_interrupted
    try:
        yield
    except KeyboardInterrupt:
        _said_interrupted = True
        fail(f"interrupted: {said()}", code=INTERRUPTED)


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
    """The ``purgesim`` command: a usage error is one line that echoes the bad value, and an
    interrupt that no command explained still says that nothing was left half-written."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a usage error (Typer's own click)
        if str(exc).strip():  # no arguments at all: the help is already shown
            err.print(plain(usage_line(exc)), highlight=False, markup=False, soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort as exc:
        if not isinstance(exc.__cause__, KeyboardInterrupt):
            err.print("aborted", highlight=False)
            sys.exit(1)
        code = INTERRUPTED  # Ctrl-C before the command set its own handler
    except KeyboardInterrupt:  # the same, while Typer was still building the commands
        code = INTERRUPTED
    if code == INTERRUPTED and not _said_interrupted:
        err.print("interrupted: nothing was left half-written (every file is written whole "
                  "or not at all); rerun the same command to go on", highlight=False,
                  soft_wrap=True)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: Exception) -> str:
    """A usage error as one line: the option or argument, the value given and what is
    allowed, and where to read more."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []  # pydantic, in Typer's types
    param = getattr(exc, "param", None)
    if errors and param is not None:
        opts = getattr(param, "opts", None) or [param.name]
        what = str(errors[0].get("msg", message)).replace("Input should be", "allowed:")
        given = str(errors[0].get("input"))
        message = f"{opts[0]} {given if given.strip() == given and given else repr(given)}: {what}"
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"error: {message}{hint}"
