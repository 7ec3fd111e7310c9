"""Mechanism 3, remarks and informants (MODEL.md section 3, mechanism 3).

"The punishment for a casual remark could be denunciation, imprisonment and worse. (Should
someone disappear into prison for saying 'I wish the Tsar was back'? Mao, by contrast, said that
people should be allowed to make such remarks without fear.)" (the essay).

People make critical remarks at their own propensity: a sparse set of ready talkers, drawn once
(the ground truth's "per-person propensity"), remark often; everyone else rarely. Each remark is
heard by a few coworkers. A hearer reports it if he is a secret informant, or out of fear: the
more arrests in the workplace lately, the likelier a frightened hearer reports first. A reported
remark marks the speaker as a known talker (which draws denunciations, mechanism 2) and puts him
on the suspect queue; the NKVD decides whether it is enough for an arrest.

Under a speech-tolerant policy (``speech_tolerated``, or ``sim.policy["speech_tolerated"]`` if
the centre ever sets it by date) a remark is no ground for arrest: nothing is reported, nobody
is marked or accused.

Cost: the talkers are a sparse id set built once; each week draws a count of remarks per region
and then works per remark, never per person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from purgesim.engine.module import Mechanism
from purgesim.engine.random import sparse_bernoulli
from purgesim.engine.sets import unique
from purgesim.population import _uniform_in_blocks
from purgesim.scenario import Scenario
from purgesim.vocab import FLAG, FREE, OP, SRC

if TYPE_CHECKING:
    from purgesim.engine.sim import Sim

REMARKED = 1 << 6
"""Flag bit of people whose critical remarks have been reported (vocab.FLAGS[6])."""
assert FLAG["remarked"] == REMARKED


class Remarks(Mechanism):
    name = "remarks"
    does = "critical remarks; informants and frightened coworkers report them (suspects)"

    def __init__(self, scenario: Scenario):
        self.p = scenario.remarks

    def init(self, sim: Sim) -> None:
        pop = sim.population
        sim.add_series("remarks_reported")
        self.talkers = np.empty(0, dtype=np.int64)
        self.talker_bounds = np.zeros(pop.n_regions + 1, dtype=np.int64)
        if not self.p.enabled:
            return
        talkers = sparse_bernoulli(pop.n, self.p.talker_share, sim.rng(self.name + ".talkers"))
        # 5% of 163 million ids: int32 halves the memory at full scale
        self.talkers = talkers.astype(np.int32 if pop.n < 2**31 else np.int64)
        self.talker_bounds = np.searchsorted(self.talkers, pop.region_offsets)

    def tolerated(self, sim: Sim) -> bool:
        return self.p.speech_tolerated or bool(sim.policy.get("speech_tolerated", False))

    def step(self, sim: Sim) -> None:
        if not self.p.enabled or self.tolerated(sim):
            return
        p = self.p
        pop = sim.population
        rng = sim.rng(self.name)
        speakers = self._speakers(sim, rng)
        if len(speakers) == 0:
            return

        # each remark is heard by a few coworkers (never the speaker himself)
        h = p.hearers
        own = pop.workplace_of(speakers)
        heard_by = np.repeat(speakers, h)
        hearer = _uniform_in_blocks(pop.workplace_offsets, np.repeat(own, h), rng)  # coworkers
        listening = (hearer != heard_by) & (sim.status[hearer] == FREE)
        informant = (pop.flags[hearer] & FLAG["informant"]) > 0
        wp, counts = sim.recent_workplace_arrests(p.fear_memory_weeks)
        recent = np.zeros(len(speakers))
        if len(wp):
            k = np.minimum(np.searchsorted(wp, own), len(wp) - 1)
            recent = np.where(wp[k] == own, counts[k], 0).astype(float)
        afraid = np.minimum(1.0, p.fear_report * np.repeat(recent, h))
        p_report = 1.0 - (1.0 - p.informant_report * informant) * (1.0 - afraid)
        reports = listening & (rng.random(len(hearer)) < p_report)
        reported = speakers[reports.reshape(-1, h).any(axis=1)]
        if len(reported) == 0:
            return
        pop.flags[reported] |= REMARKED
        sim.accuse(reported, source=SRC["remark"], operation=OP["ordinary"], rng=rng)
        sim.count("remarks_reported", reported)

    def _speakers(self, sim: Sim, rng: np.random.Generator) -> np.ndarray:
        """This week's free people who made a critical remark (each counted once)."""
        p = self.p
        pop = sim.population
        n_talkers = np.diff(self.talker_bounds)
        size = np.diff(pop.region_offsets)
        k_talk = rng.binomial(n_talkers, p.talker_rate)
        k_other = rng.binomial(size, p.other_rate)
        talk_region = np.repeat(np.arange(pop.n_regions), k_talk)
        lo = self.talker_bounds[talk_region]
        talkers = self.talkers[lo + (rng.random(len(lo)) * n_talkers[talk_region]).astype(
            np.int64)].astype(np.int64)
        other_region = np.repeat(np.arange(pop.n_regions), k_other)
        lo = pop.region_offsets[other_region]
        others = lo + (rng.random(len(lo)) * size[other_region]).astype(np.int64)
        speakers = unique(np.concatenate([talkers, others]))
        return speakers[sim.status[speakers] == FREE]
