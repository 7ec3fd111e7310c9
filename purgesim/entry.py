"""The ``purgesim`` console script and ``python -m purgesim``.

Loading the command line takes about half a second (numpy, pydantic, Typer, the commands), and
the command's own Ctrl-C handling starts only after it. This module imports nothing heavy
itself, so that Ctrl-C while the rest loads ends with one line and exit code 130, as it does
later, and not with a traceback.
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    try:
        from purgesim.cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: before the command started; nothing was run or written\n")
        sys.exit(128 + signal.SIGINT)  # as purgesim.cli.app.INTERRUPTED, which is not loaded
    command_line()
