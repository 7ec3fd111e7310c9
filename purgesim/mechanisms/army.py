"""Mechanism 9 (the army), the purge of the Red Army's officer corps in two steps: discharge,
then arrest of some of the discharged; and reinstatement after the stop.

From the trial of Tukhachevsky (``start``) until the stop decree, the Military Collegium's
lists take a small weekly share of the officers directly (``list_weekly_share``): the seed.
Every officer may be discharged each week: at the peacetime rate of 1935 (``baseline_rate``, a
yearly share), and, while the purge runs, for the company he kept: for each officer arrested in
his unit in the last ``memory_weeks`` weeks, with ``discharge_per_arrest``, and more readily with
a tainted record (``tainted_odds``). Discharge is not arrest: a discharged officer's file goes
to the NKVD (an accusation, source ``elite``, carrying ``discharge_evidence``), which arrests him
only if the evidence passes its bar, within its capacity. How many of the discharged were
arrested is therefore an outcome (the archives give 22-30%), as is the yearly number of
discharges. From ``reinstate_from`` the discharged officers still free are reinstated at a
weekly ``reinstatement_rate``.

Officers are ordinary agents: weekly work is proportional to the officer corps (148,000 people
at 1:1), never to the population.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from purgesim.model.casework import elite_operation, pick_free, sentence_lag
from purgesim.model.mechanism import Mechanism
from purgesim.params import EventId, Evidence, Multiplier, Odds, Probability, Section
from purgesim.vocab import FLAG, OCC, SRC

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

LISTS, DISCHARGES, REINSTATEMENTS = range(3)  # sub-streams: each step's draws stay its own
SERIES = ("officers_discharged", "officers_reinstated")
DISCHARGED = FLAG["discharged"]


class ArmyParams(Section):
    """The ``[army]`` table: the purge of the officer corps."""

    enabled: bool
    start: EventId
    """The event that starts the purge (the trial of Tukhachevsky); it ends at the stop."""
    list_weekly_share: Probability
    """Weekly share of the officers (their 1937 number) arrested on the Military Collegium's
    lists while the purge runs."""
    baseline_rate: Probability
    """Yearly share of the officers discharged in peacetime (1935), all the run long."""
    discharge_per_arrest: Multiplier
    """Weekly probability of discharge per officer of one's unit arrested in the last
    ``memory_weeks`` weeks (guilt by association), while the purge runs."""
    tainted_odds: Odds
    """How much more readily an officer with a taint record is discharged so."""
    memory_weeks: Annotated[int, Field(ge=1, le=52)]
    discharge_evidence: Evidence
    """Evidence a discharged officer's file carries to the NKVD (compare evidence.by_source)."""
    reinstate_from: EventId
    """From this event discharged officers still free are reinstated."""
    reinstatement_rate: Probability
    """Weekly share of the discharged (still free) reinstated, from ``reinstate_from``."""


class Army(Mechanism):
    name = "army"
    does = "army purge: lists of officers; discharges for the company kept; reinstatement"
    sections = {"army": ArmyParams}

    def __init__(self, scenario: Scenario):
        self.p = scenario.army
        self.weekly_baseline = 1.0 - (1.0 - self.p.baseline_rate) ** (1.0 / 52.0)

    def init(self, sim: Sim) -> None:
        sim.define_series(*SERIES)
        pop = sim.population
        self.officers = pop.ids_where(occupations=(OCC["officer"],))  # once, O(N)
        self.unit = pop.workplace_of(self.officers)
        self.tainted = pop.taint[self.officers] > 0
        self.n_units = int(self.unit.max()) + 1 if len(self.unit) else 0
        # officers of each unit taken so far, as of each of the last weeks
        self.taken: deque[np.ndarray] = deque(maxlen=self.p.memory_weeks + 1)

    def step(self, sim: Sim) -> None:
        if not self.p.enabled or len(self.officers) == 0:
            return
        gone = ~sim.register.free(self.officers)  # held, or taken before
        self.taken.append(np.bincount(self.unit[gone], minlength=self.n_units))
        purge = sim.active(self.p.start) and not sim.active("stop_decree")
        if purge:
            self._lists(sim, sim.rng(self.name, LISTS))
        self._discharges(sim, purge, sim.rng(self.name, DISCHARGES))
        if sim.active(self.p.reinstate_from):
            self._reinstate(sim, sim.rng(self.name, REINSTATEMENTS))

    def _lists(self, sim: Sim, rng: np.random.Generator) -> None:
        k = int(rng.poisson(self.p.list_weekly_share * len(self.officers)))
        officers = pick_free(self.officers, k, sim.register.status, rng)
        if len(officers):
            op = elite_operation(sim)
            sim.register.arrest(officers, operation=op, source=SRC["elite"],
                                lag_weeks=sentence_lag(sim, op), rng=rng)

    def _discharges(self, sim: Sim, purge: bool, rng: np.random.Generator) -> None:
        """Discharge serving officers: the baseline hazard, plus, while the purge runs, the
        company they kept; each discharged officer's file goes to the NKVD."""
        pop, register = sim.population, sim.register
        serving = register.free(self.officers) & ((pop.flags[self.officers] & DISCHARGED) == 0)
        hazard = np.full(len(self.officers), self.weekly_baseline)
        if purge:
            recent = self._recent_unit_arrests()
            odds = np.where(self.tainted, self.p.tainted_odds, 1.0)
            hazard = 1.0 - (1.0 - hazard) * np.exp(-self.p.discharge_per_arrest * recent * odds)
        out = self.officers[serving & (rng.random(len(self.officers)) < hazard)]
        if len(out) == 0:
            return
        pop.flags[out] |= DISCHARGED
        register.count("officers_discharged", out)
        if purge:
            register.accuse(out, source=SRC["elite"], operation=elite_operation(sim), rng=rng,
                            evidence=self.p.discharge_evidence)

    def _recent_unit_arrests(self) -> np.ndarray:
        """Officers of each officer's unit taken in the last ``memory_weeks`` weeks."""
        return (self.taken[-1] - self.taken[0])[self.unit].astype(float)

    def _reinstate(self, sim: Sim, rng: np.random.Generator) -> None:
        pop, register = sim.population, sim.register
        out = register.free(self.officers) & ((pop.flags[self.officers] & DISCHARGED) > 0)
        back = self.officers[out & (rng.random(len(self.officers)) < self.p.reinstatement_rate)]
        if len(back):
            pop.flags[back] &= np.uint8(~DISCHARGED & 0xFF)
            register.count("officers_reinstated", back)
