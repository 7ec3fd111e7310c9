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

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

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
    "case": np.dtype(np.int64),
    "due": np.dtype(np.int16),
}
"""The arrest record's columns; -1 means "has not happened" in those of :data:`NOT_YET`.
``case`` is the row of the arrest that opened the case: a confessor's case holds those arrested
on his naming (and his clients, the 'tail'), the group case of an 'organisation'."""
NOT_YET = ("parent", "sentence", "sentence_week", "died_week", "released_week")
INTERNAL = ("due",)
"""Columns the books keep for themselves (the week a case is due), not part of the record."""
SUSPECT_FIELDS: dict[str, type] = {
    "person": np.int64, "cause": np.int64, "operation": np.int8, "source": np.int8,
    "week": np.int16, "evidence": np.float32,
}
"""An accusation: whom, the event row of the arrest that caused it (-1: none), the operation and
source of the case, the week, and the evidence it carries."""
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
        # each week's arrests as (workplaces, event rows): the fear of the weeks that follow
        self._workplace_arrests: list[list[tuple[np.ndarray, np.ndarray]]] = [
            [] for _ in range(clock.weeks)]
        self._recent_by_workplace: tuple[tuple[int, int, int] | None, Any] = (None, None)
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
               cause: np.ndarray | None = None) -> np.ndarray:
        """Arrest free people: add their event rows, hold them, and schedule their sentencing.

        ``lag_weeks`` is the mean wait for a sentence (at least one week); ``cause`` the event
        row of the arrest that led to each (who named or frightened whom; -1 for none): the
        arrested person's parent, one generation down, and, for a name, in the same case.
        Returns the rows."""
        ids = np.asarray(ids, dtype=np.int64)
        free = self.status[ids] == FREE
        ids = ids[free]
        if len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        pop = self.population
        week = self.clock.week
        lag = 1 + rng.poisson(np.maximum(np.asarray(lag_weeks, dtype=float) - 1.0, 0.0),
                              size=len(ids))
        source = np.broadcast_to(source, len(free))[free]
        cause = np.full(len(ids), -1) if cause is None else np.asarray(cause)[free]
        parent = np.full(len(ids), -1, dtype=np.int64)
        generation = np.zeros(len(ids), dtype=np.int64)
        case = np.arange(len(self.events), len(self.events) + len(ids))  # each opens a case...
        caused = np.flatnonzero(cause >= 0)
        if len(caused):
            by = cause[caused]
            parent[caused] = self.events["person"][by]
            generation[caused] = self.events["generation"][by] + 1
            named = source[caused] == SRC["named"]  # ...but a name joins the namer's case
            case[caused[named]] = self.events["case"][by[named]]
        rows = self.events.append(
            person=ids,
            week=np.full(len(ids), week),
            region=pop.region_of(ids),
            occupation=pop.occupation[ids],
            taint=pop.taint[ids],
            operation=np.broadcast_to(operation, len(free))[free],
            source=source,
            parent=parent,
            generation=generation,
            guilty=(pop.flags[ids] & FLAG["guilty"]) > 0,
            weight=pop.weight(ids),
            case=case,
            due=np.minimum(week + lag, np.iinfo(np.int16).max),
        )
        self.status[ids] = HELD
        self.this_week = np.concatenate([self.this_week, rows])
        for due in np.unique(week + lag):
            self._due.setdefault(int(due), []).append(rows[week + lag == due])
        self._workplace_arrests[week].append((pop.workplace_of(ids), rows))
        src = self.events["source"][rows]
        for code in np.unique(src):
            self.record(ARREST_SERIES[code], rows[src == code])
        occ = self.events["occupation"][rows]
        self.record("officials_arrested", rows[np.isin(occ, OFFICIALS)])
        self.record("officers_arrested", rows[occ == OCC["officer"]])
        return rows

    def due_rows(self) -> np.ndarray:
        """Event rows whose sentencing falls in this week (cases already closed, or put off
        to a later week, left out)."""
        week = self.clock.week
        chunks = self._due.pop(week, [])
        if not chunks:
            return np.empty(0, dtype=np.int64)
        rows = np.concatenate(chunks)
        return rows[(self.events["sentence"][rows] < 0) & (self.events["due"][rows] == week)]

    def put_off(self, rows: np.ndarray, weeks: np.ndarray) -> None:
        """Put pending cases off by ``weeks`` (at least one) from this week."""
        due = self.clock.week + np.maximum(np.asarray(weeks, dtype=np.int64), 1)
        self.events.set("due", rows, np.minimum(due, np.iinfo(np.int16).max))
        for week in np.unique(due):
            self._due.setdefault(int(week), []).append(rows[due == week])

    def record_columns(self) -> dict[str, np.ndarray]:
        """The arrest record, without the books' own columns."""
        return {k: v for k, v in self.events.columns().items() if k not in INTERNAL}

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
               cause: np.ndarray | None = None, evidence: float | None = None) -> int:
        """Put free people on their regions' suspect queues, each accusation carrying the
        evidence of its source (or ``evidence``; more against the really guilty, with noise)
        and the event row of the arrest that caused it (``cause``; -1 or None for none).
        Returns how many accusations were made."""
        people = np.asarray(people, dtype=np.int64)
        keep = (people >= 0) & (people < self.population.n)
        keep[keep] = self.status[people[keep]] == FREE
        people = people[keep]
        k = len(people)
        if k == 0:
            return 0
        guilty = (self.population.flags[people] & FLAG["guilty"]) > 0
        source = np.broadcast_to(np.asarray(source), len(keep))[keep]
        base = self._evidence[source] if evidence is None else evidence
        weight = (base + self._guilt_bonus * guilty
                  + self._noise * (2.0 * rng.random(k) - 1.0))
        self.suspects.push(
            self.population.region_of(people),
            person=people,
            cause=np.full(k, -1) if cause is None else np.asarray(cause)[keep],
            operation=np.broadcast_to(np.asarray(operation), len(keep))[keep],
            source=source,
            week=np.full(k, self.clock.week),
            evidence=np.maximum(weight, 0.0),
        )
        return k

    def take_suspects(self, region: int, k: int, patience: float, threshold: float,
                      only: Callable[[np.ndarray], np.ndarray] | None = None
                      ) -> dict[str, np.ndarray]:
        """Up to ``k`` free suspects of ``region`` whose accusations carry ``threshold``
        evidence, first accused first (only those ``only`` allows, if given; see
        :meth:`GroupQueues.pop`)."""
        return self.suspects.pop(region, k, self.free, self.clock.week, patience, threshold,
                                 only)

    # ------------------------------------------------------------------ fear
    def recent_workplace_arrests(self, weeks: int) -> tuple[np.ndarray, np.ndarray]:
        """Workplaces with arrests (agents) in the last ``weeks`` weeks including this one,
        and their counts: the fear that drives denunciation and reporting."""
        workplaces, counts, _ = self.recent_arrests_by_workplace(weeks)
        return workplaces, counts

    def recent_arrests_by_workplace(self, weeks: int
                                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`recent_workplace_arrests`, with the event rows of those arrests, grouped
        by workplace in the same order (the first ``counts[0]`` rows are the first
        workplace's): who frightened whom."""
        week = self.clock.week
        # denunciation and remarks both ask each week: one answer until an arrest changes it
        asked = (week, weeks, len(self._workplace_arrests[week]))
        if self._recent_by_workplace[0] == asked:
            return self._recent_by_workplace[1]
        chunks = [c for w in range(max(0, week - weeks + 1), week + 1)
                  for c in self._workplace_arrests[w]]
        if not chunks:
            empty = np.empty(0, dtype=np.int64)
            answer = empty, empty, empty
        else:
            workplaces = np.concatenate([c[0] for c in chunks])
            order = np.argsort(workplaces, kind="stable")
            ordered = workplaces[order]
            new = np.empty(len(ordered), dtype=bool)
            new[0] = True
            np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
            starts = np.flatnonzero(new)
            counts = np.diff(np.append(starts, len(ordered)))
            answer = ordered[starts], counts, np.concatenate([c[1] for c in chunks])[order]
        self._recent_by_workplace = (asked, answer)
        return answer

    def recent_region_arrests_per_thousand(self, weeks: int) -> np.ndarray:
        """Real arrests per thousand people in each region over the last ``weeks`` weeks."""
        week = self.clock.week
        lo = max(0, week - weeks + 1)
        total = sum(self.series[name][lo: week + 1].sum(axis=0) for name in ARREST_SERIES)
        return 1000.0 * total / self.population.region_real
