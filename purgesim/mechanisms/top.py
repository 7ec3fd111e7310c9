"""Mechanism 9, terror at the top and in the middle (MODEL.md section 3).

Three parts, after the essay's overlay of purposes (the fourth, the army, is
:mod:`purgesim.mechanisms.army`):

(a) "A determined terrorizing of the 'middle management'": the arrest of an official or manager
    pulls in his clients, the patron-client "tail". Each client of a man arrested this week
    who confessed is accused, with ``tail_probability``, as a member of his "organisation":
    the tail comes through his case file, so it is a naming (source "named") with him as
    parent, like any other name in the cascade.
(b) "An acute high level line struggle": from the February-March 1937 plenum to the stop
    decree, members of the 1934 Central Committee (71 members and 68 candidates) are accused of
    factionalism at a few accusations a week, former oppositionists more often. The accusations
    go on the lists signed at the top (source and operation "elite"). In the ground truth there
    is no conspiracy behind them unless the scenario says so (``conspiracy_prevalence``): the
    guilty flag of every member of the Committee is set from that share alone.
(c) "Police killing or disappearing those raising political disagreements": party members
    voice a disagreement at a weekly rate and are accused for it (a remark; a Congress delegate
    goes on the lists at the top). Nothing is accused when speech is tolerated.
Clients of weight-1 patrons (the elite) are ordinary agents standing for ``scale`` people, so a
tail link from the elite is thinned by the ratio of weights: the expected count of real people
pulled in stays right at every scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Policy
from purgesim.params import After, EventId, MeanCount, Odds, Probability, Section
from purgesim.vocab import FLAG, OCC, OFFICIALS, OP, SRC, TAINT_BIT

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

PATRONS = (OCC["manager"], *OFFICIALS)
TAILS, FACTION, DISSENT = range(3)  # sub-streams: each part's draws stay its own


class TopParams(Section):
    """The ``[top]`` table, mechanism 9: terror at the top and in the middle."""

    enabled: bool
    tail_probability: Probability
    """Each client of an arrested official is pulled in with him (the 'tail')."""
    faction_event: EventId | None = "plenum_feb_1937"
    faction_end: Annotated[EventId | None, After("faction_event")] = "stop_decree"
    faction_accusations_per_week: MeanCount
    """Accusations of factionalism per week in the 1934 Central Committee."""
    faction_oppositionist_odds: Odds
    conspiracy_prevalence: Probability
    """Ground truth: share of the Central Committee really conspiring (0: no conspiracy)."""
    dissent_rate: Probability
    """Weekly probability that a party member voices a disagreement that is reported."""
    cc_former_oppositionists: Annotated[int, Field(ge=0, le=139)]
    """Central Committee members marked with the 'oppositionist' taint (the rest are cleared):
    the targets that ``faction_oppositionist_odds`` favours. At most 139, the members and
    candidates of the 1934 Central Committee (data/history.csv)."""



class Top(Mechanism):
    name = "top"
    does = "officials' client 'tails'; faction accusations in the CC; party dissent"
    sections = {"top": TopParams}
    needs = (Policy,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.top

    def init(self, sim: Sim) -> None:
        pop = sim.population
        self.policy = sim.get(Policy)
        sim.define_series("tail_accusations", "faction_accusations", "dissent_accusations")
        if not self.p.enabled:
            return
        # once, O(N): the sparse sets the weekly steps draw from
        self.cc = pop.ids_where(flags=FLAG["cc_member"])
        party = pop.ids_where(flags=FLAG["party"])
        self.party = party
        self.party_bounds = np.searchsorted(party, pop.region_offsets)
        self.officers = pop.ids_where(occupations=(OCC["officer"],))

        # Ground truth at the top: conspiring only at the scenario's prevalence; and the 1934
        # Committee's known former oppositionists carry that taint (the others do not).
        rng = sim.rng(f"{self.name}.truth")
        guilty = rng.random(len(self.cc)) < self.p.conspiracy_prevalence
        pop.flags[self.cc] &= np.uint8(~FLAG["guilty"] & 0xFF)
        pop.flags[self.cc[guilty]] |= np.uint8(FLAG["guilty"])
        k = min(self.p.cc_former_oppositionists, len(self.cc))
        former = self.cc[rng.choice(len(self.cc), size=k, replace=False)]
        pop.taint[self.cc] &= np.uint8(~TAINT_BIT["oppositionist"] & 0xFF)
        pop.taint[former] |= np.uint8(TAINT_BIT["oppositionist"])

    def step(self, sim: Sim) -> None:
        if not self.p.enabled:
            return
        self._tails(sim, sim.rng(self.name, TAILS))
        if self._between(sim, self.p.faction_event, self.p.faction_end):
            self._faction(sim, sim.rng(self.name, FACTION))
        if not self.policy.speech_tolerated:
            self._dissent(sim, sim.rng(self.name, DISSENT))

    @staticmethod
    def _between(sim: Sim, start: str | None, end: str | None) -> bool:
        if start is not None and not sim.active(start):
            return False
        return not (end is not None and sim.active(end))

    # ------------------------------------------------------------------ (a) tails
    def _tails(self, sim: Sim, rng: np.random.Generator) -> None:
        register = sim.register
        if self.p.tail_probability <= 0.0 or len(register.this_week) == 0:
            return
        pop = sim.population
        ev = register.events
        rows = register.this_week
        rows = rows[np.isin(ev["occupation"][rows], PATRONS) & ev["confessed"][rows]]
        if len(rows) == 0 or len(pop.patron_ids) == 0:
            return
        patron = ev["person"][rows]
        k = np.minimum(np.searchsorted(pop.patron_ids, patron), len(pop.patron_ids) - 1)
        has = pop.patron_ids[k] == patron
        rows, k = rows[has], k[has]
        lo = pop.client_offsets[k]
        n_clients = pop.client_offsets[k + 1] - lo
        if n_clients.sum() == 0:
            return
        # every (patron, client) link of this week's confessed patrons
        patron_row = np.repeat(rows, n_clients)
        first = np.repeat(np.cumsum(n_clients) - n_clients, n_clients)
        clients = pop.client_ids[np.repeat(lo, n_clients) + np.arange(len(patron_row)) - first]
        ratio = np.minimum(1.0, ev["weight"][patron_row] / pop.weight(clients))
        pulled = rng.random(len(clients)) < self.p.tail_probability * ratio
        pulled &= register.free(clients)
        clients, patron_row = clients[pulled], patron_row[pulled]
        register.accuse(clients, source=SRC["named"], operation=ev["operation"][patron_row],
                        rng=rng, cause=patron_row)
        register.count("tail_accusations", clients)

    # ------------------------------------------------------------------ (b) faction struggle
    def _faction(self, sim: Sim, rng: np.random.Generator) -> None:
        k = int(rng.poisson(self.p.faction_accusations_per_week))
        if k == 0:
            return
        free = self.cc[sim.register.free(self.cc)]
        if len(free) == 0:
            return
        former = (sim.population.taint[free] & TAINT_BIT["oppositionist"]) > 0
        odds = np.where(former, self.p.faction_oppositionist_odds, 1.0)
        if odds.sum() <= 0:
            return
        k = min(k, int(np.count_nonzero(odds)))
        accused = free[rng.choice(len(free), size=k, replace=False, p=odds / odds.sum())]
        sim.register.accuse(accused, source=SRC["elite"], operation=OP["elite"], rng=rng)
        sim.register.count("faction_accusations", accused)

    # ------------------------------------------------------------------ (c) dissent
    def _dissent(self, sim: Sim, rng: np.random.Generator) -> None:
        if self.p.dissent_rate <= 0.0:
            return
        sizes = np.diff(self.party_bounds)
        counts = rng.poisson(self.p.dissent_rate * sizes)
        total = int(counts.sum())
        if total == 0:
            return
        lo = np.repeat(self.party_bounds[:-1], counts)
        size = np.repeat(sizes, counts)
        speakers = np.unique(self.party[lo + (rng.random(total) * size).astype(np.int64)])
        speakers = speakers[sim.register.free(speakers)]
        if len(speakers) == 0:
            return
        delegate = (sim.population.flags[speakers] & FLAG["delegate"]) > 0
        sim.register.accuse(speakers, source=np.where(delegate, SRC["elite"], SRC["remark"]),
                            operation=np.where(delegate, OP["elite"], OP["ordinary"]), rng=rng)
        sim.register.count("dissent_accusations", speakers)
