"""The ``purgesim`` console script and ``python -m purgesim``.

Loading the command line takes about half a second (numpy, pydantic, Typer, the commands), and
the command's own Ctrl-C handling starts only after it. This module imports nothing heavy
itself, so that Ctrl-C while the rest loads ends with one line and exit code 130, as it does
later, and not with a traceback.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it."""


def main() -> None:
    try:
        from purgesim.cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: before the command started; nothing was run or written\n")
        sys.exit(INTERRUPTED)
    command_line()
