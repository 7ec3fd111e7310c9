"""Mechanism 4, the economy and "wrecking": failures blamed on sabotage, and what that costs.

The essay: "a policy of blanket blaming all kinds of industrial breakdowns, snafus, accidents,
shortfalls, confusion, chaos, delay, and disagreement on conscious sabotage". MODEL.md, mechanism
4: each enterprise has a plan and an output that depends on its staff and on its managers' and
engineers' experience; failures happen at a rate that rises with plan tautness and falls with
experience; a failure is blamed on sabotage with a policy probability, which puts the manager and
engineers on the suspect list; arrested managers are replaced by less experienced promotees, so
failures rise.

Enterprises are the workplaces of the kinds in ``enterprise_kinds`` (by default factories only:
the essay speaks of industrial breakdowns; kolkhozes, whose head is the chairman, can be added).
An enterprise is a block of ids: its head is the first id (occupation manager), its engineers
are the members with occupation specialist, its workforce everyone but dependents. Sizes are in
agents at every scale, so one enterprise stands for ``scale`` real ones, like its head; the
weekly counts ``failures`` and ``failures_blamed`` are enterprises x scale.

Each week, per enterprise (work in proportion to enterprises, never to people):

1. Arrests since the last step (any source: sabotage, the tail of a patron, the cascade...)
   are read from the event table. An arrested head is replaced by a promotee from inside the
   enterprise (an engineer if one is free, else another member), with
   ``promotee_experience_years`` as a manager; an arrested engineer's post goes to a promotee
   too, pulling the engineers' mean experience toward that figure in proportion to the posts
   lost; every arrested member of the workforce leaves a vacancy, filled at a rate of one over
   ``staff_replacement_weeks`` per week.
2. Inexperience of the leadership: I = mean of exp(-years / experience_scale_years) over the
   manager and (if the enterprise has any) the engineers' mean, so I = 1 for a wholly new
   leadership and tends to 0 with long experience.
3. A failure (breakdown, accident, shortfall) happens with probability
   failure_rate x tautness x (1 + (inexperience_multiplier - 1) x I).
4. Output in the week, in real worker-weeks: workforce x (1 - vacancies / workforce) x
   (1 - experience_output_share x I) x (1 - failure_output_loss if failed) x scale; the plan is
   workforce x tautness x scale.
5. From ``blame_event`` until ``blame_end``, each failure is blamed on sabotage with
   ``blame_probability``: the head (if free) and a Poisson(``suspects_per_failure``) number of
   the enterprise's engineers go on the suspect queue (source "sabotage", operation "ordinary");
   the NKVD decides whom to arrest.

A counterfactual "no terror" shadow runs alongside in the same run: the same enterprises and the
same uniform draw per enterprise-week (common random numbers), but nobody is ever lost, so its
experience only grows. Series ``output`` and ``output_no_terror`` are therefore identical in a run
without arrests in enterprises, and 1 - sum(output) / sum(output_no_terror) is the output lost
to the terror (in enterprises: arrests elsewhere cost nothing here). A switched-off economy draws
nothing, changes nothing and leaves its series at zero ("not computed").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field

from purgesim.engine import kernels
from purgesim.model.mechanism import Mechanism
from purgesim.params import (
    After,
    EventId,
    MeanCount,
    Multiplier,
    Probability,
    Section,
    Weeks,
    Years,
)
from purgesim.vocab import FREE, OCC, OP, SRC, WP

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

SERIES = ("output", "output_no_terror", "plan", "failures", "failures_no_terror",
          "failures_blamed")
EXPERIENCE_SHAPE = 4.0  # assumption: initial experience is gamma-distributed, CV 0.5
WEEK_YEARS = 1.0 / 52.0
PROMOTION_TRIES = 8  # random picks per promotion among engineers, then among all members

class EconomyParams(Section):
    """The ``[economy]`` table, mechanism 4: enterprises with plans, failures blamed on sabotage, inexperienced
    promotees replacing arrested managers."""

    enabled: bool
    blame_event: EventId | None = None
    """From this event failures can be blamed on sabotage."""
    blame_probability: Probability
    """Policy: probability that a failure is blamed on sabotage."""
    failure_rate: Probability
    """Weekly probability of a breakdown in an enterprise led by experienced staff."""
    tautness: Multiplier
    """Plan tautness: multiplies the failure rate."""
    experience_scale_years: Annotated[Years, Field(gt=0.0)]
    """Failures fall with experience as exp(-years / scale), relative to inexperience."""
    inexperience_multiplier: Annotated[Multiplier, Field(ge=1.0)]
    """Failure rate of a wholly inexperienced leadership relative to an experienced one."""
    initial_experience_years: Years
    promotee_experience_years: Years
    suspects_per_failure: MeanCount
    """Engineers put on the suspect list besides the manager, on average."""
    failure_output_loss: Probability
    """Share of a week's output lost to a failure."""
    blame_end: Annotated[EventId | None, After("blame_event")] = None
    """From this event failures are no longer blamed (none: blamed to the end of the run)."""
    enterprise_kinds: list[Literal["factory", "kolkhoz"]]
    """Workplaces that are enterprises with a plan (a kolkhoz's head is its chairman)."""
    experience_output_share: Probability
    """Share of output that depends on the leadership's experience: a wholly inexperienced
    leadership produces 1 - share of what an experienced one does."""
    staff_replacement_weeks: Annotated[Weeks, Field(ge=1.0)]
    """Mean weeks to fill a post emptied by an arrest (lost staff recover geometrically)."""



class Economy(Mechanism):
    name = "economy"
    does = "enterprises: failures by tautness and inexperience, blamed on sabotage; output"
    sections = {"economy": EconomyParams}

    def __init__(self, scenario: Scenario):
        self.p = scenario.economy

    # ------------------------------------------------------------------ set-up
    def init(self, sim: Sim) -> None:
        pop = sim.population
        sim.define_series(*SERIES, dtype=np.float64)
        self.seen = 0  # event-table rows already read
        self.series = sim.series
        self.n_regions = pop.n_regions
        if not self.p.enabled:
            return
        kinds = [WP[k] for k in self.p.enterprise_kinds]
        self.workplace = np.flatnonzero(np.isin(pop.workplace_kind, kinds))
        n_ent = len(self.workplace)
        # enterprise index of each workplace (-1: not an enterprise); O(workplaces) once
        self.enterprise_of = np.full(pop.n_workplaces, -1, dtype=np.int64)
        self.enterprise_of[self.workplace] = np.arange(n_ent)
        self.lo = pop.workplace_offsets[self.workplace]
        self.size = pop.workplace_offsets[self.workplace + 1] - self.lo
        self.region = pop.region_of(self.lo)
        self.head = self.lo.copy()  # the first id of the block is the manager or chairman

        # engineers (CSR by enterprise) and workforce: one pass over people, once
        spec = pop.ids_where(occupations=(OCC["specialist"],))
        ent = self.enterprise_of[pop.workplace_of(spec)]
        keep = ent >= 0
        self.spec_ids, spec_ent = spec[keep], ent[keep]  # sorted by id, hence by enterprise
        self.spec_count = np.bincount(spec_ent, minlength=n_ent)
        self.spec_off = np.concatenate([[0], np.cumsum(self.spec_count)]).astype(np.int64)
        self.workforce = np.zeros(n_ent)
        for e0 in range(0, n_ent, 4096):  # in chunks: the members of 4096 enterprises at a time
            block = np.arange(e0, min(e0 + 4096, n_ent))
            members = _block_members(self.lo[block], self.size[block])
            dependent = pop.occupation[members] == OCC["other"]
            owner = np.repeat(block, self.size[block])
            self.workforce[block] = np.bincount(owner[~dependent] - e0,
                                                minlength=len(block))[: len(block)]
        self.workforce = np.maximum(self.workforce, 1.0)  # the head at least

        rng = sim.rng(self.name + ".init")
        theta = self.p.initial_experience_years / EXPERIENCE_SHAPE
        self.manager_years = rng.gamma(EXPERIENCE_SHAPE, theta, n_ent)
        self.engineer_years = rng.gamma(EXPERIENCE_SHAPE, theta, n_ent)
        self.vacancies = np.zeros(n_ent)  # agents of the workforce lost and not yet replaced
        self.shadow_manager_years = self.manager_years.copy()
        self.shadow_engineer_years = self.engineer_years.copy()
        self.failed = np.zeros(n_ent, dtype=bool)  # this week's failures (read by tests)
        self.failed_shadow = np.zeros(n_ent, dtype=bool)

    # ------------------------------------------------------------------ weekly step
    def step(self, sim: Sim) -> None:
        if not self.p.enabled:
            return
        p = self.p
        scale = sim.scenario.scale
        week = sim.week
        self._absorb_arrests(sim)
        vacant = np.flatnonzero(self.head < 0)  # heads lost since last week, or not yet filled
        if len(vacant):
            self._promote(sim, vacant, sim.rng(self.name, 2))

        inexperience = self._inexperience(self.manager_years, self.engineer_years)
        shadow_inexperience = self._inexperience(self.shadow_manager_years,
                                                 self.shadow_engineer_years)
        # one uniform per enterprise for both worlds: the shadow differs only by experience
        u = sim.rng(self.name, 0).random(len(self.workplace))
        self.failed = u < self._failure_probability(inexperience)
        self.failed_shadow = u < self._failure_probability(shadow_inexperience)

        staff = np.maximum(self.workforce - self.vacancies, 0.0)
        output = self._output(staff, inexperience, self.failed)
        shadow = self._output(self.workforce, shadow_inexperience, self.failed_shadow)
        self._add_all(week, {
            "output": output * scale,
            "output_no_terror": shadow * scale,
            "plan": self.workforce * p.tautness * scale,
            "failures": self.failed * float(scale),
            "failures_no_terror": self.failed_shadow * float(scale),
        })

        if self._blaming(sim):
            self._blame(sim, week, scale)

        # posts are filled and everyone gains a week of experience
        self.vacancies *= 1.0 - 1.0 / p.staff_replacement_weeks
        for years in (self.manager_years, self.engineer_years, self.shadow_manager_years,
                      self.shadow_engineer_years):
            years += WEEK_YEARS

    def _add_all(self, week: int, values: dict[str, np.ndarray]) -> None:
        """:meth:`_add` for several series at once: one pass over the enterprises adds to
        every series, each in enterprise order as ``np.bincount`` does, so the sums are the
        same (their chains of additions overlap instead of following each other)."""
        sums = _sums_by_region(self.region, np.stack(
            [np.asarray(v, dtype=np.float64) for v in values.values()]), self.n_regions)
        for series, row in zip(values, sums, strict=True):
            self.series[series][week] += row

    def _add(self, series: str, week: int, values: np.ndarray) -> None:
        """Add per-enterprise values to a weekly series, by region."""
        self.series[series][week] += np.bincount(self.region, weights=values,
                                                 minlength=self.n_regions)

    # ------------------------------------------------------------------ the parts
    def _inexperience(self, manager: np.ndarray, engineers: np.ndarray) -> np.ndarray:
        s = self.p.experience_scale_years
        im = np.exp(-manager / s)
        return np.where(self.spec_count > 0, 0.5 * (im + np.exp(-engineers / s)), im)

    def _failure_probability(self, inexperience: np.ndarray) -> np.ndarray:
        p = self.p
        rate = p.failure_rate * p.tautness * (1.0 + (p.inexperience_multiplier - 1.0)
                                              * inexperience)
        return np.minimum(rate, 1.0)

    def _output(self, staff: np.ndarray, inexperience: np.ndarray,
                failed: np.ndarray) -> np.ndarray:
        p = self.p
        return (staff * (1.0 - p.experience_output_share * inexperience)
                * np.where(failed, 1.0 - p.failure_output_loss, 1.0))

    def _blaming(self, sim: Sim) -> bool:
        p = self.p
        if p.blame_probability <= 0.0:
            return False
        if p.blame_event is not None and not sim.active(p.blame_event):
            return False
        return not (p.blame_end is not None and sim.active(p.blame_end))

    def _blame(self, sim: Sim, week: int, scale: int) -> None:
        """Blame failures on sabotage: the head and some engineers become suspects."""
        failed = np.flatnonzero(self.failed)
        if len(failed) == 0:
            return
        rng = sim.rng(self.name, 1)
        blamed = failed[rng.random(len(failed)) < self.p.blame_probability]
        if len(blamed) == 0:
            return
        flag = np.zeros(len(self.workplace))
        flag[blamed] = scale
        self._add("failures_blamed", week, flag)
        k = rng.poisson(self.p.suspects_per_failure, len(blamed))
        k = np.where(self.spec_count[blamed] > 0, k, 0)
        owner = np.repeat(blamed, k)
        pick = self.spec_off[owner] + (rng.random(len(owner))
                                       * self.spec_count[owner]).astype(np.int64)
        heads = self.head[blamed]
        # one accusation per person and failure: an engineer drawn twice is accused once
        suspects = np.unique(np.concatenate([heads[heads >= 0], self.spec_ids[pick]]))
        sim.register.accuse(suspects, source=SRC["sabotage"], operation=OP["ordinary"], rng=rng)

    def _absorb_arrests(self, sim: Sim) -> None:
        """Heads, engineers and workers of enterprises arrested since the last step."""
        events = sim.register.events
        rows = np.arange(self.seen, len(events))
        self.seen = len(events)
        if len(rows) == 0:
            return
        pop = sim.population
        person = events["person"][rows]
        ent = self.enterprise_of[pop.workplace_of(person)]
        inside = ent >= 0
        person, ent = person[inside], ent[inside]
        if len(person) == 0:
            return
        occupation = pop.occupation[person]
        workforce = occupation != OCC["other"]
        self.vacancies += np.bincount(ent[workforce], minlength=len(self.workplace))
        head = person == self.head[ent]
        lost_heads = np.unique(ent[head])
        engineer = (occupation == OCC["specialist"]) & ~head
        self._engineers_lost(np.bincount(ent[engineer], minlength=len(self.workplace)))
        self.head[lost_heads] = -1  # filled by a promotee in this week's step

    def _engineers_lost(self, lost: np.ndarray) -> None:
        """Promotees fill the engineers' posts: mean experience moves toward theirs."""
        has = (lost > 0) & (self.spec_count > 0)
        share = np.minimum(lost[has] / self.spec_count[has], 1.0)
        years = self.engineer_years[has]
        self.engineer_years[has] = years + share * (self.p.promotee_experience_years - years)

    def _promote(self, sim: Sim, ents: np.ndarray, rng: np.random.Generator) -> None:
        """A new head for each enterprise in ``ents``: a free engineer if one is found, else a
        free member of the workforce; -1 (vacant, tried again next week) if nobody is found."""
        m = len(ents)
        n_spec = self.spec_count[ents]
        spec = self.spec_off[ents][:, None] + (
            rng.random((m, PROMOTION_TRIES)) * n_spec[:, None]).astype(np.int64)
        spec_ok = np.broadcast_to(n_spec[:, None] > 0, spec.shape)
        spec = np.where(spec_ok, self.spec_ids[np.minimum(spec, len(self.spec_ids) - 1)]
                        if len(self.spec_ids) else -1, -1)
        member = self.lo[ents][:, None] + (
            rng.random((m, PROMOTION_TRIES)) * self.size[ents][:, None]).astype(np.int64)
        candidates = np.concatenate([spec, member], axis=1)
        valid = candidates >= 0
        safe = np.where(valid, candidates, 0)
        pop = sim.population
        valid &= (sim.register.status[safe] == FREE) & (pop.occupation[safe] != OCC["other"])
        first = np.argmax(valid, axis=1)
        found = valid[np.arange(m), first]
        new = np.where(found, candidates[np.arange(m), first], -1)
        self.head[ents] = new
        self.manager_years[ents] = self.p.promotee_experience_years
        # an engineer moved up leaves his post to a promotee in turn
        moved = found & (first < PROMOTION_TRIES)
        lost = np.zeros(len(self.workplace))
        np.add.at(lost, ents[moved], 1.0)
        self._engineers_lost(lost)


def _block_members(lo: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """All ids of blocks starting at ``lo`` with ``sizes``, block after block."""
    if len(lo) == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(int(sizes.sum()), dtype=np.int64)


@kernels.njit(cache=True, nogil=True)
def _sums_by_region(region, values, n_regions):
    """``np.bincount(region, weights=row, minlength=n_regions)`` for each row of ``values``:
    each sum adds its terms in order, starting from zero."""
    out = np.zeros((values.shape[0], n_regions))
    for i in range(values.shape[1]):
        r = region[i]
        for s in range(values.shape[0]):
            out[s, r] += values[s, i]
    return out
