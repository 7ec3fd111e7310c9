"""The light weekly series of a run that charts need, computed from a :class:`Result`.

A few hundred numbers per run, so that a worker process of ``purgesim compare`` can return
them instead of its tables, and the compare report can average them over seeds. Counts are
real people (sums of agent weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from purgesim import weeks as clock
from purgesim.results import REPRODUCTION_MIN_AGENTS, reproduction
from purgesim.vocab import SENT, SENTENCES

if TYPE_CHECKING:
    from purgesim.results import Result

WINDOW_WEEKS = 4
"""Width of the windows of the reproduction number and of the innocent share (as the summary)."""


def by_week(week: np.ndarray, weight: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weight`` over the rows in ``mask``, by ``week`` (rows outside 0..n-1 left
    out)."""
    keep = mask & (week >= 0) & (week < n)
    return np.bincount(week[keep], weights=weight[keep], minlength=n)[:n]


def rounded(values: np.ndarray, digits: int = 6) -> list[float | None]:
    """An array as a JSON-able list, NaN as None."""
    return [None if np.isnan(v) else round(float(v), digits) for v in values]


def run_series(result: Result) -> dict[str, Any]:
    """The light series a report charts for one run, in real people: weekly arrests and
    sentences (cat1, cat2, released, by sentence week), and by window of ``WINDOW_WEEKS``
    weeks the share of the convicted who were innocent (by sentence week) and the cascade's
    reproduction number (by the namer's arrest week; windows with fewer than
    ``REPRODUCTION_MIN_AGENTS`` arrested agents are left blank)."""
    c = result.columns
    n = result.weeks
    weight = c["weight"].astype(float)
    week = c["week"].astype(np.int64)
    sentence = c["sentence"].astype(np.int64)
    sentence_week = c["sentence_week"].astype(np.int64)
    everyone = np.ones(len(weight), dtype=bool)
    out: dict[str, Any] = {"dates": clock.iso_dates(result.start, n),
                           "arrests": rounded(by_week(week, weight, everyone, n), 3)}
    for code, name in enumerate(SENTENCES):
        out[name] = rounded(by_week(sentence_week, weight, sentence == code, n), 3)
    n_windows = (n + WINDOW_WEEKS - 1) // WINDOW_WEEKS
    out["window_dates"] = clock.iso_dates(result.start, n_windows, step=WINDOW_WEEKS)
    convicted = (sentence >= 0) & (sentence != SENT["released"])
    guilty = c["guilty"].astype(bool)
    window = np.where(sentence_week >= 0, sentence_week // WINDOW_WEEKS, -1)
    conv = by_week(window, weight, convicted, n_windows)
    innocent = by_week(window, weight, convicted & ~guilty, n_windows)
    out["innocent_share"] = rounded(np.where(conv > 0, innocent / np.maximum(conv, 1), np.nan))
    out["r"] = reproduction_series(result)["r"]
    return out


def reproduction_series(result: Result) -> dict[str, Any]:
    """:meth:`Result.reproduction` by window of ``WINDOW_WEEKS`` weeks, with the windows that
    have too few arrested agents to mean something blanked (as for the summary's peak)."""
    week = result.columns["week"].astype(np.int64)
    r = reproduction(week, result.columns["weight"], result.parent_rows(), result.weeks,
                     result.start, window_weeks=WINDOW_WEEKS)
    agents = np.bincount(week // WINDOW_WEEKS, minlength=len(r["r"]))[:len(r["r"])]
    r["r"] = [v if a >= REPRODUCTION_MIN_AGENTS else None
              for v, a in zip(r["r"], agents, strict=True)]
    return r


def mean_series(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Element-wise mean of the series of several runs of one scenario (dates from the first);
    a point that is blank in every run stays blank."""
    first = runs[0]
    out: dict[str, Any] = {"dates": first["dates"], "window_dates": first["window_dates"]}
    for key in first:
        if key in out:
            continue
        stack = np.array([[np.nan if v is None else v for v in r[key]] for r in runs],
                         dtype=float)
        with np.errstate(all="ignore"):
            empty = np.all(np.isnan(stack), axis=0)
            mean = np.where(empty, np.nan, np.nanmean(np.where(empty, 0.0, stack), axis=0))
        out[key] = rounded(mean)
    return out
