"""Mechanism 1, the centre: policy switches by date, Order 00447's limits and the ratchet.

Each region starts with the category 1 and 2 limits of the Order 00447 annex (per union
republic, and the Gulag's own 10,000 for category 1). A region asks for more of a category when
it has used most of it (or arrested most of its whole limit) and still has work left (suspects
in its card file or on its queue, see :mod:`purgesim.mechanisms.operations`); how much it asks
for grows with its chiefs' zeal: the mean zeal of the oblast chiefs the region stands for, each
drawn once (or, with ``zeal_of = "region"``, one chief's per region). Each week the centre
grants a share of the pending requests (a republic stands for its oblasts, each of which
petitioned on its own, so the answer is a share, not all or nothing), until the last general
extension (Politburo, 31 Jan 1938), which grants every region with work left an extra share of
its initial limit; later requests are granted only rarely, and dated decisions (Ukraine's raise
of 17 Feb 1938) add what they add. Nothing caps the limits: how far they rose (five-fold for
category 1 and two-fold for category 2 in the archives) is an outcome, reported in the summary.
Limits are kept in agent units as real numbers, so fractions carry over and small republics
still act at coarse scales.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, field_validator

from purgesim import datasets
from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Limits, Policy
from purgesim.params import EventId, Multiplier, Probability, Section

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

LIMIT_SERIES = ("limit_cat1", "limit_cat2", "limit_increase_cat1", "limit_increase_cat2")


class LimitRaise(Section):
    """A dated decision that raises limits: one republic's, or those of every region with work
    left that no other raise of the same decision names."""

    event: EventId
    region: str | None = None
    """A region of data/regions.csv; none: the amount is shared among the regions that still
    have work left (cases pending or names on the lists) and that no other raise of the same
    event names, in proportion to their initial limits (a decision whose every line is not
    known: the rest of its total goes where the model's regions asked)."""
    amount: Annotated[float, Field(ge=0.0, le=200_000_000.0)]
    """Real people added to the limit, categories 1 and 2 together (at most the country)."""
    cat1_share: Probability
    """The part of ``amount`` that is category 1."""

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        names = [r.name for r in datasets.regions()]
        if value is not None and value not in names:
            raise ValueError(f"{value!r}: not a region; allowed: one of {names}, or none "
                             "(the regions with work left)")
        return value


class CentreParams(Section):
    """The ``[centre]`` table: limits and how readily the centre raises them."""

    enabled: bool
    """Limits (quotas) from the centre. Off: operations arrest only on suspicion (no quotas)."""
    limit_multiplier: Multiplier
    request_threshold: Probability
    """A region asks for more once it has arrested this share of its limit, or sentenced this
    share of either category."""
    request_fraction: Multiplier
    """A request asks for this share of the region's initial limit, times the zeal, split
    between the categories as its troika would have sentenced so far without the limits."""
    zeal_sigma: Annotated[float, Field(ge=0.0, le=5.0)]
    """Spread of the regional chiefs' zeal (log-normal, median 1, each drawn once); at most 5,
    where one chief in a hundred is a hundred thousand times as zealous."""
    zeal_of: Literal["region", "oblasts"] = "oblasts"
    """Whose zeal a region's requests carry. 'region': one chief per region of the model, so
    a republic is one draw (the RSFSR, seven tenths of the country, included), which moved
    whole seeds (great-terror's setting until commit 5dba684). 'oblasts' (the default): a
    republic stands for its entries of the Order 00447 annex, each with its own chief (as the
    centre's answers already treat it as many oblasts), and its zeal is their mean; the
    annex's 64 territorial entries are shared among the republics in proportion to their
    initial limits (at least one each; the Gulag is one), since data/ has the limits by
    republic, not the entries."""
    approval_probability: Probability
    """Weekly chance that an oblast's pending request for more is granted, until
    ``approvals_until``; so the share of a republic's pending requests granted each week."""
    approval_share: Probability
    approvals_until: EventId | None = None
    """The Politburo's last general extension: at this event the pending requests are answered
    by that decision's own ``raises`` (and withdrawn); afterwards requests are granted only
    with ``late_approval_probability`` (none: routine approvals never end)."""
    late_approval_probability: Probability = 0.0
    raises: list[LimitRaise] = []
    """Dated decisions that raise limits, each in the week of its event."""


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
        chiefs = (annex_entries(pop.region_names, initial) if self.p.zeal_of == "oblasts"
                  else np.ones(pop.n_regions, dtype=np.int64))
        zeal = np.exp(self.p.zeal_sigma * sim.rng(self.name + ".zeal").standard_normal(
            int(chiefs.sum())))
        region = np.repeat(np.arange(pop.n_regions), chiefs)
        self.zeal = np.bincount(region, weights=zeal, minlength=pop.n_regions) / chiefs
        names = list(pop.region_names)
        self.raises = [(r, None if r.region is None else names.index(r.region))
                       for r in self.p.raises if r.region is None or r.region in names]
        # the regions each decision names: a raise without one shares its amount among the rest
        self.named: dict[str, list[int]] = {}
        for decision, region in self.raises:
            self.named.setdefault(decision.event, [])
            if region is not None:
                self.named[decision.event].append(region)
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
            # the extension answers what was pending with its own amounts (its raises, below)
            limits.request_cat1[:] = 0.0
            limits.request_cat2[:] = 0.0
            pending[:] = False
        if self.p.enabled and np.any(pending):
            # A republic stands for its many oblasts, each petitioning on its own: the centre
            # answers a share of the republic's pending requests each week, not all or nothing.
            share = (self.p.approval_probability if last is None or sim.week < last
                     else self.p.late_approval_probability)
            answered = np.where(pending, share, 0.0)
            for cat, request in ((1, limits.request_cat1), (2, limits.request_cat2)):
                increase = request * answered * self.p.approval_share
                (limits.cat1 if cat == 1 else limits.cat2)[:] += increase
                sim.series[f"limit_increase_cat{cat}"][sim.week] = np.rint(increase * scale)
                request -= request * answered
        if self.p.enabled:
            self._decisions(sim, limits)
            self._requests(limits)
        sim.series["limit_cat1"][sim.week] = np.rint(limits.cat1 * scale)
        sim.series["limit_cat2"][sim.week] = np.rint(limits.cat2 * scale)

    def _decisions(self, sim: Sim, limits: Limits) -> None:
        """Dated decisions raising limits (``raises``), in the week they fall: a named region's,
        or, for a raise without one, those of the regions with work left that no raise of the
        same event names, by their initial limits."""
        for decision, region in self.raises:
            if sim.event_week(decision.event) != sim.week:
                continue
            if region is None:
                weight = np.where(limits.backlog & (limits.total > 0),
                                  limits.initial_cat1 + limits.initial_cat2, 0.0)
                weight[self.named[decision.event]] = 0.0
                if weight.sum() <= 0:
                    continue  # nobody has work left to give it to
                share = weight / weight.sum()
            else:
                share = np.zeros(len(limits.cat1))
                share[region] = 1.0
            amount = decision.amount * share
            for cat, part in ((1, decision.cat1_share), (2, 1.0 - decision.cat1_share)):
                (limits.cat1 if cat == 1 else limits.cat2)[:] += amount * part / self.scale
                sim.series[f"limit_increase_cat{cat}"][sim.week] += np.rint(
                    amount * part).astype(np.int64)

    def _requests(self, limits: Limits) -> None:
        """A region with work left asks for more once it has used most of its limit, or of
        either category, and its last request is mostly answered: ``request_fraction`` of its
        initial limit times its chief's zeal, split between the categories as its troika would
        have sentenced so far without the limits (as the initial limits before any sentence):
        a region short of category 1 asks for category 1, even while the limits made its
        troika give category 2. The centre answers from
        next week."""
        threshold = self.p.request_threshold
        used_most = ((limits.arrested >= threshold * limits.total)
                     | ((limits.used_cat1 >= threshold * limits.cat1) & (limits.cat1 > 0))
                     | ((limits.used_cat2 >= threshold * limits.cat2) & (limits.cat2 > 0)))
        initial = limits.initial_cat1 + limits.initial_cat2
        amount = self.p.request_fraction * initial * self.zeal
        asks = (used_most & limits.backlog & (limits.total > 0)
                & ((limits.request_cat1 + limits.request_cat2) < 0.1 * amount))
        used = limits.used_cat1 + limits.used_cat2
        cat1 = np.where(used > 0, limits.wanted_cat1 / np.maximum(used, 1e-12),
                        limits.initial_cat1 / np.maximum(initial, 1e-12))
        limits.request_cat1[asks] += (amount * cat1)[asks]
        limits.request_cat2[asks] += (amount * (1.0 - cat1))[asks]


def annex_entries(region_names: tuple[str, ...] | list[str],
                  initial: dict[str, tuple[float, float]]) -> np.ndarray:
    """How many annex entries (oblast chiefs) each region stands for: the annex's territorial
    entries (history.csv o00447_annex_territorial_entries) shared in proportion to the
    regions' initial limits, at least one each; the Gulag is one entry. An assumption (entries
    of equal size): the Kazakh SSR's lines are eight oblasts (the annex as reprinted at
    onlinereadsfree.com, book 126318, p. 101), which this gives two."""
    names = list(region_names)
    size = np.array([0.0 if name == "Gulag" else sum(initial[name]) for name in names])
    share = size / size.sum() if size.sum() > 0 else size
    entries = datasets.figure("o00447_annex_territorial_entries")
    return np.maximum(np.rint(entries * share), 1).astype(np.int64)
