"""Mechanism 6, interrogation: torture, confession, and the naming of accomplices.

With physical methods permitted, a share of the week's arrested (depending on the operation:
group and "organisation" cases more than the mass sweeps) are tortured; a tortured person
confesses with high probability whatever the truth. A confession names accomplices: a Poisson
number with the operation's mean, drawn among contacts (coworkers, household, patron and
clients, acquaintances in the region), weighted toward the plausible (the tainted, officials,
party members, people already on file), and topped up by the investigator from the card file.
Each name joins the back of the suspect queue of the named person's region, with its parent
and generation: this is the engine of the cascade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import field_validator

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Policy
from purgesim.params import Odds, Probability, Section
from purgesim.vocab import FLAG, OCC, OFFICIALS, OP, SRC

if TYPE_CHECKING:
    from purgesim.population import Population
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

LAYERS = ("coworker", "household", "acquaintance", "patron_client")
"""Where a name comes from: the namer's coworkers, household, acquaintances, patron and clients."""
PLAUSIBILITY_ROUNDS = 4


class InterrogationParams(Section):
    """The ``[interrogation]`` table: torture, confession and the naming of accomplices."""

    enabled: bool
    torture: bool
    """Policy switch: physical methods permitted from the 'physical_methods' calendar event."""
    torture_before_sanction: Probability
    confess_tortured: Probability
    confess_guilty: Probability
    confess_innocent: Probability
    name_weights: dict[Literal[LAYERS],  # type: ignore[valid-type]
                       Odds]
    """Relative weights of where a name comes from (a missing layer weighs 0); not all 0."""
    plausibility: dict[Literal["tainted", "official", "party", "card_file"], Odds]
    """Relative odds that a person is named, by what makes the accusation plausible."""
    card_file_topup: Probability
    """For each name a confessor gives, the probability that the investigator adds one from
    the card file of the confessor's region ("topped up with names from the card file")."""

    @field_validator("name_weights")
    @classmethod
    def _some_weight(cls, value: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in value.values()):
            raise ValueError(f"every weight is 0 ({dict(value)}); allowed: at least one of "
                             f"{', '.join(LAYERS)} above 0 (a name comes from somewhere)")
        return value



class Interrogation(Mechanism):
    name = "interrogation"
    does = "this week's arrested: torture, confession, names of accomplices join the queue"
    sections = {"interrogation": InterrogationParams}
    needs = (Policy,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.interrogation
        self.torture_p = np.array([
            scenario.operations[name].torture_probability if name in scenario.operations else 0.0
            for name in OP])
        self.names_mean = np.array([
            scenario.operations[name].names_mean if name in scenario.operations else 0.0
            for name in OP])
        weights = np.array([self.p.name_weights.get(layer, 0.0) for layer in LAYERS])
        self.layer_p = weights / weights.sum() if weights.sum() > 0 else weights

    def init(self, sim: Sim) -> None:
        pop = sim.population
        self.policy = sim.get(Policy)
        self.done = 0  # event rows interrogated so far
        self.card_bounds = np.searchsorted(pop.card_file, pop.region_offsets)
        odds = self.p.plausibility
        self.max_odds = (max(odds["tainted"], 1) * max(odds["official"], 1)
                         * max(odds["party"], 1) * max(odds["card_file"], 1))

    def step(self, sim: Sim) -> None:
        if not self.p.enabled:
            return
        # everyone arrested since the last interrogation: this week's arrests, and last week's
        # arrests made after this step (families, the army and NKVD purges)
        register = sim.register
        ev = register.events
        rows = np.arange(self.done, len(ev))
        self.done = len(ev)
        if len(rows) == 0:
            return
        rng = sim.rng(self.name)
        op = ev["operation"][rows].astype(np.int64)
        p_torture = (self.torture_p[op] if self.policy.torture
                     else np.full(len(rows), self.p.torture_before_sanction))
        tortured = rng.random(len(rows)) < p_torture
        guilty = ev["guilty"][rows]
        p_confess = np.where(tortured, self.p.confess_tortured,
                             np.where(guilty, self.p.confess_guilty, self.p.confess_innocent))
        confessed = rng.random(len(rows)) < p_confess
        ev.set("tortured", rows, tortured)
        ev.set("confessed", rows, confessed)

        confessors = rows[confessed]
        k = rng.poisson(self.names_mean[op[confessed]])
        if k.sum() == 0:
            return
        pop = sim.population
        namer_row = np.repeat(confessors, k)
        namer = ev["person"][namer_row]
        named = self._choose(sim, namer, rng)
        # the investigator tops the names up from the card file
        extra = rng.random(len(namer_row)) < self.p.card_file_topup
        namer_row = np.concatenate([namer_row, namer_row[extra]])
        named = np.concatenate([named, self._from_card_file(pop, namer[extra], rng)])
        namer = ev["person"][namer_row]
        ok = (named >= 0) & (named != namer)
        ok[ok] = register.free(named[ok])
        # A weight-1 person (a delegate) naming an agent who stands for `scale` people names one
        # real person: keep the name with probability weight(namer) / weight(named), so real
        # numbers do not swell with the scale.
        thin = np.ones(len(named))
        thin[ok] = ev["weight"][namer_row[ok]] / pop.weight(named[ok])
        ok &= rng.random(len(named)) < thin
        counts = np.bincount(np.searchsorted(confessors, namer_row[ok]), minlength=len(confessors))
        ev.set("named", confessors, counts)
        named, namer_row = named[ok], namer_row[ok]
        # A suspect's case belongs to the operation of whoever named them, except that only
        # the elite (delegates, officers, officials) go before the Military Collegium.
        operation = ev["operation"][namer_row].copy()
        elite_case = (operation == OP["elite"]) & ~self._elite(pop, named)
        operation[elite_case] = OP["ordinary"]
        register.accuse(named, source=SRC["named"], operation=operation, rng=rng,
                        cause=namer_row)

    def _choose(self, sim: Sim, namer: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One name per entry of ``namer``: a contact, weighted toward the plausible."""
        pop = sim.population
        m = len(namer)
        layer = rng.choice(len(LAYERS), size=m, p=self.layer_p)
        chosen = np.full(m, -1, dtype=np.int64)
        todo = np.arange(m)
        for attempt in range(PLAUSIBILITY_ROUNDS):
            candidate = np.full(len(todo), -1, dtype=np.int64)
            lay = layer[todo]
            who = namer[todo]
            for code, draw in enumerate((pop.random_coworker, pop.random_household_member,
                                         pop.random_in_region, pop.random_patron_or_client)):
                sel = lay == code
                if np.any(sel):
                    candidate[sel] = draw(who[sel], rng)
            # people with no patron or clients name a coworker instead
            missing = candidate < 0
            if np.any(missing):
                candidate[missing] = pop.random_coworker(who[missing], rng)
            have = candidate >= 0
            accept = np.zeros(len(todo), dtype=bool)
            accept[have] = rng.random(int(have.sum())) < self._odds(pop, candidate[have]) / \
                self.max_odds
            last = attempt == PLAUSIBILITY_ROUNDS - 1
            take = accept | (last & have)
            chosen[todo[take]] = candidate[take]
            todo = todo[~take & have]
            if len(todo) == 0:
                break
        return chosen

    def _from_card_file(self, pop: Population, namer: np.ndarray, rng: np.random.Generator
                        ) -> np.ndarray:
        """One person of the card file of each namer's region (-1 where it is empty)."""
        region = pop.region_of(namer)
        lo, hi = self.card_bounds[region], self.card_bounds[region + 1]
        pick = lo + (rng.random(len(region)) * (hi - lo)).astype(np.int64)
        found = np.full(len(namer), -1, dtype=np.int64)
        has = hi > lo
        found[has] = pop.card_file[np.minimum(pick[has], len(pop.card_file) - 1)]
        return found

    @staticmethod
    def _elite(pop: Population, ids: np.ndarray) -> np.ndarray:
        occupation = pop.occupation[ids]
        return (((pop.flags[ids] & FLAG["delegate"]) > 0) | (occupation == OCC["officer"])
                | np.isin(occupation, OFFICIALS))

    def _odds(self, pop: Population, ids: np.ndarray) -> np.ndarray:
        o = self.p.plausibility
        odds = np.ones(len(ids))
        odds[pop.taint[ids] > 0] *= o["tainted"]
        odds[np.isin(pop.occupation[ids], OFFICIALS)] *= o["official"]
        odds[(pop.flags[ids] & FLAG["party"]) > 0] *= o["party"]
        odds[(pop.flags[ids] & FLAG["card_file"]) > 0] *= o["card_file"]
        return odds
