"""The ``purgesim`` command line (Typer + Rich), started by :mod:`purgesim.entry`.

:mod:`purgesim.cli.app` holds the Typer application and what the commands share; each other
module holds one group of commands and parses, runs library code and prints, nothing more.
Their top-level imports are light, so that a quick command (``check``) loads no numba,
pyarrow or plotly: each command imports what it needs when it runs.
"""

import importlib

from purgesim.cli.app import app, main

COMMAND_MODULES = ("run", "compare", "report", "history", "runaway", "sweep", "sensitivity",
                   "serve", "calibrate", "catalog", "export", "small")
"""The command modules, in the order `purgesim --help` lists their commands: importing one
registers its commands with :data:`app`."""

for _module in COMMAND_MODULES:
    importlib.import_module(f"purgesim.cli.{_module}")

__all__ = ["COMMAND_MODULES", "app", "main"]
