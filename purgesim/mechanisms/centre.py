"""Mechanism 1, the centre: policy switches by date, Order 00447's limits and the ratchet.

Each region starts with the category 1 and 2 limits of the Order 00447 annex (per union
republic, and the Gulag's own 10,000 for category 1). Regions that have used most of their
limit ask for more (see :mod:`purgesim.mechanisms.operations`); each week the centre approves a
share of the pending requests, up to a ceiling (a republic stands for its oblasts, each of which
petitioned on its own, so the answer is a share, not all or nothing). Limits are kept in agent
units as real numbers, so fractions carry over and small republics still act at coarse scales.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from purgesim import datasets
from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Limits, Policy
from purgesim.params import EventId, Multiplier, Probability, Section

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

LIMIT_SERIES = ("limit_cat1", "limit_cat2", "limit_increase_cat1", "limit_increase_cat2")


class CentreParams(Section):
    """The ``[centre]`` table: limits and how readily the centre raises them."""

    enabled: bool
    """Limits (quotas) from the centre. Off: operations arrest only on suspicion (no quotas)."""
    limit_multiplier: Multiplier
    request_threshold: Probability
    request_fraction: Multiplier
    request_cat1_share: Probability
    approval_probability: Probability
    """Weekly chance that an oblast's pending request for more is granted, until
    ``approvals_until``; so the share of a republic's pending requests granted each week."""
    approval_share: Probability
    approvals_until: EventId | None = None
    """The Politburo's last general extension: at this event every region that still has
    suspects gets ``final_grant`` of its initial limit at once; afterwards requests are granted
    only with ``late_approval_probability`` (none: routine approvals never end)."""
    final_grant: Multiplier = 0.0
    late_approval_probability: Probability = 0.0
    max_multiplier_cat1: Annotated[Multiplier, Field(ge=1.0)]
    max_multiplier_cat2: Annotated[Multiplier, Field(ge=1.0)]


class Centre(Mechanism):
    name = "centre"
    does = "policy switches by date; limits per region; approves requests for more (the ratchet)"
    sections = {"centre": CentreParams}
    provides = (Policy, Limits)

    def __init__(self, scenario: Scenario):
        self.p = scenario.centre
        self.scale = scenario.scale
        self.torture = scenario.interrogation.torture
        self.speech_tolerated = scenario.remarks.speech_tolerated

    def init(self, sim: Sim) -> None:
        pop = sim.population
        initial = datasets.o00447_limits()
        cat1 = np.array([initial[name][0] for name in pop.region_names])
        cat2 = np.array([initial[name][1] for name in pop.region_names])
        factor = self.p.limit_multiplier / self.scale
        self.limits = Limits(cat1 * factor, cat2 * factor)
        self.policy = Policy(speech_tolerated=self.speech_tolerated)
        sim.provide(self.limits)
        sim.provide(self.policy)
        sim.define_series(*LIMIT_SERIES)

    def step(self, sim: Sim) -> None:
        policy = self.policy
        policy.limits = self.p.enabled
        policy.torture = self.torture and sim.active("physical_methods")
        policy.troikas = not sim.active("stop_decree")
        limits = self.limits
        scale = self.scale
        pending = (limits.request_cat1 + limits.request_cat2) > 0
        last = sim.event_week(self.p.approvals_until)
        final = self.p.enabled and last is not None and sim.week == last
        if final:
            pending = self._final_grant(limits)
        if self.p.enabled and np.any(pending):
            # A republic stands for its many oblasts, each petitioning on its own: the centre
            # answers a share of the republic's pending requests each week, not all or nothing.
            share = 1.0 if final else (self.p.approval_probability if last is None
                                       or sim.week < last else self.p.late_approval_probability)
            answered = np.where(pending, share, 0.0)
            for cat, request, initial, ceiling in (
                (1, limits.request_cat1, limits.initial_cat1, self.p.max_multiplier_cat1),
                (2, limits.request_cat2, limits.initial_cat2, self.p.max_multiplier_cat2),
            ):
                current = limits.cat1 if cat == 1 else limits.cat2
                room = np.maximum(initial * ceiling - current, 0.0)
                increase = np.minimum(request * answered * self.p.approval_share, room)
                current += increase
                sim.series[f"limit_increase_cat{cat}"][sim.week] = np.rint(increase * scale)
                request -= request * answered
        if self.p.enabled:
            self._requests(limits)
        sim.series["limit_cat1"][sim.week] = np.rint(limits.cat1 * scale)
        sim.series["limit_cat2"][sim.week] = np.rint(limits.cat2 * scale)

    def _final_grant(self, limits: Limits) -> np.ndarray:
        """The last general extension (Politburo, 31 Jan 1938): every region that still has
        suspects gets ``final_grant`` of its initial limit, granted this week in place of any
        pending request. Returns the regions granted."""
        grant = limits.backlog & (limits.total > 0)
        amount = np.where(grant, self.p.final_grant * (limits.initial_cat1 + limits.initial_cat2),
                          0.0)
        limits.request_cat1[:] = amount * self.p.request_cat1_share
        limits.request_cat2[:] = amount * (1.0 - self.p.request_cat1_share)
        return grant & (amount > 0)

    def _requests(self, limits: Limits) -> None:
        """Regions that have used most of their limit, or of its category 1 part, and still have
        suspects ask for more once their last request is mostly answered; the centre answers
        from next week."""
        amount = self.p.request_fraction * (limits.initial_cat1 + limits.initial_cat2)
        used_up = ((limits.arrested >= self.p.request_threshold * limits.total)
                   | ((limits.used_cat1 >= self.p.request_threshold * limits.cat1)
                      & (limits.cat1 > 0)))
        asks = (
            used_up
            & limits.backlog
            & ((limits.request_cat1 + limits.request_cat2) < 0.1 * amount)
            & (limits.total > 0)
        )
        limits.request_cat1[asks] += amount[asks] * self.p.request_cat1_share
        limits.request_cat2[asks] += amount[asks] * (1.0 - self.p.request_cat1_share)
