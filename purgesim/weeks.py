"""A run's clock: week indices and the dates they stand for.

Week 0 begins on the scenario's start date (a Monday) and week ``w`` on ``start + 7 w`` days.
The event table keeps weeks as small integers (-1 for what has not happened); tables, reports
and the archival comparison need dates. Every conversion between the two is here, so that they
cannot drift apart.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

MISSING = -1
"""The week of something that has not happened."""


def dates(start: dt.date, weeks: np.ndarray) -> np.ndarray:
    """The date (``datetime64[D]``) on which each week begins; ``weeks`` must be >= 0."""
    return np.datetime64(start, "D") + (np.asarray(weeks).astype(np.int64) * 7).astype(
        "timedelta64[D]")


def dates_or_nat(start: dt.date, weeks: np.ndarray) -> np.ndarray:
    """As :func:`dates`, with NaT (not a time) for a missing week (-1)."""
    weeks = np.asarray(weeks)
    return np.where(weeks >= 0, dates(start, np.maximum(weeks, 0)), np.datetime64("NaT"))


def weeks_since(start: dt.date, days: np.ndarray) -> np.ndarray:
    """The week in which each date (``datetime64[D]``, NaT for none) falls, counted from
    ``start``; -1 for NaT. The inverse of :func:`dates`."""
    days = np.asarray(days).astype("datetime64[D]")
    offset = (days - np.datetime64(start, "D")).astype(np.int64)
    return np.where(np.isnat(days), MISSING, offset // 7)


def years(days: np.ndarray) -> np.ndarray:
    """The calendar year of each date (``datetime64[D]``)."""
    return np.asarray(days).astype("datetime64[Y]").astype(np.int64) + 1970


def iso(start: dt.date, week: int) -> str:
    """The date on which week ``week`` begins, as ``YYYY-MM-DD``."""
    return str(start + dt.timedelta(weeks=week))


def iso_dates(start: dt.date, n: int, step: int = 1) -> list[str]:
    """The ISO dates of ``n`` consecutive weeks (or windows of ``step`` weeks) from
    ``start``."""
    return [iso(start, step * i) for i in range(n)]


def last_week_start(start: dt.date, weeks: int) -> dt.date:
    """The date on which the last of ``weeks`` weeks begins."""
    return start + dt.timedelta(weeks=weeks - 1)
