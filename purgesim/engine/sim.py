"""The simulation: owns the weekly clock and calls the mechanisms in a fixed, printable order.

>>> import purgesim as ps
>>> sim = ps.Sim(ps.load_scenario(scale=10_000))
>>> print(sim.loop_table())            # the order of operations within a week
>>> result = sim.run()
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import numpy as np

from purgesim.engine.events import EventTable
from purgesim.engine.module import Mechanism
from purgesim.engine.random import stream
from purgesim.engine.suspects import SuspectQueues
from purgesim.population import Population, build_population
from purgesim.scenario import Scenario
from purgesim.vocab import FLAG, FREE, HELD, OCC, OFFICIALS, SOURCES, SRC

WEEKLY_SERIES = (
    "arrests_named", "arrests_denunciation", "arrests_remark", "arrests_sabotage",
    "arrests_card_file", "arrests_family", "arrests_elite",
    "convicted_cat1", "convicted_cat2", "released", "innocent_convicted", "died_in_camp",
    "limit_cat1", "limit_cat2", "limit_increase_cat1", "limit_increase_cat2",
    "suspects_waiting", "capacity", "officials_arrested", "officers_arrested",
)


class Sim:
    """One run of one scenario. Build with a scenario; ``run()`` returns a :class:`Result`."""

    def __init__(self, scenario: Scenario, mechanisms: Sequence[Mechanism] | None = None):
        from purgesim.mechanisms import default_mechanisms

        self.scenario = scenario
        self.mechanisms: list[Mechanism] = list(
            mechanisms if mechanisms is not None else default_mechanisms(scenario))
        self.weeks = scenario.weeks
        self.week = 0
        self.timings: dict[str, float] = {}
        self.initialized = False

    # ------------------------------------------------------------------ clock and randomness
    def date(self, week: int | None = None) -> dt.date:
        return self.scenario.start + dt.timedelta(weeks=self.week if week is None else week)

    def rng(self, name: str, *keys: int) -> np.random.Generator:
        """The stream of mechanism ``name`` for this week (and optional sub-keys)."""
        return stream(self.scenario.seed, name, self.week, *keys)

    def event_week(self, event: str | None) -> int | None:
        return self.scenario.event_week(event)

    def active(self, event: str | None) -> bool:
        """Whether a calendar event has happened by this week (False if disabled)."""
        week = self.event_week(event)
        return week is not None and self.week >= week

    # ------------------------------------------------------------------ lifecycle
    def init(self) -> Sim:
        """Build the population and set up the mechanisms. Refuses up front (raising
        :class:`purgesim.memory.WontFit`) a scale that would not fit in the memory available."""
        from purgesim.memory import agents_for_scale, check_fits

        check_fits(agents_for_scale(self.scenario.scale), scale=self.scenario.scale)
        t0 = time.perf_counter()
        self.population: Population = build_population(self.scenario)
        self.timings["build population"] = time.perf_counter() - t0
        pop = self.population
        self.status = np.zeros(pop.n, dtype=np.uint8)
        self.events = EventTable(capacity=max(1024, pop.n // 50))
        self.suspects = SuspectQueues(pop.n_regions)
        self.this_week = np.empty(0, dtype=np.int64)  # event rows of this week's arrests
        self.series = {name: np.zeros((self.weeks, pop.n_regions), dtype=np.int64)
                       for name in WEEKLY_SERIES}
        self.policy: dict[str, bool] = {}
        self.due: dict[int, list[np.ndarray]] = {}
        self.workplace_arrests: list[list[np.ndarray]] = [[] for _ in range(self.weeks)]
        self.series["evidence_needed"] = np.zeros((self.weeks, pop.n_regions))
        evidence = self.scenario.evidence
        self._evidence = np.zeros(len(SOURCES))
        for name, value in evidence.by_source.items():
            self._evidence[SRC[name]] = value
        for mech in self.mechanisms:
            t0 = time.perf_counter()
            mech.init(self)
            self.timings[mech.name] = time.perf_counter() - t0
        self.initialized = True
        return self

    def run(self, progress: Callable[[int, int], None] | None = None):
        """Run every week and return the :class:`~purgesim.results.Result`."""
        from purgesim.results import Result

        if not self.initialized:
            self.init()
        for week in range(self.weeks):
            self.week = week
            self.this_week = np.empty(0, dtype=np.int64)
            self.sentenced = np.empty(0, dtype=np.int64)
            for mech in self.mechanisms:
                t0 = time.perf_counter()
                mech.step(self)
                self.timings[mech.name] = self.timings.get(mech.name, 0.0) + (
                    time.perf_counter() - t0)
            self.series["suspects_waiting"][week] = self.suspects.lengths() * self.scenario.scale
            if progress is not None:
                progress(week + 1, self.weeks)
        for mech in self.mechanisms:
            mech.finalize(self)
        return Result(self.scenario, self.population, self.events.columns(), self.series,
                      dict(self.timings))

    def record(self, series: str, rows: np.ndarray, by: np.ndarray | None = None) -> None:
        """Add the real people of event ``rows`` to a weekly series, by region."""
        if len(rows) == 0:
            return
        region = self.events["region"][rows] if by is None else by
        weights = self.events["weight"][rows]
        self.series[series][self.week] += np.bincount(
            region, weights=weights, minlength=self.population.n_regions).astype(np.int64)

    def add_series(self, *names: str, dtype: type = np.int64) -> None:
        """Add weekly series (weeks x regions, zeros) that a mechanism records."""
        for name in names:
            self.series[name] = np.zeros((self.weeks, self.population.n_regions), dtype=dtype)

    def count(self, series: str, people: np.ndarray) -> None:
        """Add the real people among ``people`` (ids, not event rows) to a weekly series."""
        if len(people) == 0:
            return
        pop = self.population
        self.series[series][self.week] += np.bincount(
            pop.region_of(people), weights=pop.weight(people),
            minlength=pop.n_regions).astype(np.int64)

    def free(self, ids: np.ndarray) -> np.ndarray:
        return self.status[ids] == FREE

    def arrest(self, ids: np.ndarray, *, operation: int | np.ndarray, source: int | np.ndarray,
               lag_weeks: float | np.ndarray, rng: np.random.Generator,
               parent: np.ndarray | None = None, generation: np.ndarray | None = None
               ) -> np.ndarray:
        """Arrest free people: add their event rows, hold them, and schedule their sentencing.

        ``lag_weeks`` is the mean wait for a sentence (at least one week). Returns the rows."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[self.status[ids] == FREE]
        if len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        pop = self.population
        lag = 1 + rng.poisson(np.maximum(np.asarray(lag_weeks, dtype=float) - 1.0, 0.0),
                              size=len(ids))
        rows = self.events.append(
            person=ids,
            week=np.full(len(ids), self.week),
            region=pop.region_of(ids),
            occupation=pop.occupation[ids],
            taint=pop.taint[ids],
            operation=np.broadcast_to(operation, len(ids)),
            source=np.broadcast_to(source, len(ids)),
            parent=-1 if parent is None else parent,
            generation=0 if generation is None else generation,
            guilty=(pop.flags[ids] & FLAG["guilty"]) > 0,
            weight=pop.weight(ids),
            due_week=np.minimum(self.week + lag, np.iinfo(np.int16).max),
        )
        self.status[ids] = HELD
        self.this_week = np.concatenate([self.this_week, rows])
        for week in np.unique(self.week + lag):
            self.due.setdefault(int(week), []).append(rows[self.week + lag == week])
        self.workplace_arrests[self.week].append(pop.workplace_of(ids))
        src = self.events["source"][rows]
        for code in np.unique(src):
            self.record(f"arrests_{SOURCES[code]}", rows[src == code])
        occ = self.events["occupation"][rows]
        self.record("officials_arrested", rows[np.isin(occ, OFFICIALS)])
        self.record("officers_arrested", rows[occ == OCC["officer"]])
        return rows

    def accuse(self, people: np.ndarray, *, source: int | np.ndarray,
               operation: int | np.ndarray, rng: np.random.Generator,
               parent: np.ndarray | None = None, generation: np.ndarray | None = None) -> int:
        """Put free people on their regions' suspect queues, each accusation carrying the
        evidence of its source (more against the really guilty, with noise). Returns how many
        accusations were made."""
        people = np.asarray(people, dtype=np.int64)
        keep = (people >= 0) & (people < self.population.n)
        keep[keep] = self.status[people[keep]] == FREE
        people = people[keep]
        k = len(people)
        if k == 0:
            return 0
        p = self.scenario.evidence
        guilty = (self.population.flags[people] & FLAG["guilty"]) > 0
        source = np.broadcast_to(np.asarray(source), len(keep))[keep]
        evidence = (self._evidence[source] + p.guilt_bonus * guilty
                    + p.noise * (2.0 * rng.random(k) - 1.0))
        self.suspects.push(
            self.population.region_of(people),
            person=people,
            parent=np.full(k, -1) if parent is None else np.asarray(parent)[keep],
            generation=np.zeros(k) if generation is None else np.asarray(generation)[keep],
            operation=np.broadcast_to(np.asarray(operation), len(keep))[keep],
            source=source,
            week=np.full(k, self.week),
            evidence=np.maximum(evidence, 0.0),
        )
        return k

    def recent_workplace_arrests(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Workplaces with arrests (agents) in the last ``weeks`` weeks including this one,
        and their counts: the fear that drives denunciation and reporting."""
        chunks = [c for w in range(max(0, self.week - weeks + 1), self.week + 1)
                  for c in self.workplace_arrests[w]]
        if not chunks:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(chunks), return_counts=True)

    def recent_region_arrests_per_thousand(self, weeks: int) -> np.ndarray:
        """Real arrests per thousand people in each region over the last ``weeks`` weeks."""
        lo = max(0, self.week - weeks + 1)
        total = sum(self.series[f"arrests_{name}"][lo: self.week + 1].sum(axis=0)
                    for name in SOURCES)
        return 1000.0 * total / self.population.region_real

    def due_rows(self) -> np.ndarray:
        """Event rows whose sentencing falls in this week."""
        chunks = self.due.pop(self.week, [])
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)

    # ------------------------------------------------------------------ the printable loop
    def loop_table(self) -> str:
        lines = ["week loop (each week, in this order):"]
        for i, mech in enumerate(self.mechanisms, 1):
            lines.append(f"  {i:>2}. {mech.name:<14} {mech.does}")
        lines.append(f"  {len(self.mechanisms) + 1:>2}. {'record':<14} weekly series per region")
        from purgesim.mechanisms import NOT_YET_BUILT

        if NOT_YET_BUILT:
            lines.append("not yet built (MODEL.md section 3): " + ", ".join(NOT_YET_BUILT))
        return "\n".join(lines)
