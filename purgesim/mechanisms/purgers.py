"""Mechanism 11 (second part), the purge of the purgers (MODEL.md section 3).

The NKVD's own officers were arrested during the mass operations, and more of them once Beria
replaced Yezhov and purged "Yezhov's men" in 1939. From ``start`` until the stop decree a
weekly share of the state security officers (of their initial number) is arrested directly on
lists from the top, and from ``after_event`` a larger weekly share for ``after_weeks`` weeks.
Their cases belong to the elite operation while it runs, and to ordinary work after it.
The releases of 1939, the other half of mechanism 11, are in :mod:`purgesim.mechanisms.aftermath`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from purgesim.model.casework import elite_operation, pick_free, sentence_lag
from purgesim.model.mechanism import Mechanism
from purgesim.params import EventId, Probability, Section, Weeks
from purgesim.vocab import OCC, SRC

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

class PurgersParams(Section):
    """The ``[purgers]`` table, mechanism 11: the purge of the purgers."""

    enabled: bool
    start: EventId | None = "order_00447"
    weekly_share: Probability
    """Weekly share of NKVD officers arrested during the mass operations."""
    after_event: EventId | None = "beria_appointed"
    weekly_share_after: Probability
    """The same once Beria purges Yezhov's men."""
    after_weeks: Weeks



class Purgers(Mechanism):
    name = "purgers"
    does = "NKVD officers arrested: during the mass operations, and more after Beria arrives"
    sections = {"purgers": PurgersParams}

    def __init__(self, scenario: Scenario):
        self.p = scenario.purgers

    def init(self, sim: Sim) -> None:
        pop = sim.population
        sim.define_series("nkvd_arrested")
        if self.p.enabled:
            self.officers = pop.ids_where(occupations=(OCC["nkvd"],))  # once, O(N)

    def share(self, sim: Sim) -> float:
        """This week's share of the NKVD's officers to arrest."""
        p = self.p
        after = sim.event_week(p.after_event)
        if after is not None and after <= sim.week < after + p.after_weeks:
            return p.weekly_share_after
        started = p.start is None or sim.active(p.start)
        if started and not sim.active("stop_decree"):
            return p.weekly_share
        return 0.0

    def step(self, sim: Sim) -> None:
        if not self.p.enabled:
            return
        share = self.share(sim)
        if share <= 0.0 or len(self.officers) == 0:
            return
        rng = sim.rng(self.name)
        k = int(rng.poisson(share * len(self.officers)))
        officers = pick_free(self.officers, k, sim.register.status, rng)
        if len(officers) == 0:
            return
        op = elite_operation(sim)
        rows = sim.register.arrest(officers, operation=op, source=SRC["elite"],
                                   lag_weeks=sentence_lag(sim, op), rng=rng)
        sim.register.record("nkvd_arrested", rows)
