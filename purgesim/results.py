"""What a run leaves behind: the event table, the weekly series, the summary, and files.

A :class:`Result` is the one representation of a run, whether it was just run (built by the
engine from its parts) or read back from a folder it wrote (:meth:`Result.load`): the event
table as arrays of codes, the weekly series as weeks x regions arrays, and the summary.
Tables are Arrow tables (tidy: one row per arrest; one row per week and region), written as
Parquet; every file is written atomically (:mod:`purgesim.files`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import tomli_w

from purgesim import weeks as clock
from purgesim.files import atomic_write, atomic_write_bytes, atomic_write_text, git_commit
from purgesim.vocab import FLAG, OCC, OCCUPATIONS, OFFICIALS, OPERATIONS, SENT, SENTENCES, SOURCES

if TYPE_CHECKING:
    from purgesim.population import Population
    from purgesim.scenario import Scenario

WEEKLY_FIRST = (
    "arrests_named", "arrests_denunciation", "arrests_remark", "arrests_sabotage",
    "arrests_card_file", "arrests_family", "arrests_elite",
    "convicted_cat1", "convicted_cat2", "released", "innocent_convicted", "died_in_camp",
    "limit_cat1", "limit_cat2", "limit_increase_cat1", "limit_increase_cat2",
    "suspects_waiting", "capacity", "officials_arrested", "officers_arrested", "evidence_needed",
)
"""The first columns of ``weekly.parquet`` after week, date and region, in this order; the
other series follow in the order their mechanisms define them."""
INNOCENT_SHARE_DIGITS = 6
REPRODUCTION_MIN_AGENTS = 20  # windows with fewer arrested agents give no peak (noise)
RUN_FILES = ("events.parquet", "weekly.parquet", "scenario.toml")
"""The files :meth:`Result.load` needs; ``summary.json`` and ``meta.json`` are read if there."""
_ALLOWED = "allowed: a folder written by `purgesim run --out` (or one seed-N folder of an " \
           "ensemble)"

# How each column of events.parquet becomes an array of codes again: labels become their
# index in a vocabulary (-1 for null), dates their week (-1 for null). The dtypes are those
# of the engine's event table.
_PLAIN = {"person": np.int64, "week": np.int16, "taint": np.uint8, "generation": np.int16,
          "tortured": np.bool_, "confessed": np.bool_, "named": np.int16, "guilty": np.bool_,
          "weight": np.int32, "case": np.int64}
_LABELS = {"occupation": (OCCUPATIONS, np.uint8), "operation": (OPERATIONS, np.int8),
           "source": (SOURCES, np.int8), "sentence": (SENTENCES, np.int8)}
_WEEKS = {"sentence_date": "sentence_week", "died_date": "died_week",
          "released_date": "released_week"}
EVENT_COLUMNS = ("person", "week", "date", "region", "occupation", "taint", "operation",
                 "source", "parent", "generation", "tortured", "confessed", "named", "sentence",
                 "sentence_date", "guilty", "died_date", "released_date", "weight")
"""The columns of ``events.parquet`` that every saved run has, in order."""
LATER_EVENT_COLUMNS = ("case",)
"""Columns added since, after those (read when a run has them)."""
WEEKLY_KEYS = ("week", "date", "region")


class ResultError(ValueError):
    """A folder cannot be read as a run; the message names the file and what is allowed."""


@dataclass(frozen=True)
class RunInfo:
    """What a run is, besides its tables: taken from the scenario and the population of a
    fresh run, and from the files of a loaded one."""

    name: str
    scale: int | None
    seed: int | None
    start: dt.date
    """The date on which week 0 begins."""
    weeks: int
    region_names: tuple[str, ...]
    agents: int | None
    """Agents in the population (None for a loaded run that does not say)."""


class Result:
    """The outcome of a run: event table, weekly series and summary.

    Built by the engine from its parts, or read back from a run folder by :meth:`load`. A
    loaded run has no population (``population`` is None: a folder does not keep it), so its
    :meth:`summary` is the one saved with it; everything else is computed the same way.
    """

    def __init__(self, scenario: Scenario | None, population: Population | None,
                 columns: dict[str, np.ndarray], series: dict[str, np.ndarray],
                 timings: dict[str, float], *, info: RunInfo | None = None):
        self.scenario = scenario
        """The validated scenario; None only for a loaded run whose ``scenario.toml`` no
        longer validates (saved by another version: see :attr:`scenario_data`)."""
        self.population = population
        self.columns = columns
        """The event table as arrays of codes, one row per arrest."""
        self.series = series
        """Weekly series by name, weeks x regions."""
        self.timings = timings
        if info is None:
            if scenario is None or population is None:
                raise TypeError("a Result without its scenario and population needs info")
            info = RunInfo(scenario.name, scenario.scale, scenario.seed, scenario.start,
                           scenario.weeks, tuple(population.region_names), population.n)
        self.info = info
        self.name, self.scale, self.seed = info.name, info.scale, info.seed
        self.start, self.weeks = info.start, info.weeks
        self.region_names, self.agents = info.region_names, info.agents
        self.path: Path | None = None
        """The folder a loaded run was read from."""
        self.meta: dict[str, Any] = {}
        """A loaded run's ``meta.json`` (version, commit, run id...)."""
        self._saved_summary: dict[str, Any] | None = None
        """The summary: read from a loaded run's folder, else computed on first use (a run's
        tables do not change once it has ended; writing a run and printing it both need it)."""
        self._parent_rows: np.ndarray | None = None
        self._scenario_data: dict[str, Any] | None = None

    @functools.cached_property
    def scenario_data(self) -> dict[str, Any]:
        """The resolved scenario as plain TOML data (what ``scenario.toml`` holds)."""
        if self._scenario_data is not None:
            return self._scenario_data
        assert self.scenario is not None  # only a loaded run lacks it, and it has the data
        return self.scenario.to_toml_dict()

    # ------------------------------------------------------------------ reading a folder
    @classmethod
    def load(cls, run_dir: str | Path) -> Result:
        """Read a folder written by :meth:`write` (``purgesim run --out``). The scenario is
        read as plain data and validated if it can be: a run saved by another version of
        purgesim still loads. Raises :class:`ResultError` saying what is wrong."""
        path = Path(run_dir)
        if not path.is_dir():
            raise ResultError(f"{path}: not a folder; {_ALLOWED}")
        missing = [name for name in RUN_FILES if not (path / name).is_file()]
        if missing:
            raise ResultError(f"{path}: missing {', '.join(missing)}; {_ALLOWED}")
        try:
            events = pq.read_table(path / "events.parquet")
            weekly = pq.read_table(path / "weekly.parquet")
            data = tomllib.loads((path / "scenario.toml").read_text(encoding="utf-8"))
            summary = _json_or_none(path / "summary.json")
            meta = _json_or_none(path / "meta.json") or {}
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise ResultError(f"{path}: cannot read the run's files: {exc}") from None
        for name, table, needed in (("events.parquet", events, EVENT_COLUMNS),
                                    ("weekly.parquet", weekly, WEEKLY_KEYS)):
            lacking = [c for c in needed if c not in table.column_names]
            if lacking:
                raise ResultError(f"{path / name}: no column {', '.join(lacking)}; allowed: "
                                  "the files of `purgesim run --out`")
        if weekly.num_rows == 0:
            raise ResultError(f"{path / 'weekly.parquet'}: no weeks")
        start, n_weeks, regions, series = _read_weekly(weekly)
        info = RunInfo(name=str(data.get("name") or meta.get("scenario") or path.name),
                       scale=data.get("scale", meta.get("scale")),
                       seed=data.get("seed", meta.get("seed")), start=start, weeks=n_weeks,
                       region_names=regions, agents=(summary or meta).get("agents"))
        result = cls(_validated(data), None, _read_events(events, start, regions), series,
                     dict(meta.get("timings_seconds") or {}), info=info)
        result.path, result.meta = path, meta
        result._saved_summary, result._scenario_data = summary, data
        return result

    # ------------------------------------------------------------------ derived figures
    def summary(self) -> dict[str, Any]:
        """The run's totals in real people (sums of weights), as plain JSON-able data.

        For a loaded run, the summary saved with it (exactly what this method returned when
        the run was written); if the folder has none, computed from its tables, with null for
        the counts that need the population (the Central Committee and the delegates)."""
        if self._saved_summary is None:
            self._saved_summary = self._summary()
        return copy.deepcopy(self._saved_summary)

    def _summary(self) -> dict[str, Any]:
        c = self.columns
        w = c["weight"].astype(np.int64)
        sentence = c["sentence"]
        cat1 = sentence == SENT["cat1"]
        cat2 = sentence == SENT["cat2"]
        convicted = cat1 | cat2
        innocent = convicted & ~c["guilty"]
        died_in_camp = cat2 & (c["died_week"] >= 0)

        def total(mask: np.ndarray) -> int:
            return int(w[mask].sum())

        arrest_year = clock.years(clock.dates(self.start, c["week"]))
        sentence_year = np.where(
            c["sentence_week"] >= 0,
            clock.years(clock.dates(self.start, np.maximum(c["sentence_week"], 0))), -1)
        first = self.start.year
        last = clock.last_week_start(self.start, self.weeks).year
        by_year = {}
        for year in range(first, last + 1):
            sentenced = sentence_year == year
            by_year[str(year)] = {
                "arrested": total(arrest_year == year),
                "convicted": total(convicted & sentenced),
                "cat1": total(cat1 & sentenced),
                "cat2": total(cat2 & sentenced),
            }
        n_convicted = total(convicted)
        return {
            "scenario": self.name,
            "scale": self.scale,
            "seed": self.seed,
            "agents": self.agents,
            "weeks": self.weeks,
            "totals": {
                "arrested": total(np.ones(len(w), dtype=bool)),
                "convicted": n_convicted,
                "cat1": total(cat1),
                "cat2": total(cat2),
                "released": total(sentence == SENT["released"]),
                "pending": total(sentence < 0),
                "innocent_convicted": total(innocent),
                "died_in_camp": total(died_in_camp),
            },
            "by_year": by_year,
            "by_source": {name: total(c["source"] == code) for code, name in enumerate(SOURCES)},
            "by_operation": {
                name: {"arrested": total(c["operation"] == code),
                       "convicted": total(convicted & (c["operation"] == code)),
                       "cat1": total(cat1 & (c["operation"] == code))}
                for code, name in enumerate(OPERATIONS)
            },
            "innocent_share": (round(total(innocent) / n_convicted, INNOCENT_SHARE_DIGITS)
                               if n_convicted else None),
            "by_root_source": {name: total(self.root_source() == code)
                               for code, name in enumerate(SOURCES)},
            "elite": self._elite(arrest_year, cat1),
            "economy": self._economy(),
            "reproduction": self.reproduction(),
            "limits": self._limits(),
            "cases": cases(c["case"], w) if "case" in c else None,
            "discrimination": discrimination(convicted, sentence >= 0, c["guilty"], w),
        }

    # ------------------------------------------------------------------ the cascade
    def parent_rows(self) -> np.ndarray:
        """Event row of each arrest's parent, or -1 when the parent was never arrested (a
        card-file sweep, or a denouncer who stayed free)."""
        if self._parent_rows is None:  # a sort of the event table: summary() needs it twice
            self._parent_rows = parent_rows(self.columns["person"], self.columns["parent"])
            self._parent_rows.setflags(write=False)
        return self._parent_rows

    def root_source(self) -> np.ndarray:
        """For each arrest, the source of the first arrest of its chain: what set it going.
        A suspect named by someone caught through the card file counts for the card file."""
        parent = self.parent_rows()
        root = self.columns["source"].astype(np.int64).copy()
        pending = np.flatnonzero(parent >= 0)
        # each pass settles one more generation of every chain
        for _ in range(int(self.columns["generation"].max(initial=0)) + 1):
            if len(pending) == 0:
                break
            root[pending] = root[parent[pending]]
        return root

    def reproduction(self) -> dict[str, Any]:
        """Arrests caused per arrest (children arrested per parent arrested), by 4-week window
        of the parents' arrests; the peak over windows with enough arrests to mean something."""
        c = self.columns
        return reproduction(c["week"], c["weight"], self.parent_rows(), self.weeks, self.start)

    def _elite(self, arrest_year: np.ndarray, cat1: np.ndarray) -> dict[str, int | None]:
        c = self.columns
        w = c["weight"].astype(np.int64)
        terror = (arrest_year >= 1937) & (arrest_year <= 1938)
        occupation = c["occupation"]
        people: dict[str, int | None] = dict.fromkeys(
            ("central_committee_shot", "central_committee_arrested",
             "congress_delegates_arrested"))
        if self.population is not None:  # the flags live in the population only
            flags = self.population.flags[c["person"]]
            people = {
                "central_committee_shot": int(np.count_nonzero(
                    cat1 & (flags & FLAG["cc_member"] > 0))),
                "central_committee_arrested": int(np.count_nonzero(flags & FLAG["cc_member"])),
                "congress_delegates_arrested": int(np.count_nonzero(flags & FLAG["delegate"])),
            }
        return {
            **people,
            "officers_arrested": int(w[terror & (occupation == OCC["officer"])].sum()),
            "officials_arrested": int(w[terror & np.isin(occupation, OFFICIALS)].sum()),
            "nkvd_arrested": int(w[occupation == OCC["nkvd"]].sum()),
            **self._army(),
        }

    def _limits(self) -> dict[str, Any] | None:
        """How far Order 00447's limits rose: their final total over their initial total, for
        each category, in the USSR and in each region (null without limits in the run)."""
        cat1, cat2 = self.series.get("limit_cat1"), self.series.get("limit_cat2")
        if cat1 is None or cat2 is None or cat1[0].sum() <= 0 or cat2[0].sum() <= 0:
            return None

        def ratio(series: np.ndarray) -> float:
            return round(float(series[-1].sum() / series[0].sum()), 4)

        by_region = {name: {"cat1": round(float(cat1[-1, r] / cat1[0, r]), 4) if cat1[0, r] else
                            None, "cat2": round(float(cat2[-1, r] / cat2[0, r]), 4)
                            if cat2[0, r] else None}
                     for r, name in enumerate(self.region_names)}
        return {"cat1_multiplier": ratio(cat1), "cat2_multiplier": ratio(cat2),
                "by_region": by_region}

    def _army(self) -> dict[str, int | None]:
        """Officers discharged in 1937 and in 1938, and reinstated by the end of the run (real
        people, from the army's weekly series; null in a run without them)."""
        discharged = self.series.get("officers_discharged")
        reinstated = self.series.get("officers_reinstated")
        if discharged is None or reinstated is None:
            return dict.fromkeys(("officers_discharged_1937", "officers_discharged_1938",
                                  "officers_reinstated"))
        year = clock.years(clock.dates(self.start, np.arange(self.weeks)))
        per_week = discharged.sum(axis=1)
        return {"officers_discharged_1937": int(per_week[year == 1937].sum()),
                "officers_discharged_1938": int(per_week[year == 1938].sum()),
                "officers_reinstated": int(reinstated.sum())}

    def _economy(self) -> dict[str, float | None]:
        output = self.series.get("output")
        shadow = self.series.get("output_no_terror")
        if output is None or shadow is None or shadow.sum() <= 0:
            return {"output_loss": None}
        return {"output_loss": round(1.0 - float(output.sum()) / float(shadow.sum()), 6)}

    # ------------------------------------------------------------------ tables
    def events_table(self) -> pa.Table:
        """One row per arrest, with names for codes and nulls for what has not happened."""
        c = self.columns

        def nullable(values: np.ndarray, dates: bool = False) -> pa.Array:
            missing = values < 0
            if dates:
                return pa.array(clock.dates(self.start, np.maximum(values, 0)), mask=missing,
                                type=pa.date32())
            return pa.array(values, mask=missing)

        def labels(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int8), mask=codes < 0), pa.array(list(vocab)))

        taint = c["taint"]
        return pa.table({
            "person": c["person"],
            "week": c["week"],
            "date": pa.array(clock.dates(self.start, c["week"]), type=pa.date32()),
            "region": labels(c["region"], self.region_names),
            "occupation": labels(c["occupation"].astype(np.int16), OCCUPATIONS),
            "taint": taint,  # bit set: bit i is vocab.TAINTS[i]
            "operation": labels(c["operation"], OPERATIONS),
            "source": labels(c["source"], SOURCES),
            "parent": nullable(c["parent"]),
            "generation": c["generation"],
            "tortured": c["tortured"],
            "confessed": c["confessed"],
            "named": c["named"],
            "sentence": labels(c["sentence"], SENTENCES),
            "sentence_date": nullable(c["sentence_week"], dates=True),
            "guilty": c["guilty"],
            "died_date": nullable(c["died_week"], dates=True),
            "released_date": nullable(c["released_week"], dates=True),
            "weight": c["weight"],
            "case": c["case"],  # the row of the arrest that opened the case (a group case)
        })

    def weekly_table(self) -> pa.Table:
        """Tidy weekly series: one row per week and region, one column per series."""
        n_regions = len(self.region_names)
        weeks = np.repeat(np.arange(self.weeks), n_regions)
        regions = np.tile(np.arange(n_regions), self.weeks)
        columns: dict[str, Any] = {
            "week": weeks.astype(np.int16),
            "date": pa.array(clock.dates(self.start, weeks), type=pa.date32()),
            "region": pa.DictionaryArray.from_arrays(
                pa.array(regions.astype(np.int8)), pa.array(list(self.region_names))),
        }
        first = [name for name in WEEKLY_FIRST if name in self.series]
        for name in first + [name for name in self.series if name not in WEEKLY_FIRST]:
            columns[name] = self.series[name].reshape(-1)
        return pa.table(columns)

    # ------------------------------------------------------------------ files
    def write(self, out: str | Path, meta: dict[str, Any] | None = None) -> Path:
        """Write ``events.parquet``, ``weekly.parquet``, ``scenario.toml``, ``summary.json``
        (what :meth:`summary` returns, so that a saved run can be reported without rerunning
        it) and ``meta.json``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / "events.parquet", lambda p: pq.write_table(self.events_table(), p))
        atomic_write(out / "weekly.parquet", lambda p: pq.write_table(self.weekly_table(), p))
        atomic_write_bytes(out / "scenario.toml", tomli_w.dumps(self.scenario_data).encode())
        atomic_write_text(out / "summary.json", json.dumps(self.summary(), indent=2) + "\n")
        from purgesim.version import __version__

        info = {
            "version": __version__,
            "scenario": self.name,
            "seed": self.seed,
            "scale": self.scale,
            "agents": self.agents,
            "git_commit": git_commit(),
            "timings_seconds": {k: round(v, 4) for k, v in self.timings.items()},
            **(meta or {}),
        }
        atomic_write_text(out / "meta.json", json.dumps(info, indent=2) + "\n")
        return out


# ---------------------------------------------------------------------- reading the files
def _json_or_none(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _validated(data: dict[str, Any]) -> Scenario | None:
    from purgesim.scenario import Scenario

    try:  # a pydantic ValidationError is a ValueError
        return Scenario.model_validate(data)
    except ValueError:
        return None


def _read_weekly(weekly: pa.Table) -> tuple[dt.date, int, tuple[str, ...],
                                            dict[str, np.ndarray]]:
    """The start date, the number of weeks, the region names (in the order of the rows) and
    the series (weeks x regions) of a weekly table."""
    week = weekly.column("week").to_numpy().astype(np.int64)
    labels = weekly.column("region").cast(pa.string()).to_pylist()
    regions = tuple(dict.fromkeys(str(v) for v in labels))
    region = np.array([regions.index(str(v)) for v in labels], dtype=np.int64)
    first = int(np.argmin(week))
    day = weekly.column("date").to_numpy()[first].astype("datetime64[D]").item()
    start = day - dt.timedelta(weeks=int(week[first]))
    n_weeks = int(week.max()) + 1
    series = {}
    for name in weekly.column_names:
        if name in WEEKLY_KEYS:
            continue
        values = weekly.column(name).to_numpy(zero_copy_only=False)
        grid = np.zeros((n_weeks, len(regions)), dtype=values.dtype)
        grid[week, region] = values
        series[name] = grid
    return start, n_weeks, regions, series


def _codes(column: pa.ChunkedArray, vocab: tuple[str, ...], dtype: type) -> np.ndarray:
    """Labels as their index in ``vocab``; -1 for null or a label not in it (a run saved by
    a version with another vocabulary)."""
    index = pc.index_in(column.cast(pa.string()), value_set=pa.array(list(vocab), pa.string()))
    return index.fill_null(-1).to_numpy().astype(dtype)


def _read_events(events: pa.Table, start: dt.date, regions: tuple[str, ...]
                 ) -> dict[str, np.ndarray]:
    """The event table as the engine's arrays of codes (-1 for what has not happened)."""
    columns: dict[str, np.ndarray] = {}
    for name in EVENT_COLUMNS + tuple(c for c in LATER_EVENT_COLUMNS
                                      if c in events.column_names):
        column = events.column(name)
        if name in _PLAIN:
            columns[name] = column.to_numpy(zero_copy_only=False).astype(_PLAIN[name])
        elif name in _LABELS:
            columns[name] = _codes(column, *_LABELS[name])
        elif name in _WEEKS:
            days = column.to_numpy(zero_copy_only=False)
            columns[_WEEKS[name]] = clock.weeks_since(start, days).astype(np.int16)
        elif name == "region":
            columns[name] = _codes(column, regions, np.int8)
        elif name == "parent":
            columns[name] = column.fill_null(-1).to_numpy().astype(np.int64)
    return columns


# ---------------------------------------------------------------------- cases and verdicts
def cases(case: np.ndarray, weight: np.ndarray) -> dict[str, float | int]:
    """The group cases of a run: how many (real cases: an agent's case stands for as many as
    the agent who opened it), their sizes in people (weighted like the count), and the share
    of the arrested in cases of two or more."""
    opened = np.flatnonzero(case == np.arange(len(case)))  # rows that opened a case
    size = np.bincount(case, minlength=len(case))[opened].astype(float)
    founders = weight[opened].astype(float)
    if len(opened) == 0:
        return {"count": 0, "mean_size": 0.0, "median_size": 0.0, "p90_size": 0.0,
                "share_in_groups": 0.0}
    order = np.argsort(size, kind="stable")
    cumulative = np.cumsum(founders[order]) / founders.sum()
    in_groups = weight[(np.bincount(case, minlength=len(case)) >= 2)[case]].sum()

    def quantile(q: float) -> float:
        return float(size[order][np.searchsorted(cumulative, q)])

    return {"count": int(founders.sum()),
            "mean_size": round(float(np.average(size, weights=founders)), 4),
            "median_size": quantile(0.5), "p90_size": quantile(0.9),
            "share_in_groups": round(float(in_groups / max(weight.sum(), 1)), 6)}


def discrimination(convicted: np.ndarray, decided: np.ndarray, guilty: np.ndarray,
                   weight: np.ndarray) -> float | None:
    """How much likelier the verdicts made a guilty arrested person's conviction than an
    innocent's: the share of the guilty among the decided cases who were convicted, over the
    same share of the innocent (1: verdicts blind to guilt). None when no guilty (or no
    innocent) person's case was decided, or no innocent was convicted."""
    w = weight.astype(float)
    g, i = decided & guilty, decided & ~guilty
    if w[g].sum() == 0 or w[i].sum() == 0:
        return None
    innocent_rate = w[i & convicted].sum() / w[i].sum()
    if innocent_rate == 0:
        return None
    return round(float(w[g & convicted].sum() / w[g].sum() / innocent_rate), 4)


# ---------------------------------------------------------------------- the cascade, on arrays
# Module functions, so that a saved event table (purgesim.report) gives the same figures.
def parent_rows(person: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Event row of each arrest's parent (``parent`` holds person ids, -1 for none), or -1
    when the parent was never arrested."""
    order = np.argsort(person, kind="stable")
    k = np.minimum(np.searchsorted(person[order], parent), max(len(person) - 1, 0))
    found = (parent >= 0) & (len(person) > 0)
    if len(person):
        found &= person[order][k] == parent
    return np.where(found, order[k] if len(person) else -1, -1)


def reproduction(week: np.ndarray, weight: np.ndarray, parents: np.ndarray, weeks: int,
                 start: dt.date, window_weeks: int = 4) -> dict[str, Any]:
    """Arrests caused per arrest: the people arrested as named (or denounced) by an arrested
    person, per person arrested, by window of the parents' arrest weeks; ``None`` where a
    window has no arrests. The peak is taken over windows with enough arrested agents."""
    w = weight.astype(float)
    caused = np.bincount(parents[parents >= 0], weights=w[parents >= 0], minlength=len(w))
    window = week.astype(np.int64) // window_weeks
    n_windows = (weeks + window_weeks - 1) // window_weeks
    arrests = np.bincount(window, weights=w, minlength=n_windows)
    children = np.bincount(window, weights=caused, minlength=n_windows)
    agents = np.bincount(window, minlength=n_windows)
    r = np.where(arrests > 0, children / np.maximum(arrests, 1), np.nan)
    enough = agents >= REPRODUCTION_MIN_AGENTS
    peak = int(np.nanargmax(np.where(enough, r, np.nan))) if np.any(enough) else None
    return {
        "window_weeks": window_weeks,
        "dates": clock.iso_dates(start, n_windows, step=window_weeks),
        "r": [None if np.isnan(x) else round(float(x), 4) for x in r],
        "peak": None if peak is None else round(float(r[peak]), 4),
        "peak_date": None if peak is None else clock.iso(start, window_weeks * peak),
    }
