"""Mechanism 2, denunciation from below, with fear feedback (MODEL.md section 3, mechanism 2).

The essay's mechanism (c): "a runaway process of mutual denunciation and witchhunting that raged
far outside any single central control (mutual denunciations, clique struggle by arrest,
settling of old grievances and suspicions)".

Each week, in each region, free people denounce at a base rate, raised by fear of the region's
recent arrests; and every workplace with recent arrests adds denunciations of its own, in
proportion to them (denounce before you are denounced). The denouncer is anyone in the region or
workplace, people nursing an old grievance more readily. He denounces one of a few contacts
(his superior, the head of the workplace; coworkers; neighbours and acquaintances), chosen
with odds for bosses and staff (opportunity: their post), for the tainted, and for people
known to have made critical remarks (mechanism 3). The denunciation puts the target on the
suspect queue with the evidence of a denunciation; the NKVD decides (mechanism 5), and since
one denunciation rarely carries enough evidence, those denounced again and again (bosses
above all) are the ones arrested. Because the NKVD's arrests raise fear where they fall, the
loop can run away without any push from the centre when ``fear_workplace`` is high enough
(with the other defaults, somewhere between 3 and 10 per week per recent arrest).

A denunciation made out of fear of a workplace's recent arrests is recorded as the child of one
of those arrests (its ``parent``, drawn among them): the arrest caused it, so the cascade's
reproduction number counts it beside the names given under interrogation, and a runaway shows
as a reproduction number above one. Denunciations at the region's base rate have no parent. How
much of the terror came from below is the ``denunciation`` (and ``remark``) share of arrests by
source, and of chains by root source.

Cost: counts are drawn per region and per workplace with recent arrests, then each
denunciation is worked out on its own; nothing is done per person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from purgesim.engine.random import sparse_bernoulli
from purgesim.model.mechanism import Mechanism
from purgesim.params import (
    EventId,
    MeanCount,
    Multiplier,
    Odds,
    PerMillion,
    Probability,
    Section,
    Why,
)
from purgesim.population import uniform_in_blocks
from purgesim.vocab import FLAG, FREE, OCC, OFFICIALS, OP, SRC, WP

if TYPE_CHECKING:
    from purgesim.population import Population
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

CAUSES = 1  # sub-stream: which recent arrest frightened each denouncer
# Staff whose posts a denunciation could open (the head of any workplace is a boss too).
BOSSES = (OCC["specialist"], OCC["manager"], OCC["officer"], *OFFICIALS)

class DenunciationParams(Section):
    """The ``[denunciation]`` table, mechanism 2: free people denounce contacts, more so when afraid."""

    enabled: bool
    start: EventId | None = None
    base_rate_per_million: Annotated[PerMillion, Field(le=1000.0), Why(
        "a thousand per million a week already has one person in twenty denounce someone "
        "every year, and runs slow with every denunciation")]
    """Denunciations per week per million people, with nobody afraid. At most 1,000 (200
    times the default): one person in twenty denouncing someone every year, the work of a run
    growing with every denunciation."""
    fear_workplace: Annotated[MeanCount, Field(le=10.0), Why(
        "ten a week per recent arrest already turns every arrest into a wave in its workplace")]
    """Extra denunciations per week in a workplace, per arrest there in the last weeks. At
    most 10: every arrest then sets off a wave of denunciations in a workplace of ordinary
    size within weeks, and a run slows with every one."""
    fear_region: Multiplier
    """Multiplier on the base rate per arrest per thousand people in the region recently."""
    fear_memory_weeks: Annotated[int, Field(ge=1, le=52)]
    grievance_share: Probability = 0.0
    """Share of people nursing an old grievance (ground truth, drawn once)."""
    grievance_odds: Annotated[Odds, Field(ge=1.0)] = 1.0
    """How much more readily someone with a grievance denounces than anyone else."""
    contacts: Annotated[int, Field(ge=1, le=20)] = 6
    """Contacts a denouncer chooses among (each drawn on its own, so some may repeat)."""
    superior_share: Probability = 0.1
    """Share of those contacts who are his superior, the head of his workplace."""
    coworker_share: Probability = 0.8
    """Share of the others who are coworkers; the rest are neighbours and acquaintances in
    the region."""
    boss_odds: Odds
    """Odds of denouncing the head or staff of one's workplace (opportunity: their post)."""
    tainted_odds: Odds
    remark_odds: Odds
    """Odds of denouncing someone known to have made critical remarks."""



class Denunciation(Mechanism):
    name = "denunciation"
    does = "free people denounce contacts (bosses, the tainted, talkers), more when afraid"
    sections = {"denunciation": DenunciationParams}

    def __init__(self, scenario: Scenario):
        self.p = scenario.denunciation

    def init(self, sim: Sim) -> None:
        pop = sim.population
        sim.define_series("denunciations")
        self.aggrieved = np.empty(0, dtype=np.int64)
        if not self.p.enabled:
            return
        self.boss = np.zeros(256, dtype=bool)
        self.boss[list(BOSSES)] = True
        self.aggrieved = sparse_bernoulli(pop.n, self.p.grievance_share,
                                          sim.rng(self.name + ".grievances"))

    def step(self, sim: Sim) -> None:
        p = self.p
        if not p.enabled or (p.start is not None and not sim.active(p.start)):
            return
        pop = sim.population
        rng = sim.rng(self.name)

        # base denunciations, raised by fear of the region's recent arrests
        size = np.diff(pop.region_offsets)
        register = sim.register
        fear = 1.0 + p.fear_region * register.recent_region_arrests_per_thousand(
            p.fear_memory_weeks)
        k_region = rng.poisson(p.base_rate_per_million / 1e6 * size * fear)
        from_region = self._pick(pop.region_offsets[:-1], pop.region_offsets[1:], k_region, rng)

        # fear in workplaces with recent arrests: denounce before you are denounced
        wp, counts, arrests = register.recent_arrests_by_workplace(p.fear_memory_weeks)
        k_wp = rng.poisson(p.fear_workplace * counts) if len(wp) else np.empty(0, np.int64)
        from_wp = self._pick(pop.workplace_offsets[wp], pop.workplace_offsets[wp + 1], k_wp, rng)
        cause = np.concatenate([np.full(len(from_region), -1, dtype=np.int64),
                                self._frightened_by(sim, counts, k_wp, arrests)])

        denouncers = np.concatenate([from_region, from_wp])
        free = register.free(denouncers)
        denouncers, cause = denouncers[free], cause[free]
        if len(denouncers) == 0:
            return
        targets = self._targets(sim, denouncers, rng)
        named = targets >= 0
        targets, cause = targets[named], cause[named]
        if len(targets) == 0:
            return
        # a denunciation out of fear belongs to the arrest that caused the fear: it is that
        # arrest's child in the cascade (its reproduction number counts it)
        register.accuse(targets, source=SRC["denunciation"], operation=OP["ordinary"], rng=rng,
                        cause=cause)
        register.count("denunciations", targets)

    def _frightened_by(self, sim: Sim, counts: np.ndarray, k: np.ndarray,
                       arrests: np.ndarray) -> np.ndarray:
        """For each of the ``k[i]`` denouncers of workplace ``i`` (in :meth:`_pick`'s order),
        the event row of one of the ``counts[i]`` recent arrests there (``arrests``, grouped
        by workplace), drawn from a stream of its own so the other draws stay as they were."""
        drawn = np.flatnonzero(k)
        block = np.repeat(drawn, k[drawn])
        first = np.cumsum(counts) - counts
        u = sim.rng(self.name, CAUSES).random(len(block))
        return arrests[first[block] + (u * counts[block]).astype(np.int64)]

    def _pick(self, lo: np.ndarray, hi: np.ndarray, k: np.ndarray, rng: np.random.Generator
              ) -> np.ndarray:
        """``k`` people in each block [lo, hi), those with a grievance ``grievance_odds`` times
        as likely as anyone else: a mixture of a pick among the block's aggrieved and a uniform
        pick, so it costs a binary search per block, not a scan of the block."""
        drawn = np.flatnonzero(k)  # blocks with picks
        block = np.repeat(np.arange(len(drawn)), k[drawn])  # of each pick, among them
        lo, hi = lo[drawn], hi[drawn]
        m = len(block)
        a = self.aggrieved
        a_lo, a_hi = np.searchsorted(a, lo)[block], np.searchsorted(a, hi)[block]
        lo, hi = lo[block], hi[block]
        uniform = lo + (rng.random(m) * (hi - lo)).astype(np.int64)
        odds = self.p.grievance_odds
        if len(a) == 0 or odds <= 1.0 or m == 0:
            return uniform
        n_a = a_hi - a_lo
        g = n_a / np.maximum(hi - lo, 1)
        share = g * odds / np.maximum(g * odds + 1.0 - g, 1e-12)  # aggrieved share of picks
        extra = np.clip((share - g) / np.maximum(1.0 - g, 1e-12), 0.0, 1.0)
        among = (rng.random(m) < extra) & (n_a > 0)
        pick = a_lo + (rng.random(m) * n_a).astype(np.int64)
        return np.where(among, a[np.minimum(pick, len(a) - 1)], uniform)

    def _targets(self, sim: Sim, denouncers: np.ndarray, rng: np.random.Generator
                 ) -> np.ndarray:
        """Whom each denouncer denounces among his contacts, by the odds; -1 for nobody."""
        p = self.p
        pop = sim.population
        m, c = len(denouncers), p.contacts
        who = np.repeat(denouncers, c)
        own = np.repeat(pop.workplace_of(denouncers), c)
        head = pop.workplace_offsets[own]
        coworker = uniform_in_blocks(pop.workplace_offsets, own, rng)  # pop.random_coworker
        acquaintance = pop.random_in_region(who, rng)
        u = rng.random(len(who))
        cand = np.where(u < p.superior_share, head, np.where(
            u < p.superior_share + (1.0 - p.superior_share) * p.coworker_share,
            coworker, acquaintance)).reshape(m, c)
        odds = self._odds(pop, cand.ravel()).reshape(m, c)
        odds[sim.register.status[cand] != FREE] = 0.0
        odds[cand == denouncers[:, None]] = 0.0
        total = odds.sum(axis=1)
        u = rng.random(m) * total
        choice = np.minimum((np.cumsum(odds, axis=1) <= u[:, None]).sum(axis=1), c - 1)
        chosen = cand[np.arange(m), choice]
        return np.where(total > 0, chosen, -1)

    def _odds(self, pop: Population, ids: np.ndarray) -> np.ndarray:
        p = self.p
        wp = pop.workplace_of(ids)
        occ = pop.occupation[ids]
        odds = np.ones(len(ids))
        # children and dependents on the kolkhoz are not denounced (population's adults)
        odds[(occ == OCC["other"]) & (pop.workplace_kind[wp] == WP["kolkhoz"])] = 0.0
        boss = self.boss[occ] | (ids == pop.workplace_offsets[wp])
        odds[boss] *= p.boss_odds
        odds[pop.taint[ids] > 0] *= p.tainted_odds
        odds[(pop.flags[ids] & FLAG["remarked"]) > 0] *= p.remark_odds
        return odds
