"""The historical figures purgesim uses, loaded from the package's ``data/`` folder.

Every number that comes from the historical record lives in a CSV file next to its source; this
module is the only place that reads them, so nothing historical is hard-coded elsewhere.

- ``history.csv``: one figure per row (``key, value, unit, period, source, confidence``), copied
  from the project's shared research data.
- ``calendar.csv``: dated orders and decisions.
- ``regions.csv``: the 11 union republics and the Gulag, with the keys that tie them to the
  census and Order 00447 rows of ``history.csv``.
- ``diaspora.csv``: the diaspora nationalities targeted by the national operations.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Figure:
    """One historical figure and where it comes from."""

    key: str
    value: float
    unit: str
    period: str
    source: str
    confidence: str


@dataclass(frozen=True)
class Region:
    index: int
    name: str
    population: int
    """Real people in 1937: the census total split by 1939 shares, or the camp stock."""
    population_source: str
    o00447_key: str


@dataclass(frozen=True)
class Nationality:
    name: str
    code: int
    population: int
    operation: str
    source: str
    confidence: str
    registered: float | None = None
    """Share of the group on the NKVD's own registers, where a source gives it (none: the
    card file registers nationals like any other diaspora, ``population.card_file``)."""


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("purgesim.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def history() -> dict[str, Figure]:
    """All figures of ``history.csv`` by key."""
    out = {}
    for row in _rows("history.csv"):
        out[row["key"]] = Figure(
            key=row["key"],
            value=float(row["value"]),
            unit=row["unit"],
            period=row["period"],
            source=row["source"],
            confidence=row["confidence"],
        )
    return out


def figure(key: str) -> float:
    """The value of one historical figure; a KeyError names the missing key."""
    try:
        return history()[key].value
    except KeyError:
        raise KeyError(f"no historical figure {key!r} in data/history.csv") from None


@cache
def calendar() -> list[dict[str, str]]:
    """The dated orders of ``calendar.csv``: date, id (the scenario calendar's event id, where
    the row is one), event and source."""
    return _rows("calendar.csv")


@cache
def regions() -> tuple[Region, ...]:
    """The 11 union republics (1937 census total split by 1939 census shares) and the Gulag.

    The 1937 census did not publish a breakdown by republic that we hold, so the total of
    ``census_1937_population`` is split in proportion to the 1939 census (largest remainder, so
    the parts add up exactly). The Gulag's population is the camp stock of 1 January 1937.
    """
    rows = _rows("regions.csv")
    total = int(figure("census_1937_population"))
    republics = [r for r in rows if r["census_1939_key"]]
    weights = np.array([figure(r["census_1939_key"]) for r in republics])
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[: total - parts.sum()]] += 1
    out = []
    for r, pop in zip(republics, parts, strict=True):
        out.append(Region(int(r["region"]), r["name"], int(pop), r["source"], r["o00447_key"]))
    for r in rows:
        if not r["census_1939_key"]:
            out.append(
                Region(int(r["region"]), r["name"], int(r["population_1937"]), r["source"],
                       r["o00447_key"])
            )
    out.sort(key=lambda reg: reg.index)
    return tuple(out)


@cache
def diaspora() -> tuple[Nationality, ...]:
    """Diaspora nationalities of the national operations, with their 1939 census size."""
    return tuple(
        Nationality(r["nationality"], int(r["code"]), int(r["population_1939"]), r["operation"],
                    r["source"], r["confidence"],
                    float(r["registered"]) if r.get("registered") else None)
        for r in _rows("diaspora.csv")
    )


def o00447_limits() -> dict[str, tuple[float, float]]:
    """Order 00447's initial limits (category 1, category 2) by region name.

    The annex gives limits by union republic for all but the Gulag, which had 10,000 for
    category 1 only.
    """
    out = {}
    for reg in regions():
        if reg.name == "Gulag":
            out[reg.name] = (figure("o00447_initial_limit_cat1_gulag"), 0.0)
        else:
            out[reg.name] = (
                figure(f"o00447_limit_cat1_{reg.o00447_key}"),
                figure(f"o00447_limit_cat2_{reg.o00447_key}"),
            )
    return out
