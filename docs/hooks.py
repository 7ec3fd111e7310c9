"""MkDocs hooks (mkdocs.yml ``hooks``): the command-line reference and the table of parameter
bounds are generated from the code when the site is built, so they cannot drift from it."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

CLI = "<!-- purgesim-cli -->"
BOUNDS = "<!-- purgesim-bounds -->"


def cli_reference() -> str:
    """Typer's own Markdown for the ``purgesim`` app, one heading level down."""
    done = subprocess.run([sys.executable, "-m", "typer", "purgesim.cli", "utils", "docs",
                           "--name", "purgesim"], capture_output=True, text=True, check=True)
    return re.sub(r"^(#+) ", r"#\1 ", done.stdout, flags=re.M)


def bounds_table() -> str:
    """One row per number of the default scenario: its lowest and highest value and why."""
    import annotated_types

    from purgesim.params import Why
    from purgesim.problems import metadata_at, number_paths
    from purgesim.scenario import Scenario, load_scenario

    rows = ["| field | lowest | highest | why the highest |", "|---|---|---|---|"]
    for path in number_paths(load_scenario().model_dump()):
        low, high, why = "", float("inf"), ""
        for m in metadata_at(Scenario, path):
            if isinstance(m, annotated_types.Ge):
                low = f"{m.ge:g}"
            elif isinstance(m, annotated_types.Gt):
                low = f"above {m.gt:g}"
            elif isinstance(m, annotated_types.Le):
                high = min(high, float(m.le))
            elif isinstance(m, annotated_types.Lt):  # the seed: below 2**63
                high = min(high, float(m.lt) - 1)
            elif isinstance(m, Why):
                why = m.text
        if high == 1 and not why:
            why = "a probability or a share"
        shown = f"{int(high):,}" if high == int(high) else f"{high:g}"
        rows.append(f"| `{'.'.join(path)}` | {low} | {shown} | {why} |")
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if CLI in markdown:
        markdown = markdown.replace(CLI, cli_reference())
    if BOUNDS in markdown:
        markdown = markdown.replace(BOUNDS, bounds_table())
    return markdown
