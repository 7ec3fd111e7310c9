"""The report's charts as PNG files, drawn by Kaleido through a local Chrome or Chromium.

The browser is found here and handed to Kaleido as an argument: the process environment is
left alone (``BROWSER_PATH`` is only read).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from purgesim.report.data import ReportError
from purgesim.report.figures import Chart

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                  "chrome")
TITLE_PX = 40
"""Room added above each chart for its title."""


class PngError(ReportError):
    """The PNG files cannot be drawn (no Chromium, or it failed); the HTML is unaffected."""


def find_chromium() -> str:
    """The Chrome or Chromium that draws PNG files: ``BROWSER_PATH`` if set, else the first
    of ``CHROMIUM_NAMES`` on the PATH. Raises :class:`PngError` saying how to get one."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise PngError(f"BROWSER_PATH={env}: not an executable file; allowed: the path of "
                       "a Chromium or Chrome executable")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PngError("drawing PNG files needs Chromium or Chrome, and none was found (looked "
                   f"for {', '.join(CHROMIUM_NAMES)} on the PATH; BROWSER_PATH is not "
                   "set): install one (on Debian: apt-get install chromium) or set "
                   "BROWSER_PATH to its executable")


def titled(chart: Chart) -> go.Figure:
    """A chart's figure with its title drawn in (a page shows it as a heading instead)."""
    fig = go.Figure(chart.figure)
    top = int(fig.layout.margin.t or 40)
    fig.update_layout(title={"text": chart.title, "x": 0.01, "y": 0.99, "yref": "container",
                             "yanchor": "top"}, margin={"t": top + TITLE_PX})
    if fig.layout.legend.yref == "container":
        fig.update_layout(legend={"y": 0.99 - TITLE_PX / (chart.height + TITLE_PX)})
    return fig


def write_pngs(charts: Sequence[Chart], out_dir: str | Path, width: int = 1100,
               scale: float = 1.0) -> list[Path]:
    """Draw the charts (not the tables) as ``NN-key.png`` files in ``out_dir`` (created if
    missing), titled, through Kaleido and a local Chromium; return the paths."""
    import kaleido
    import plotly.io as pio

    browser = find_chromium()
    chosen = [c for c in charts if c.figure is not None]
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:02d}-{c.key}.png" for i, c in enumerate(chosen, 1)]
    specs = [{"fig": titled(chart).to_dict(), "path": path,
              "opts": {"format": "png", "width": width, "height": chart.height + TITLE_PX,
                       "scale": scale}}
             for chart, path in zip(chosen, paths, strict=True)]
    # what plotly.io.write_images would hand Kaleido, and the browser as Kaleido's own
    # argument (passed through to choreographer.Browser(path=...))
    options: dict[str, Any] = {"path": browser}
    for key in ("plotlyjs", "mathjax", "headers"):
        if getattr(pio.defaults, key, None):
            options[key] = getattr(pio.defaults, key)
    try:
        kaleido.write_fig_from_object_sync(specs, kopts=options, cancel_on_error=True)
    except Exception as exc:  # Kaleido reports a missing or broken browser in many ways
        raise PngError(f"drawing PNG files with {browser} failed: {exc}") from None
    return paths
