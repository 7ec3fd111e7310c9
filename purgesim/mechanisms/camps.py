"""Mechanism 10, camps: category 2 prisoners serve in the Gulag with a weekly mortality.

A death week is drawn when the sentence is passed (an event time, not a weekly coin toss for
every prisoner), and the prisoner's status changes when that week comes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from purgesim.engine.module import Mechanism
from purgesim.scenario import Scenario
from purgesim.vocab import CAMP, DIED

if TYPE_CHECKING:
    from purgesim.engine.sim import Sim


class Camps(Mechanism):
    name = "camps"
    does = "draws a death week for new category 2 prisoners; deaths of the week"

    def __init__(self, scenario: Scenario):
        self.p = scenario.camps
        self.weekly = 1.0 - (1.0 - scenario.camps.annual_mortality) ** (7 / 365.25)

    def init(self, sim: Sim) -> None:
        self.deaths: dict[int, list[np.ndarray]] = {}
        sim.camp_admissions = np.empty(0, dtype=np.int64)

    def step(self, sim: Sim) -> None:
        admitted = sim.camp_admissions
        sim.camp_admissions = np.empty(0, dtype=np.int64)
        if not self.p.enabled:
            return
        if len(admitted) and self.weekly > 0:
            rng = sim.rng(self.name)
            death = sim.week + rng.geometric(self.weekly, size=len(admitted))
            soon = death < sim.weeks
            for week in np.unique(death[soon]):
                self.deaths.setdefault(int(week), []).append(admitted[soon][death[soon] == week])
        chunks = self.deaths.pop(sim.week, [])
        if not chunks:
            return
        rows = np.concatenate(chunks)
        ev = sim.events
        person = ev["person"][rows]
        rows = rows[sim.status[person] == CAMP]  # not released meanwhile
        ev.set("died_week", rows, sim.week)
        sim.status[ev["person"][rows]] = DIED
        sim.record("died_in_camp", rows)
