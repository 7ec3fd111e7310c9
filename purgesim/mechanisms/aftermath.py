"""Mechanism 11 (first part), the aftermath: Beria's partial releases of 1939.

The stop decree itself acts through the calendar: operations that end with it stop sweeping,
capacity falls, and the troikas' pending cases are reviewed by sentencing. Here, from the
release event, a share of the category 2 prisoners still alive are freed over 1939.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from purgesim.engine import kernels
from purgesim.model.mechanism import Mechanism
from purgesim.params import EventId, Probability, Section
from purgesim.vocab import CAMP, RELEASED, SENT

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

RELEASE_WEEKS = 52  # releases spread over a year

class AftermathParams(Section):
    """The ``[aftermath]`` table: the releases of 1939."""

    enabled: bool
    camp_release_share_1939: Probability
    release_event: EventId



class Aftermath(Mechanism):
    name = "aftermath"
    does = "from Beria's appointment: releases of some category 2 prisoners over 1939"
    sections = {"aftermath": AftermathParams}

    def __init__(self, scenario: Scenario):
        self.p = scenario.aftermath

    def step(self, sim: Sim) -> None:
        start = sim.event_week(self.p.release_event)
        if not self.p.enabled or start is None or not start <= sim.week < start + RELEASE_WEEKS:
            return
        register = sim.register
        ev = register.events
        in_camp = _rows_in_camp(ev["sentence"], ev["person"], register.status, SENT["cat2"],
                                CAMP)
        if len(in_camp) == 0:
            return
        # a constant weekly hazard that frees the target share over the release year
        weekly = 1.0 - (1.0 - self.p.camp_release_share_1939) ** (1.0 / RELEASE_WEEKS)
        freed = in_camp[sim.rng(self.name).random(len(in_camp)) < weekly]
        ev.set("released_week", freed, sim.week)
        register.status[ev["person"][freed]] = RELEASED


@kernels.njit(cache=True, nogil=True)
def _rows_in_camp(sentence, person, status, cat2, camp):
    """``np.flatnonzero((sentence == cat2) & (status[person] == camp))``, looking up the
    status of the category 2 prisoners only."""
    out = np.empty(sentence.shape[0], dtype=np.int64)
    k = 0
    for row in range(sentence.shape[0]):
        if sentence[row] == cat2 and status[person[row]] == camp:
            out[k] = row
            k += 1
    return out[:k].copy()
