"""What a run leaves behind: the event table, the weekly series, the summary, and files.

Tables are Arrow tables (tidy: one row per arrest; one row per week and region), written as
Parquet. Every file is written to a temporary name in the same folder and then renamed, so an
interrupted write never leaves a half-written file under the real name.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

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


class Result:
    """The outcome of :meth:`Sim.run`: event table, weekly series and summary."""

    def __init__(self, scenario: Scenario, population: Population,
                 columns: dict[str, np.ndarray], series: dict[str, np.ndarray],
                 timings: dict[str, float]):
        self.scenario = scenario
        self.population = population
        self.columns = columns
        """The event table as arrays of codes, one row per arrest."""
        self.series = series
        """Weekly series by name, weeks x regions."""
        self.timings = timings
        self.weeks = scenario.weeks

    # ------------------------------------------------------------------ derived figures
    def _dates(self, weeks: np.ndarray) -> np.ndarray:
        start = np.datetime64(self.scenario.start, "D")
        return start + weeks.astype("timedelta64[W]").astype("timedelta64[D]")

    def summary(self) -> dict[str, Any]:
        """The run's totals in real people (sums of weights), as plain JSON-able data."""
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

        arrest_year = self._dates(c["week"]).astype("datetime64[Y]").astype(int) + 1970
        sentence_year = np.where(
            c["sentence_week"] >= 0,
            self._dates(np.maximum(c["sentence_week"], 0)).astype("datetime64[Y]").astype(int)
            + 1970, -1)
        first = self.scenario.start.year
        last = (self.scenario.start + dt.timedelta(weeks=self.weeks - 1)).year
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
            "scenario": self.scenario.name,
            "scale": self.scenario.scale,
            "seed": self.scenario.seed,
            "agents": self.population.n,
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
                       "convicted": total(convicted & (c["operation"] == code))}
                for code, name in enumerate(OPERATIONS)
            },
            "innocent_share": (round(total(innocent) / n_convicted, INNOCENT_SHARE_DIGITS)
                               if n_convicted else None),
            "by_root_source": {name: total(self.root_source() == code)
                               for code, name in enumerate(SOURCES)},
            "elite": self._elite(arrest_year, cat1),
            "economy": self._economy(),
            "reproduction": self.reproduction(),
        }

    # ------------------------------------------------------------------ the cascade
    def parent_rows(self) -> np.ndarray:
        """Event row of each arrest's parent, or -1 when the parent was never arrested (a
        card-file sweep, or a denouncer who stayed free)."""
        return parent_rows(self.columns["person"], self.columns["parent"])

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
        return reproduction(c["week"], c["weight"], self.parent_rows(), self.weeks,
                            self.scenario.start)

    def _elite(self, arrest_year: np.ndarray, cat1: np.ndarray) -> dict[str, int]:
        c = self.columns
        flags = self.population.flags[c["person"]]
        w = c["weight"].astype(np.int64)
        terror = (arrest_year >= 1937) & (arrest_year <= 1938)
        occupation = c["occupation"]
        return {
            "central_committee_shot": int(np.count_nonzero(cat1 & (flags & FLAG["cc_member"] > 0))),
            "central_committee_arrested": int(np.count_nonzero(flags & FLAG["cc_member"])),
            "congress_delegates_arrested": int(np.count_nonzero(flags & FLAG["delegate"])),
            "officers_arrested": int(w[terror & (occupation == OCC["officer"])].sum()),
            "officials_arrested": int(w[terror & np.isin(occupation, OFFICIALS)].sum()),
            "nkvd_arrested": int(w[occupation == OCC["nkvd"]].sum()),
        }

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
        names = self.population.region_names

        def nullable(values: np.ndarray, dates: bool = False) -> pa.Array:
            missing = values < 0
            if dates:
                return pa.array(self._dates(np.maximum(values, 0)), mask=missing,
                                type=pa.date32())
            return pa.array(values, mask=missing)

        def labels(codes: np.ndarray, vocab: tuple[str, ...]) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int8), mask=codes < 0), pa.array(list(vocab)))

        taint = c["taint"]
        return pa.table({
            "person": c["person"],
            "week": c["week"],
            "date": pa.array(self._dates(c["week"]), type=pa.date32()),
            "region": labels(c["region"], names),
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
        })

    def weekly_table(self) -> pa.Table:
        """Tidy weekly series: one row per week and region, one column per series."""
        n_regions = self.population.n_regions
        weeks = np.repeat(np.arange(self.weeks), n_regions)
        regions = np.tile(np.arange(n_regions), self.weeks)
        columns: dict[str, Any] = {
            "week": weeks.astype(np.int16),
            "date": pa.array(self._dates(weeks), type=pa.date32()),
            "region": pa.DictionaryArray.from_arrays(
                pa.array(regions.astype(np.int8)), pa.array(list(self.population.region_names))),
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
        scenario = _toml_ready(self.scenario.to_toml_dict())
        atomic_write_bytes(out / "scenario.toml", tomli_w.dumps(scenario).encode())
        atomic_write_text(out / "summary.json", json.dumps(self.summary(), indent=2) + "\n")
        from purgesim import __version__

        info = {
            "version": __version__,
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "scale": self.scenario.scale,
            "agents": self.population.n,
            "git_commit": git_commit(),
            "timings_seconds": {k: round(v, 4) for k, v in self.timings.items()},
            **(meta or {}),
        }
        atomic_write_text(out / "meta.json", json.dumps(info, indent=2) + "\n")
        return out


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
        "dates": [str(start + dt.timedelta(weeks=window_weeks * i)) for i in range(n_windows)],
        "r": [None if np.isnan(x) else round(float(x), 4) for x in r],
        "peak": None if peak is None else round(float(r[peak]), 4),
        "peak_date": (None if peak is None
                      else str(start + dt.timedelta(weeks=window_weeks * peak))),
    }


def _toml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _toml_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_toml_ready(v) for v in value]
    return value
