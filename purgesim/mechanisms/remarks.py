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

Under a speech-tolerant policy (the centre's :class:`~purgesim.model.state.Policy`, from
``remarks.speech_tolerated``) a remark is no ground for arrest: nothing is reported, nobody is
marked or accused.

Cost: the talkers are a sparse id set built once; each week draws a count of remarks per region
and then works per remark, never per person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from purgesim.engine import kernels
from purgesim.engine.random import sparse_bernoulli_chunks
from purgesim.engine.sets import unique
from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Policy
from purgesim.params import Probability, Section
from purgesim.vocab import FLAG, FREE, OP, SRC

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

class RemarksParams(Section):
    """The ``[remarks]`` table, mechanism 3: critical remarks, overheard and reported by informants or the frightened."""

    enabled: bool
    speech_tolerated: bool
    """Policy: a remark is no ground for arrest (nothing is reported or acted upon)."""
    talker_share: Probability
    """Share of people who make critical remarks readily (the rest rarely)."""
    talker_rate: Probability
    """Weekly probability that a ready talker makes a remark in front of coworkers."""
    other_rate: Probability
    """Weekly probability that anyone makes a remark (ready talkers: on top of their own)."""
    hearers: Annotated[int, Field(ge=1, le=20)]
    """Coworkers who hear each remark."""
    informant_report: Probability
    """Probability that an informant who hears a remark reports it."""
    fear_report: Probability
    """Probability that a hearer reports it, per arrest in the workplace in the last weeks."""
    fear_memory_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    """How far back arrests in the workplace frighten hearers."""



class Remarks(Mechanism):
    name = "remarks"
    does = "critical remarks; informants and frightened coworkers report them (suspects)"
    sections = {"remarks": RemarksParams}
    needs = (Policy,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.remarks

    def init(self, sim: Sim) -> None:
        pop = sim.population
        self.policy = sim.get(Policy)
        sim.define_series("remarks_reported")
        self.talkers = np.empty(0, dtype=np.int64)
        self.talker_bounds = np.zeros(pop.n_regions + 1, dtype=np.int64)
        if not self.p.enabled:
            return
        # 5% of 163 million ids: int32 halves the memory at full scale (converted a chunk at
        # a time, so the int64 ids are never all held)
        dtype = np.int32 if pop.n < 2**31 else np.int64
        self.talkers = np.concatenate([np.empty(0, dtype=dtype), *(
            ids.astype(dtype) for ids in sparse_bernoulli_chunks(
                pop.n, self.p.talker_share, sim.rng(self.name + ".talkers")))])
        self.talker_bounds = np.searchsorted(self.talkers, pop.region_offsets.astype(dtype))

    def step(self, sim: Sim) -> None:
        if not self.p.enabled or self.policy.speech_tolerated:
            return
        p = self.p
        pop = sim.population
        rng = sim.rng(self.name)
        speakers = self._speakers(sim, rng)
        if len(speakers) == 0:
            return

        # each remark is heard by a few coworkers (never the speaker himself), drawn uniformly
        # in the workplace; a free hearer reports it if he is an informant, or out of fear
        # (the more arrests in the workplace lately, the likelier)
        h = p.hearers
        own = pop.workplace_of(speakers)
        u_hearer = rng.random(len(speakers) * h)
        u_report = rng.random(len(speakers) * h)
        register = sim.register
        wp, counts = register.recent_workplace_arrests(p.fear_memory_weeks)
        reported = _reported(speakers, own, pop.workplace_offsets, register.status, pop.flags,
                             FLAG["informant"], FREE, wp, counts, h, u_hearer, u_report,
                             float(p.informant_report), float(p.fear_report))
        if len(reported) == 0:
            return
        pop.flags[reported] |= FLAG["remarked"]
        register.accuse(reported, source=SRC["remark"], operation=OP["ordinary"], rng=rng)
        register.count("remarks_reported", reported)

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
        return speakers[sim.register.free(speakers)]


@kernels.njit(cache=True, nogil=True)
def _reported(speakers, own, workplace_offsets, status, flags, informant_bit, free, wp, counts,
              h, u_hearer, u_report, informant_report, fear_report):
    """The speakers (sorted, in workplaces ``own``) whose remark some hearer reports.

    Speaker ``s``'s hearers are ``h`` uniform members of his workplace (from ``u_hearer[s * h:
    (s + 1) * h]``); a hearer who is not the speaker and is free reports when ``u_report <
    1 - (1 - informant_report * informant) * (1 - afraid)``, where ``afraid = min(1,
    fear_report * recent arrests in the workplace)`` (``wp`` sorted, with their ``counts``).
    The arithmetic is numpy's, step by step, so the result is the same as the array version.
    The hearers' status and flags are gathered in loops of their own, which keeps many memory
    reads in flight (twice as fast as one loop doing everything at 1:1).
    """
    n = speakers.shape[0]
    hearer = np.empty(n * h, dtype=np.int64)
    afraid = np.empty(n, dtype=np.float64)
    n_wp = wp.shape[0]
    first = 0  # the first of wp >= w, found by walking on from the last speaker's
    for s in range(n):
        w = own[s]
        recent = 0.0
        if n_wp > 0:
            if s > 0 and w < own[s - 1]:  # (speakers come sorted: never, but in case)
                first = 0
            while first < n_wp and wp[first] < w:
                first += 1
            k = min(first, n_wp - 1)
            if wp[k] == w:
                recent = np.float64(counts[k])
        afraid[s] = min(1.0, fear_report * recent)
        start = workplace_offsets[w]
        size = np.float64(workplace_offsets[w + 1] - start)
        for j in range(s * h, (s + 1) * h):
            hearer[j] = start + np.int64(u_hearer[j] * size)
    hearer_status = np.empty(n * h, dtype=np.uint8)
    for j in range(n * h):
        hearer_status[j] = status[hearer[j]]
    hearer_flags = np.empty(n * h, dtype=np.uint8)
    for j in range(n * h):
        hearer_flags[j] = flags[hearer[j]]
    out = np.empty(n, dtype=np.int64)
    m = 0
    for s in range(n):
        reported = False
        for j in range(s * h, (s + 1) * h):
            informant = 1.0 if hearer_flags[j] & informant_bit else 0.0
            p_report = 1.0 - (1.0 - informant_report * informant) * (1.0 - afraid[s])
            if hearer[j] != speakers[s] and hearer_status[j] == free and u_report[j] < p_report:
                reported = True
        if reported:
            out[m] = speakers[s]
            m += 1
    return out[:m].copy()
