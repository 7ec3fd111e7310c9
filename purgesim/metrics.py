"""The figures by which runs are set side by side, read from a run's summary.

``purgesim compare`` prints them, and the compare report tabulates them; both read them here,
from :meth:`purgesim.results.Result.summary`, where every headline figure is computed.
"""

from __future__ import annotations

from typing import Any

from purgesim.vocab import SOURCES

METRICS: tuple[tuple[str, str], ...] = (
    ("arrested", "arrests"),
    ("convicted", "convictions"),
    ("cat1", "shot (category 1)"),
    ("innocent_share", "innocent share of the convicted"),
    ("peak_r", "peak reproduction number (4-week windows)"),
    ("output_loss", "output loss against no terror"),
    ("officers_arrested", "officers arrested, 1937-38"),
    ("officials_arrested", "officials arrested, 1937-38"),
    ("central_committee_shot", "Central Committee (of 139) shot"),
    *((f"from_{name}", f"arrests from {name.replace('_', ' ')}") for name in SOURCES),
)
"""(key, label) of each compared figure, in the order they are shown."""


def figures(summary: dict[str, Any]) -> dict[str, float | None]:
    """The compared figures of one run's summary."""
    out: dict[str, float | None] = {
        "arrested": summary["totals"]["arrested"],
        "convicted": summary["totals"]["convicted"],
        "cat1": summary["totals"]["cat1"],
        "innocent_share": summary["innocent_share"],
        "peak_r": summary["reproduction"]["peak"],
        "output_loss": summary["economy"]["output_loss"],
        "officers_arrested": summary["elite"]["officers_arrested"],
        "officials_arrested": summary["elite"]["officials_arrested"],
        "central_committee_shot": summary["elite"]["central_committee_shot"],
    }
    for name in SOURCES:
        out[f"from_{name}"] = summary["by_source"][name]
    return out


def format_metric(key: str, value: float | None) -> str:
    """A compared figure as `purgesim compare` prints it: shares as percentages, the
    reproduction number to two decimals, counts as whole people."""
    if value is None:
        return "n/a"
    if key in ("innocent_share", "output_loss"):
        return f"{value:.2%}"
    if key == "peak_r":
        return f"{value:.2f}"
    return f"{value:,.0f}"
