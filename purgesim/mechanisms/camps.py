"""Mechanism 10, camps: category 2 prisoners serve in the Gulag with a weekly mortality.

A death week is drawn when the sentence is passed (an event time, not a weekly coin toss for
every prisoner), and the prisoner's status changes when that week comes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Sentences
from purgesim.params import Probability, Section
from purgesim.vocab import CAMP, DIED

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

class CampsParams(Section):
    """The ``[camps]`` table."""

    enabled: bool
    annual_mortality: Probability



class Camps(Mechanism):
    name = "camps"
    does = "draws a death week for new category 2 prisoners; deaths of the week"
    sections = {"camps": CampsParams}
    needs = (Sentences,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.camps
        self.weekly = 1.0 - (1.0 - scenario.camps.annual_mortality) ** (7 / 365.25)

    def init(self, sim: Sim) -> None:
        self.deaths: dict[int, list[np.ndarray]] = {}
        self.sentences = sim.get(Sentences)
        sim.define_series("died_in_camp")

    def step(self, sim: Sim) -> None:
        admitted = self.sentences.camp
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
        register = sim.register
        ev = register.events
        person = ev["person"][rows]
        rows = rows[register.status[person] == CAMP]  # not released meanwhile
        ev.set("died_week", rows, sim.week)
        register.status[ev["person"][rows]] = DIED
        register.record("died_in_camp", rows)
