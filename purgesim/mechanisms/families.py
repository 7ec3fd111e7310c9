"""Mechanism 8, families and hostages (MODEL.md section 3).

Order 00486 (15 Aug 1937) had the wives of men convicted as "traitors to the motherland" by the
Military Collegium and the military tribunals arrested and their children taken, until Order
00689 (17 Oct 1938) ended the automatic arrests. Not every convict counted: the mass of Order
00447's victims did not, so a "traitor" here is a convict of one of ``traitor_operations`` (the
Military Collegium's lists: the elite operation) or of ``traitor_occupations`` (the military
tribunals: officers). Each week, while the order is in force, a share of this week's traitors
have another member of their household arrested directly; sentencing gives family cases
camp, not death.

The essay adds hostages: "Molotov's own wife was imprisoned ... held as a kind of hostage to
his continued service". Relatives of senior officials (republic-level officials and the Central
Committee) who are still free are arrested at a low weekly rate, from the same order to the end
of the run: Order 00689 ended the automatic arrests of wives, not the holding of relatives
(Kalinin's wife was arrested in late 1938, Molotov's in 1949).

The population has no sex or age, so the "wife" is another member of the household, whoever
that is: the one person the model can arrest in her place. Household members are ordinary
agents (weight ``scale``); the relative of a weight-1 member of the elite is taken with
probability 1 / ``scale``, so that the expected count of real people arrested is right at every
scale. Arrests of a relative have no parent in the event table (a parent is someone who named
you); the link to the convicted man is kept in :attr:`Families.links` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Sentences
from purgesim.params import After, EventId, Occupation, OperationName, Probability, Section
from purgesim.vocab import FLAG, OCC, OP, SENT, SRC

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

RELATIVE_ROUNDS = 4  # tries at finding a free relative other than the man himself
WIVES, HOSTAGES = 0, 1  # sub-streams, so moving Order 00689 leaves the hostage draws alone

class FamiliesParams(Section):
    """The ``[families]`` table, mechanism 8: wives of 'traitors' (Order 00486) and relatives held as hostages."""

    enabled: bool
    start: EventId | None = "order_00486"
    end: Annotated[EventId | None, After("start")] = "order_00689"
    wife_arrest_probability: Probability
    """Probability that a convicted 'traitor' has a wife (an adult household member) arrested."""
    traitor_operations: list[OperationName]
    """Convicts of these operations (the Military Collegium's) count as traitors."""
    traitor_occupations: list[Occupation]
    """Convicts of these occupations (military tribunals: officers) count as traitors too."""
    hostage_rate: Probability
    """Weekly probability that a relative of a senior official is held to enforce obedience."""



class Families(Mechanism):
    name = "families"
    does = "Order 00486: wives of convicted 'traitors' arrested; relatives of senior officials held"
    sections = {"families": FamiliesParams}
    needs = (Sentences,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.families
        self.traitor_operations = np.array([OP[n] for n in self.p.traitor_operations], dtype=int)
        self.traitor_occupations = np.array([OCC[n] for n in self.p.traitor_occupations],
                                            dtype=int)
        ordinary = scenario.operations.get("ordinary")
        # wives went before the NKVD's Special Board, paced like ordinary cases
        self.lag = ordinary.sentence_lag_weeks if ordinary is not None else 4.0
        self._wives: list[np.ndarray] = []
        self._husbands: list[np.ndarray] = []

    def init(self, sim: Sim) -> None:
        pop = sim.population
        self.sentences = sim.get(Sentences)
        sim.define_series("wives_arrested", "hostages_held")
        if not self.p.enabled:
            return
        # once, O(N); a sparse set afterwards
        self.seniors = pop.ids_where(occupations=(OCC["official_republic"],),
                                     flags=FLAG["cc_member"])

    @property
    def links(self) -> tuple[np.ndarray, np.ndarray]:
        """Event rows of the arrested wives and of the convicted men they were taken for."""
        if not self._wives:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(self._wives), np.concatenate(self._husbands)

    def step(self, sim: Sim) -> None:
        p = self.p
        if not p.enabled or (p.start is not None and not sim.active(p.start)):
            return
        if p.end is None or not sim.active(p.end):
            self._arrest_wives(sim, sim.rng(self.name, WIVES))
        self._take_hostages(sim, sim.rng(self.name, HOSTAGES))

    # ------------------------------------------------------------------ Order 00486
    def _arrest_wives(self, sim: Sim, rng: np.random.Generator) -> None:
        rows = self.sentences.rows
        if len(rows) == 0 or self.p.wife_arrest_probability <= 0.0:
            return
        ev = sim.register.events
        sentence = ev["sentence"][rows]
        convicted = (sentence == SENT["cat1"]) | (sentence == SENT["cat2"])
        traitor = (np.isin(ev["operation"][rows], self.traitor_operations)
                   | np.isin(ev["occupation"][rows], self.traitor_occupations))
        # a wife convicted under the order is a 'family member of a traitor', not a traitor
        traitor &= ev["source"][rows] != SRC["family"]
        rows = rows[convicted & traitor]
        rows = rows[rng.random(len(rows)) < self.p.wife_arrest_probability]
        if len(rows) == 0:
            return
        husbands = ev["person"][rows]
        wives, keep = self._relatives(sim, husbands, ev["weight"][rows], rng)
        arrested = self._arrest(sim, wives, rows[keep], rng)
        if arrested is not None:
            wife_rows, husband_rows = arrested
            self._wives.append(wife_rows)
            self._husbands.append(husband_rows)
            sim.register.record("wives_arrested", wife_rows)

    # ------------------------------------------------------------------ hostages
    def _take_hostages(self, sim: Sim, rng: np.random.Generator) -> None:
        if self.p.hostage_rate <= 0.0 or len(self.seniors) == 0:
            return
        k = int(rng.binomial(len(self.seniors), self.p.hostage_rate))
        if k == 0:
            return
        officials = np.unique(self.seniors[rng.integers(0, len(self.seniors), k)])
        officials = officials[sim.register.free(officials)]  # a hostage for one still serving
        if len(officials) == 0:
            return
        weight = sim.population.weight(officials)
        relatives, _ = self._relatives(sim, officials, weight, rng)
        rows = sim.register.arrest(np.unique(relatives), operation=OP["ordinary"],
                                   source=SRC["family"], lag_weeks=self.lag, rng=rng)
        sim.register.record("hostages_held", rows)

    # ------------------------------------------------------------------ helpers
    def _relatives(self, sim: Sim, men: np.ndarray, weight: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A free household member other than each man (a few tries; none in a household of
        one), thinned by weight so that real people are counted right. Returns the relatives
        and the mask of the men who have one."""
        pop = sim.population
        found = np.full(len(men), -1, dtype=np.int64)
        todo = np.arange(len(men))
        for _ in range(RELATIVE_ROUNDS):
            candidate = pop.random_household_member(men[todo], rng)
            ok = (candidate != men[todo]) & sim.register.free(candidate)
            found[todo[ok]] = candidate[ok]
            todo = todo[~ok]
            if len(todo) == 0:
                break
        has = found >= 0
        ratio = np.ones(len(men))
        ratio[has] = np.minimum(1.0, weight[has] / pop.weight(found[has]))
        has &= rng.random(len(men)) < ratio
        return found[has], has

    def _arrest(self, sim: Sim, wives: np.ndarray, husband_rows: np.ndarray,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Arrest each wife once (two convicts of one household may share her)."""
        if len(wives) == 0:
            return None
        wives, first = np.unique(wives, return_index=True)
        husband_rows = husband_rows[first]
        free = sim.register.free(wives)
        wives, husband_rows = wives[free], husband_rows[free]
        rows = sim.register.arrest(wives, operation=OP["ordinary"], source=SRC["family"],
                                   lag_weeks=self.lag, rng=rng)
        if len(rows) == 0:
            return None
        return rows, husband_rows
