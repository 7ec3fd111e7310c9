"""Mechanism 5, NKVD operations: each region arrests within its weekly capacity.

Order of choice in a region each week:

1. named suspects from the region's queue, first in first out (the cascade's engine), counted
   against the limits of the operation their case belongs to;
2. card-file sweeps, operation by operation ("mopping up" everyone with a taint): a limited
   operation (Order 00447) paces itself to use its limits within the plan, overfulfilling; an
   unlimited one (the national operations, ordinary work) arrests at a rate per million people.

Card-file lists are built once per operation and region (ids with the operation's taint bits,
shuffled, kulaks and criminals first for 00447) and consumed through a cursor, so a week costs
work in proportion to its arrests, not to the population.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Limits, Policy
from purgesim.params import (
    After,
    EventId,
    MeanCount,
    Multiplier,
    Nationality,
    OperationName,
    PerMillion,
    Probability,
    Section,
    Taint,
    Weeks,
)
from purgesim.vocab import FLAG, OP, SRC, TAINT_BIT

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

# Sweep order: the national operations, then 00447, then ordinary work. Named suspects come first.
PRIORITY = ("elite", "german_00439", "polish_00485", "harbin_00593", "latvian", "other_national",
            "kulak_00447", "ordinary")
FIRST_TIER = TAINT_BIT["kulak"] | TAINT_BIT["prior_conviction"]
MIN_PACE_WEEKS = 4.0  # after its plan, a limited operation uses new limits within about a month

class OperationParams(Section):
    """One table of ``[operations]``: an operation's targets, pace and sentencing."""

    enabled: bool = True
    start: EventId | None = None
    """Calendar event that starts the operation (none: active from the first week)."""
    end: Annotated[EventId | None, After("start")] = None
    """Calendar event that ends it (none: it never ends)."""
    limited: bool = False
    """Arrests paced by the centre's category 1 and 2 limits (Order 00447) rather than a rate."""
    plan_weeks: Annotated[Weeks, Field(gt=0.0)] = 17.0
    fill_weeks: Annotated[Weeks, Field(gt=0.0)] | None = None
    """Limited operations: the weeks in which a region aims to use what is left of its current
    limit (chiefs raced to finish early and ask for more); none: spread over the plan."""
    overfulfilment: Multiplier = 1.0
    rate: PerMillion = 0.0
    """Unlimited operations: card-file arrests per week, per million people in the region."""
    rate_ramp_weeks: Weeks = 0.0
    phases: dict[EventId, Multiplier] = {}
    """The rate's shape over time: from each of these events on, the rate is multiplied by its
    value (the latest event passed applies; before the first, by one)."""
    targets: list[Taint] = []
    nationalities: list[Nationality] = []
    """Diaspora codes of data/diaspora.csv that the operation sweeps (national operations)."""
    nationalities_diaspora_only: bool = False
    """If true, ``nationalities`` pick only whose ``diaspora`` bit counts, and the operation's
    other target bits count whatever the nationality: the Harbin operation's second group, the
    "Japanese spies", were anyone with contacts in Japan or Manchuria (N. Potapova,
    "Kharbinskaya" operatsiya NKVD SSSR 1937-1938 gg.: mekhanizmy, tselevye gruppy i masshtaby
    repressii, pp. 25-27: the closed letter No. 60268 sent with Order 00593). If false, every
    target bit counts only for people of those nationalities."""
    torture_probability: Probability = 0.5
    names_mean: MeanCount = 1.0
    sentenced_by: Literal["operation", "album", "collegium"] = "operation"
    """Who decides the cases: the operation's own body (a troika, or the courts), at its
    ``cat1_share``; or the album commission or the Military Collegium, at their share in
    ``[sentencing]`` (the same body for every operation it judges)."""
    cat1_share: Probability = 0.5
    """How readily the operation's own body sentences to death, before the profile and the
    limits (unused when another body decides)."""
    mass_cat1_share: Probability | None = None
    """The share shot by cases sentenced from ``mass_from`` until ``mass_until`` (the mass
    operations' troikas); outside that window, ``cat1_share``. None: ``cat1_share`` always."""
    mass_from: EventId | None = None
    mass_until: Annotated[EventId | None, After("mass_from")] = None
    convict_without_confession: Probability = 0.8
    sentence_lag_weeks: Annotated[Weeks, Field(ge=1.0)] = 4.0
    album_until: EventId | None = None
    """The 'album' procedure: cases wait for approval in Moscow (``sentencing.album_lag_weeks``)
    until this event (the special troikas), which then decide the backlog within
    ``sentence_lag_weeks``."""

class NkvdParams(Section):
    """The ``[nkvd]`` table: how many cases each region's NKVD can take on."""

    capacity_per_million: PerMillion
    """Interrogations a region's NKVD can start per week, per million people, before 1937."""
    mass_capacity_per_million: PerMillion
    """The same once staff have been assigned to the mass operations."""
    capacity_ramp_weeks: Weeks
    sweep_capacity_per_million: PerMillion = 0.0
    """Card-file arrests under a limited operation (Order 00447) that the operational groups can
    make per week per million, on top of the interrogation capacity: such a case needed no
    investigation, only a name in the card file (0: sweeps share the interrogation capacity)."""
    capacity_after_stop_per_million: PerMillion
    queue_patience_weeks: Annotated[Weeks, Field(ge=1.0)]
    """Named suspects not arrested within this many weeks are dropped from the queue."""



class Operations(Mechanism):
    name = "operations"
    does = "arrests: named suspects first, then card-file sweeps per operation, within capacity"
    sections = {"operations": dict[OperationName, OperationParams], "nkvd": NkvdParams}
    needs = (Policy, Limits)

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.nkvd = scenario.nkvd
        self.ops: dict[str, OperationParams] = {
            name: scenario.operations[name] for name in PRIORITY
            if name in scenario.operations and scenario.operations[name].enabled
        }

    def init(self, sim: Sim) -> None:
        pop = sim.population
        self.policy = sim.get(Policy)
        self.limits = sim.get(Limits)
        self.flags = pop.flags
        sim.define_series("capacity")
        sim.define_series("evidence_needed", dtype=np.float64)
        rng = sim.rng(self.name + ".lists")
        self.lists: dict[str, list[np.ndarray]] = {}
        self.cursor = {name: np.zeros(pop.n_regions, dtype=np.int64) for name in self.ops}
        # Weekly counts are real numbers of agents; what is not a whole agent carries over.
        # Each carry starts at a uniform fraction, so that a rate of 0.3 agents a week over ten
        # weeks makes 3 arrests on average, not 2 (which is what a carry from zero gives when the
        # operation ends: at coarse scales, whole operations in small republics were lost).
        offsets = sim.rng(self.name + ".offsets")
        self.carry = {name: offsets.random(pop.n_regions) for name in self.ops}
        self.capacity_carry = offsets.random(pop.n_regions)
        self.sweep_carry = offsets.random(pop.n_regions)
        self.million = pop.region_real / 1e6
        card = pop.card_file
        card_region = pop.region_of(card)
        for name, op in self.ops.items():
            mask = 0
            for bit in op.targets:
                mask |= TAINT_BIT[bit]
            taint = pop.taint[card]
            chosen = (taint & mask) > 0
            if op.nationalities:
                of_nation = np.isin(pop.nation[card], op.nationalities)
                if op.nationalities_diaspora_only:
                    of_nation |= (taint & (mask & ~TAINT_BIT["diaspora"])) > 0
                chosen &= of_nation
            ids, regions = card[chosen], card_region[chosen]
            tier = (np.zeros(len(ids), dtype=bool) if not op.limited
                    else (pop.taint[ids] & FIRST_TIER) == 0)
            order = _by_region_tier_at_random(regions, tier, rng.random(len(ids)))
            ids, regions = ids[order], regions[order]
            bounds = np.searchsorted(regions, np.arange(pop.n_regions + 1))
            self.lists[name] = [ids[bounds[r]: bounds[r + 1]] for r in range(pop.n_regions)]

    def capacity(self, sim: Sim) -> np.ndarray:
        """Interrogations each region can start this week, in agents (a real number)."""
        p = self.nkvd
        if sim.active("stop_decree"):
            per_million = p.capacity_after_stop_per_million
        else:
            start = sim.event_week("order_00447")
            ramp = 0.0
            if start is not None and sim.week >= start:
                ramp = min(1.0, (sim.week - start + 1) / max(p.capacity_ramp_weeks, 1.0))
            per_million = p.capacity_per_million + ramp * (
                p.mass_capacity_per_million - p.capacity_per_million)
        return per_million * self.million / sim.scenario.scale

    def sweep_capacity(self, sim: Sim) -> np.ndarray:
        """Card-file arrests each region's operational groups can make this week under a limited
        operation, beyond the interrogation capacity, in agents. No ramp: the regions had
        registered their "anti-Soviet elements" in July 1937 (Politburo P51/94, 2 July), so the
        lists were ready on the first night."""
        start = sim.event_week("order_00447")
        if start is None or sim.week < start or sim.active("stop_decree"):
            return np.zeros_like(self.million)
        return self.nkvd.sweep_capacity_per_million * self.million / sim.scenario.scale

    @staticmethod
    def _phase(sim: Sim, op: OperationParams) -> float:
        """The multiplier of the latest of the operation's phases to have begun (1 before)."""
        begun = [(week, value) for event, value in op.phases.items()
                 if (week := sim.event_week(event)) is not None and sim.week >= week]
        return max(begun)[1] if begun else 1.0

    def _running(self, sim: Sim, op: OperationParams) -> bool:
        if op.start is not None and not sim.active(op.start):
            return False
        if op.end is not None and op.end != "stop_decree" and sim.active("stop_decree"):
            return False  # the stop decree ends every mass operation, whatever its own end
        return not (op.end is not None and sim.active(op.end))

    def step(self, sim: Sim) -> None:
        pop = sim.population
        scale = sim.scenario.scale
        running = {name: self._running(sim, op) for name, op in self.ops.items()}
        lags = np.array([self.ops[name].sentence_lag_weeks if name in self.ops else 4.0
                         for name in OP])
        limits = self.limits
        register = sim.register
        limited_running = [n for n, op in self.ops.items() if op.limited and running[n]]
        threshold = self.evidence_needed(sim, limited_running)
        sim.series["evidence_needed"][sim.week] = threshold
        lags = self._lags(sim, lags)
        capacity = self.capacity(sim) + self.capacity_carry
        sweeps = self.sweep_capacity(sim) + self.sweep_carry
        sim.series["capacity"][sim.week] = np.rint((capacity + sweeps) * scale)
        rng = sim.rng(self.name)
        for r in range(pop.n_regions):
            # budgets count standard agents (weight = scale): an official or officer, who is
            # one real person, uses 1/scale of a place, so coarse scales are not biased
            # (what is left of a place at the end of the week carries over)
            budget = float(capacity[r])
            sweep_budget = float(sweeps[r])

            # 1. suspects, first accused first: the Congress delegates on the lists of the
            # centre's own apparatus (one real person each), then everyone else
            for only, k in ((self._delegate, int(max(budget, 0.0) * scale)),
                            (None, int(budget))):
                entries = register.take_suspects(r, k, self.nkvd.queue_patience_weeks,
                                                 float(threshold[r]), only)
                budget -= self._arrest_suspects(sim, r, entries, running, limited_running,
                                                lags, rng)

            # 2. card-file sweeps, operation by operation (without quotas there are none:
            # arrests only on individual suspicion, MODEL.md section 5)
            for name, op in self.ops.items():
                if not running[name] or not self.policy.limits:
                    continue
                if op.limited:
                    start = sim.event_week(op.start) or 0
                    weeks_left = max(start + op.plan_weeks - sim.week, MIN_PACE_WEEKS)
                    if op.fill_weeks is not None:
                        weeks_left = min(weeks_left, op.fill_weeks)
                    remaining = limits.total[r] * op.overfulfilment - limits.arrested[r]
                    demand = max(remaining, 0.0) / weeks_left
                else:
                    ramp = 1.0
                    if op.rate_ramp_weeks > 0 and op.start is not None:
                        since = sim.week - (sim.event_week(op.start) or 0) + 1
                        ramp = min(1.0, since / op.rate_ramp_weeks)
                    ramp *= self._phase(sim, op)
                    demand = op.rate * ramp * self.million[r] / scale
                demand += self.carry[name][r]
                own = sweep_budget if op.limited else 0
                want = min(int(demand), int(max(budget, 0.0) + own))
                ids = self._take(name, r, want, register.status)
                rows = register.arrest(ids, operation=OP[name], source=SRC["card_file"],
                                       lag_weeks=lags[OP[name]], rng=rng)
                used = register.events["weight"][rows].sum() / scale
                # Demand that capacity could not meet waits for next week (a queue, not a
                # loss): a rate carries what it did not take; a limit keeps the rest in what
                # is left of it, so only the fraction of an agent carries.
                self.carry[name][r] = (demand - int(demand) if op.limited
                                       else max(demand - used, 0.0))
                if len(ids) < want:
                    self.carry[name][r] = 0.0  # the list is exhausted
                from_own = min(used, own)
                sweep_budget -= from_own
                budget -= used - from_own
                if op.limited:
                    limits.arrested[r] += used
            self.capacity_carry[r] = max(budget, 0.0) % 1.0
            self.sweep_carry[r] = max(sweep_budget, 0.0) % 1.0
            if limited_running:
                name = limited_running[0]
                left = self.cursor[name][r] < len(self.lists[name][r])
                limits.backlog[r] = left or register.suspects.count(r, "operation",
                                                                     OP[name]) > 0
            else:
                limits.backlog[r] = False

    def _arrest_suspects(self, sim: Sim, r: int, entries: dict[str, np.ndarray],
                         running: dict[str, bool], limited_running: list[str],
                         lags: np.ndarray, rng: np.random.Generator) -> float:
        """Arrest the suspects taken from region ``r``'s queue; returns the capacity used."""
        if len(entries["person"]) == 0:
            return 0.0
        register = sim.register
        fallback = OP["ordinary"]
        op = entries["operation"].astype(np.int64)
        alive = np.array([running.get(name, False) for name in OP])
        op = np.where(alive[op], op, fallback)
        if limited_running and self.policy.limits:
            # while a limit runs, any suspect taken counts toward it ("the region arrests to
            # fulfil its limits, choosing from" the named, the denounced...)
            op[op == fallback] = OP[limited_running[0]]
        rows = register.arrest(entries["person"], operation=op, source=entries["source"],
                               lag_weeks=lags[op], rng=rng, cause=entries["cause"])
        weight = register.events["weight"][rows]
        ops = register.events["operation"][rows]
        for name in limited_running:
            self.limits.arrested[r] += weight[ops == OP[name]].sum() / sim.scenario.scale
        return float(weight.sum() / sim.scenario.scale)

    def _delegate(self, ids: np.ndarray) -> np.ndarray:
        return (self.flags[ids] & FLAG["delegate"]) > 0

    def evidence_needed(self, sim: Sim, limited_running: list[str]) -> np.ndarray:
        """'Punish ten so that one does not go free': the evidence a queued suspect needs in
        each region, falling as the pressure of unfilled limits rises."""
        p = sim.scenario.evidence
        n = sim.population.n_regions
        pressure = np.zeros(n)
        if not sim.active("stop_decree"):
            if limited_running and self.policy.limits:
                limits = self.limits
                op = self.ops[limited_running[0]]
                target = limits.total * op.overfulfilment
                remaining = np.maximum(target - limits.arrested, 0.0)
                pressure = remaining / np.maximum(target, 1e-9)  # share of the limit unfilled
            if p.vigilance_event is not None and sim.active(p.vigilance_event):
                pressure = np.maximum(pressure, p.vigilance_pressure)
        return p.threshold_max * (1.0 - p.pressure_sensitivity * pressure)

    def _lags(self, sim: Sim, lags: np.ndarray) -> np.ndarray:
        """Mean weeks to a sentence by operation; 'album' cases wait for Moscow until the
        special troikas take over, who then clear the backlog."""
        lags = lags.copy()
        album = sim.scenario.sentencing.album_lag_weeks
        for name, op in self.ops.items():
            if op.album_until is None:
                continue
            until = sim.event_week(op.album_until)
            if until is None:
                lags[OP[name]] = album
            elif sim.week < until:
                lags[OP[name]] = min(album,
                                     until - sim.week + op.sentence_lag_weeks)
        return lags

    def _take(self, name: str, r: int, k: int, status: np.ndarray) -> np.ndarray:
        """The next ``k`` people of a card-file list who are still free."""
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        ids = self.lists[name][r]
        taken: list[np.ndarray] = []
        need = k
        cursor = int(self.cursor[name][r])
        while need > 0 and cursor < len(ids):
            window = ids[cursor: cursor + 2 * need + 16]
            free = np.flatnonzero(status[window] == 0)[:need]
            taken.append(window[free])
            need -= len(free)
            cursor += int(free[-1]) + 1 if need == 0 else len(window)
        self.cursor[name][r] = cursor
        return np.concatenate(taken) if taken else np.empty(0, dtype=np.int64)


def _by_region_tier_at_random(regions: np.ndarray, tier: np.ndarray, u: np.ndarray
                              ) -> np.ndarray:
    """``np.lexsort((u, tier, regions))`` for uniforms ``u`` in [0, 1) (overwritten): the
    three keys packed in one integer (a uniform's 53 bits are exact) and sorted once, three
    times faster on the nine million names of Order 00447's lists at full scale."""
    assert len(regions) == 0 or int(regions.max()) < 1 << 9
    key = regions.astype(np.int64)  # in place from here: these lists are the run's peak
    key <<= 1
    key |= tier
    key <<= 53
    u *= 2.0 ** 53
    key |= u.astype(np.int64)
    del u
    return np.argsort(key, kind="stable")
