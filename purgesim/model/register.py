"""The NKVD's books: who is held, the arrest record, the suspect queues, and when each case
comes up for sentence. Every mechanism that arrests or accuses someone does it here.

- ``status``: one byte per person (free, held, shot, camp, released, died), the one mutable
  per-person state besides the population's ``remarked`` flag.
- ``events``: the arrest record, one row per arrest (:data:`EVENT_COLUMNS`); later mechanisms
  fill in the rest of a row (torture, confession, sentence, death, release) by row index.
- ``suspects``: per-region queues of accusations, each carrying the evidence of its source
  (the evidence model: more against the really guilty, with noise).
- the schedule of sentencing: the week each arrest's case is decided, drawn at arrest.
- the arrests of recent weeks by workplace, which frighten denouncers and hearers.

It records the weekly series of arrests by source, of officials and officers arrested, and
of suspects waiting at the end of each week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from purgesim.engine.events import EventTable
from purgesim.engine.queues import GroupQueues
from purgesim.params import EventId, Evidence, Probability, Section
from purgesim.vocab import FLAG, FREE, HELD, OCC, OFFICIALS, RELEASED, SENT, SOURCES, SRC

if TYPE_CHECKING:
    from purgesim.engine.sim import Sim
    from purgesim.population import Population

ACCUSERS = tuple(name for name in SOURCES if name != "card_file")
"""Sources of accusations (a card-file sweep arrests without one)."""

EVENT_COLUMNS: dict[str, np.dtype] = {
    "person": np.dtype(np.int64),
    "week": np.dtype(np.int16),
    "region": np.dtype(np.int8),
    "occupation": np.dtype(np.uint8),
    "taint": np.dtype(np.uint8),
    "operation": np.dtype(np.int8),
    "source": np.dtype(np.int8),
    "parent": np.dtype(np.int64),
    "generation": np.dtype(np.int16),
    "tortured": np.dtype(np.bool_),
    "confessed": np.dtype(np.bool_),
    "named": np.dtype(np.int16),
    "sentence": np.dtype(np.int8),
    "sentence_week": np.dtype(np.int16),
    "guilty": np.dtype(np.bool_),
    "died_week": np.dtype(np.int16),
    "released_week": np.dtype(np.int16),
    "weight": np.dtype(np.int32),
}
"""The arrest record's columns; -1 means "has not happened" in those of :data:`NOT_YET`."""
NOT_YET = ("parent", "sentence", "sentence_week", "died_week", "released_week")
SUSPECT_FIELDS: dict[str, type] = {
    "person": np.int64, "parent": np.int64, "generation": np.int16, "operation": np.int8,
    "source": np.int8, "week": np.int16, "evidence": np.float32,
}
ARREST_SERIES = tuple(f"arrests_{name}" for name in SOURCES)

class EvidenceParams(Section):
    """The ``[evidence]`` table: what an accusation weighs, and the bar for an arrest ('punish
    ten so that one does not go free': the bar falls as the pressure of unfilled limits
    rises)."""

    threshold_max: Evidence
    """Evidence a suspect needs when there is no pressure at all."""
    pressure_sensitivity: Probability
    """Share by which the threshold falls at full pressure."""
    vigilance_event: EventId | None = None
    """From this event until the stop decree, the pressure is at least ``vigilance_pressure``."""
    vigilance_pressure: Probability
    guilt_bonus: Evidence
    """Extra evidence against someone who really did it: the guilty leave real traces."""
    noise: Evidence
    """Each accusation's evidence varies uniformly by this much either way."""
    by_source: dict[Literal[ACCUSERS], Evidence]  # type: ignore[valid-type]
    """Evidence carried by one accusation, by where it came from; accusations of the same person
    add up."""



class Register:
    """The books of one run (a base state of :class:`purgesim.sim.Sim`)."""

    def __init__(self, clock: Sim, population: Population, evidence_by_source: dict[str, float],
                 guilt_bonus: float, noise: float):
        self.clock = clock
        self.population = population
        self.status = np.zeros(population.n, dtype=np.uint8)
        self.events = EventTable(EVENT_COLUMNS, NOT_YET, capacity=max(1024, population.n // 50))
        self.suspects = GroupQueues(population.n_regions, SUSPECT_FIELDS, key="person",
                                    score="evidence", time="week")
        self.this_week = np.empty(0, dtype=np.int64)
        """Event rows of this week's arrests."""
        self._due: dict[int, list[np.ndarray]] = {}
        self._workplace_arrests: list[list[np.ndarray]] = [[] for _ in range(clock.weeks)]
        self._evidence = np.zeros(len(SOURCES))
        for name, value in evidence_by_source.items():
            self._evidence[SRC[name]] = value
        self._guilt_bonus = guilt_bonus
        self._noise = noise
        self.series = clock.series
        clock.define_series(*ARREST_SERIES, "officials_arrested", "officers_arrested",
                            "suspects_waiting")

    # ------------------------------------------------------------------ the week
    def new_week(self) -> None:
        self.this_week = np.empty(0, dtype=np.int64)

    def close_week(self) -> None:
        self.series["suspects_waiting"][self.clock.week] = (self.suspects.lengths()
                                                             * self.population.scale)

    def free(self, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` are free (a mask)."""
        return self.status[ids] == FREE

    # ------------------------------------------------------------------ weekly series
    def record(self, series: str, rows: np.ndarray, by: np.ndarray | None = None) -> None:
        """Add the real people of event ``rows`` to a weekly series, by region."""
        if len(rows) == 0:
            return
        region = self.events["region"][rows] if by is None else by
        weights = self.events["weight"][rows]
        self.series[series][self.clock.week] += np.bincount(
            region, weights=weights, minlength=self.population.n_regions).astype(np.int64)

    def count(self, series: str, people: np.ndarray) -> None:
        """Add the real people among ``people`` (ids, not event rows) to a weekly series."""
        if len(people) == 0:
            return
        pop = self.population
        self.series[series][self.clock.week] += np.bincount(
            pop.region_of(people), weights=pop.weight(people),
            minlength=pop.n_regions).astype(np.int64)

    # ------------------------------------------------------------------ arrests
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
        week = self.clock.week
        lag = 1 + rng.poisson(np.maximum(np.asarray(lag_weeks, dtype=float) - 1.0, 0.0),
                              size=len(ids))
        rows = self.events.append(
            person=ids,
            week=np.full(len(ids), week),
            region=pop.region_of(ids),
            occupation=pop.occupation[ids],
            taint=pop.taint[ids],
            operation=np.broadcast_to(operation, len(ids)),
            source=np.broadcast_to(source, len(ids)),
            parent=-1 if parent is None else parent,
            generation=0 if generation is None else generation,
            guilty=(pop.flags[ids] & FLAG["guilty"]) > 0,
            weight=pop.weight(ids),
        )
        self.status[ids] = HELD
        self.this_week = np.concatenate([self.this_week, rows])
        for due in np.unique(week + lag):
            self._due.setdefault(int(due), []).append(rows[week + lag == due])
        self._workplace_arrests[week].append(pop.workplace_of(ids))
        src = self.events["source"][rows]
        for code in np.unique(src):
            self.record(ARREST_SERIES[code], rows[src == code])
        occ = self.events["occupation"][rows]
        self.record("officials_arrested", rows[np.isin(occ, OFFICIALS)])
        self.record("officers_arrested", rows[occ == OCC["officer"]])
        return rows

    def due_rows(self) -> np.ndarray:
        """Event rows whose sentencing falls in this week (cases already closed left out)."""
        chunks = self._due.pop(self.clock.week, [])
        if not chunks:
            return np.empty(0, dtype=np.int64)
        rows = np.concatenate(chunks)
        return rows[self.events["sentence"][rows] < 0]

    def pending_rows(self) -> np.ndarray:
        """Event rows of everyone held and not yet sentenced (a pass over the arrest record)."""
        return np.flatnonzero(self.events["sentence"] < 0)

    def release(self, rows: np.ndarray) -> None:
        """Close pending cases without conviction: released this week (before sentencing, or
        instead of it)."""
        self.events.set("sentence", rows, SENT["released"])
        self.events.set("sentence_week", rows, self.clock.week)
        self.events.set("released_week", rows, self.clock.week)
        self.status[self.events["person"][rows]] = RELEASED

    # ------------------------------------------------------------------ accusations
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
        guilty = (self.population.flags[people] & FLAG["guilty"]) > 0
        source = np.broadcast_to(np.asarray(source), len(keep))[keep]
        evidence = (self._evidence[source] + self._guilt_bonus * guilty
                    + self._noise * (2.0 * rng.random(k) - 1.0))
        self.suspects.push(
            self.population.region_of(people),
            person=people,
            parent=np.full(k, -1) if parent is None else np.asarray(parent)[keep],
            generation=np.zeros(k) if generation is None else np.asarray(generation)[keep],
            operation=np.broadcast_to(np.asarray(operation), len(keep))[keep],
            source=source,
            week=np.full(k, self.clock.week),
            evidence=np.maximum(evidence, 0.0),
        )
        return k

    def take_suspects(self, region: int, k: int, patience: float, threshold: float
                      ) -> dict[str, np.ndarray]:
        """Up to ``k`` free suspects of ``region`` whose accusations carry ``threshold``
        evidence, first accused first (see :meth:`GroupQueues.pop`)."""
        return self.suspects.pop(region, k, self.free, self.clock.week, patience, threshold)

    # ------------------------------------------------------------------ fear
    def recent_workplace_arrests(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Workplaces with arrests (agents) in the last ``weeks`` weeks including this one,
        and their counts: the fear that drives denunciation and reporting."""
        week = self.clock.week
        chunks = [c for w in range(max(0, week - weeks + 1), week + 1)
                  for c in self._workplace_arrests[w]]
        if not chunks:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(chunks), return_counts=True)

    def recent_region_arrests_per_thousand(self, weeks: int) -> np.ndarray:
        """Real arrests per thousand people in each region over the last ``weeks`` weeks."""
        week = self.clock.week
        lo = max(0, week - weeks + 1)
        total = sum(self.series[name][lo: week + 1].sum(axis=0) for name in ARREST_SERIES)
        return 1000.0 * total / self.population.region_real
