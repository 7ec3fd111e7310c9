"""The reference core model (MODEL.md section 6) as a plain, idiomatic Mesa 3 model.

This is the "ordinary Mesa model" that ``purgesim.core.run_core`` is benchmarked against: one
``mesa.Agent`` per person, a ``mesa.Model`` holding the regions (with ``collections.deque``
suspect queues and card files), the model's own random generators, and a ``DataCollector``
for the weekly series.  It makes the same interpretation choices as ``purgesim/core.py``:

* ``W = ceil(N / s)`` workplaces (the last one smaller if ``s`` does not divide ``N``);
  workplace ``w`` is in region ``min(w // max(W // R, 1), R - 1)``;
* the weekly limit is ``math.floor(q * n_r / 1000)``;
* queue entries for people who are no longer free are dropped when they reach the head of
  the queue (``deque.popleft``), without using up the limit; the queue length counts entries;
* all of a region's arrests for the week are made before anyone is interrogated, so people
  arrested earlier that week cannot be named; "free" means never arrested;
* a confessor names a uniform sample of ``min(K, free coworkers)`` free coworkers.

Random numbers: the model's ``self.random`` (``random.Random``) for every uniform draw,
shuffle and sample, and the model's numpy ``self.rng`` for the Poisson draw (the standard
library has no Poisson sampler).  Results therefore agree with purgesim's only statistically.

Run it as a script::

    python benchmarks/mesa_core.py --n 100000 --weeks 70 --seed 0

which prints one JSON object of totals (``arrests, from_queue, cat1, cat2,
innocent_convicted, released``) plus the in-process seconds.  Needs ``mesa>=3.3,<3.4``
(see ``benchmarks/requirements.txt``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import deque

import mesa

FREE = 0
CONVICTED = 1
RELEASED = 2

TOTAL_KEYS = ("arrests", "from_queue", "cat1", "cat2", "innocent_convicted", "released")


class Person(mesa.Agent):
    """One person: where they work, their record, and what happened to them."""

    def __init__(self, model: CoreModel, workplace: int, region: int, tainted: bool,
                 guilty: bool) -> None:
        super().__init__(model)
        self.workplace = workplace
        self.region = region
        self.tainted = tainted
        self.guilty = guilty
        self.status = FREE

    @property
    def free(self) -> bool:
        return self.status == FREE

    def free_coworkers(self) -> list[Person]:
        return [p for p in self.model.workplaces[self.workplace] if p.status == FREE]

    def interrogate(self) -> tuple[bool, list[Person]]:
        """Interrogate this (arrested) person: returns (confessed, the coworkers named)."""
        m = self.model
        rnd = m.random
        if rnd.random() < m.p_torture:
            p_confess = m.p_confess_tortured
        elif self.guilty:
            p_confess = m.p_confess_guilty
        else:
            p_confess = m.p_confess_innocent
        if rnd.random() >= p_confess:
            return False, []
        k = int(m.rng.poisson(m.names_mean))
        named: list[Person] = []
        if k > 0:
            candidates = self.free_coworkers()
            named = rnd.sample(candidates, min(k, len(candidates)))
        return True, named


class Region:
    """A region: its suspect queue, its card file (in shuffled order) and its weekly limit."""

    def __init__(self, index: int, limit: int, card_file: list[Person]) -> None:
        self.index = index
        self.limit = limit
        self.queue: deque[Person] = deque()
        self.card_file = card_file
        self.card_pos = 0

    def arrest_for_week(self) -> tuple[list[Person], int]:
        """This week's arrests, first from the queue then from the card file."""
        arrested: list[Person] = []
        queue = self.queue
        while len(arrested) < self.limit and queue:
            person = queue.popleft()
            if person.status == FREE:
                person.status = CONVICTED  # provisional: anything but free
                arrested.append(person)
        from_queue = len(arrested)
        card = self.card_file
        while len(arrested) < self.limit and self.card_pos < len(card):
            person = card[self.card_pos]
            self.card_pos += 1
            if person.status == FREE:
                person.status = CONVICTED
                arrested.append(person)
        return arrested, from_queue


class CoreModel(mesa.Model):
    """MODEL.md section 6 with the parameters of the specification."""

    def __init__(self, n: int = 100_000, seed: int | None = None, *, workplace_size: int = 100,
                 regions: int = 10, p_taint: float = 0.05, p_guilty: float = 1e-4,
                 q: float = 0.5, p_torture: float = 0.7, p_confess_tortured: float = 0.9,
                 p_confess_guilty: float = 0.5, p_confess_innocent: float = 0.1,
                 names_mean: float = 3.0, p_cat1_confessor: float = 0.5,
                 p_convict_nonconfessor: float = 0.3) -> None:
        super().__init__(seed=seed)
        self.n = n
        self.p_torture = p_torture
        self.p_confess_tortured = p_confess_tortured
        self.p_confess_guilty = p_confess_guilty
        self.p_confess_innocent = p_confess_innocent
        self.names_mean = names_mean
        self.p_cat1_confessor = p_cat1_confessor
        self.p_convict_nonconfessor = p_convict_nonconfessor

        n_workplaces = math.ceil(n / workplace_size)
        per_region = max(n_workplaces // regions, 1)
        self.workplaces: list[list[Person]] = [[] for _ in range(n_workplaces)]
        for i in range(n):
            w = i // workplace_size
            r = min(w // per_region, regions - 1)
            person = Person(self, w, r, self.random.random() < p_taint,
                            self.random.random() < p_guilty)
            self.workplaces[w].append(person)

        by_region = self.agents.groupby("region")
        self.regions: list[Region] = []
        for r in range(regions):
            members = by_region.groups.get(r)
            size = len(members) if members is not None else 0
            card = [] if members is None else list(members.select(lambda a: a.tainted))
            self.random.shuffle(card)
            self.regions.append(Region(r, math.floor(q * size / 1000), card))

        self.totals = dict.fromkeys(TOTAL_KEYS, 0)
        self.week: dict[str, int] = {}
        self.datacollector = mesa.DataCollector(model_reporters={
            key: (lambda m, key=key: m.week[key]) for key in (*TOTAL_KEYS, "queue_length")
        })

    def step(self) -> None:
        week = dict.fromkeys(TOTAL_KEYS, 0)
        for region in self.regions:
            arrested, from_queue = region.arrest_for_week()
            week["arrests"] += len(arrested)
            week["from_queue"] += from_queue
            for person in arrested:
                confessed, named = person.interrogate()
                if confessed:
                    region.queue.extend(named)
                    if self.random.random() < self.p_cat1_confessor:
                        week["cat1"] += 1
                    else:
                        week["cat2"] += 1
                    if not person.guilty:
                        week["innocent_convicted"] += 1
                elif self.random.random() < self.p_convict_nonconfessor:
                    week["cat2"] += 1
                    if not person.guilty:
                        week["innocent_convicted"] += 1
                else:
                    person.status = RELEASED
                    week["released"] += 1
        week["queue_length"] = sum(len(region.queue) for region in self.regions)
        self.week = week
        for key in TOTAL_KEYS:
            self.totals[key] += week[key]
        self.datacollector.collect(self)


def run_mesa_core(n: int, weeks: int = 70, seed: int = 0) -> dict[str, int]:
    """Build the model and run it ``weeks`` weeks; returns the totals."""
    model = CoreModel(n, seed=seed)
    for _ in range(weeks):
        model.step()
    return dict(model.totals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of agents")
    parser.add_argument("--weeks", type=int, default=70, help="weeks to run")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    totals = run_mesa_core(args.n, args.weeks, args.seed)
    seconds = time.perf_counter() - t0
    sys.stdout.write(json.dumps({**totals, "seconds": round(seconds, 4)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
