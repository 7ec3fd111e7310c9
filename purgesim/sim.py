"""The simulation of one scenario: the engine's clock and loop, with the population and the
NKVD's books as base states and the mechanisms of MODEL.md section 3 in their weekly order.

>>> import purgesim as ps
>>> sim = ps.Sim(ps.load_scenario(scale=10_000))
>>> print(sim.loop_table())            # the order of operations within a week
>>> result = sim.run()
>>> ps.run("great-terror", scale=1000).summary()["totals"]["arrested"]  # in one call
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from purgesim import engine
from purgesim.engine.module import Mechanism
from purgesim.mechanisms import default_mechanisms
from purgesim.memory import agents_for_scale, check_fits
from purgesim.model.register import Register
from purgesim.population import Population, build_population
from purgesim.results import Result
from purgesim.scenario import Scenario, load_scenario, with_overrides
from purgesim.vocab import EVENTS


class Sim(engine.Sim):
    """One run of one scenario. Build with a scenario; ``run()`` returns a :class:`Result`.

    ``mechanisms`` replaces the default list (:func:`purgesim.mechanisms.default_mechanisms`);
    a list in which a mechanism needs a state that nothing before it provides is refused by
    :meth:`init` with one line naming both.
    """

    end_of_week = "weekly series per region"

    def __init__(self, scenario: Scenario, mechanisms: Sequence[Mechanism] | None = None):
        super().__init__(
            default_mechanisms(scenario) if mechanisms is None else mechanisms,
            start=scenario.start, weeks=scenario.weeks, seed=scenario.seed,
            calendar={name: scenario.event_week(name) for name in scenario.calendar})
        self.scenario = scenario

    def event_week(self, event: str | None) -> int | None:
        """As the engine's, but a name that is no calendar event at all is a programming error
        (a typo would otherwise read as an event that never happens)."""
        if event is not None and event not in EVENTS:
            raise ValueError(f"{event!r} is not a calendar event; allowed: one of {EVENTS}")
        return super().event_week(event)

    @property
    def population(self) -> Population:
        return self.get(Population)

    @property
    def register(self) -> Register:
        return self.get(Register)

    def setup(self) -> None:
        """Build the population and open the books. Refuses up front (raising
        :class:`purgesim.memory.WontFit`) a scale that would not fit in the memory available."""
        check_fits(agents_for_scale(self.scenario.scale), scale=self.scenario.scale)
        t0 = time.perf_counter()
        population = build_population(self.scenario)
        self.timings["build population"] = time.perf_counter() - t0
        self.groups = population.n_regions
        self.provide(population)
        evidence = self.scenario.evidence
        self.provide(Register(self, population, evidence.by_source, evidence.guilt_bonus,
                              evidence.noise))

    def begin_week(self) -> None:
        self.register.new_week()

    def end_week(self) -> None:
        self.register.close_week()

    def finish(self) -> Result:
        return Result(self.scenario, self.population, self.register.record_columns(),
                      self.series, dict(self.timings))


def run(scenario: str | Path | Scenario = "great-terror",
        progress: Callable[[int, int], None] | None = None, **overrides: Any) -> Result:
    """Load ``scenario`` (a shipped name, a path, or a Scenario), apply ``overrides`` such as
    ``scale=1000`` or ``seed=2``, run it, and return the :class:`Result`."""
    if isinstance(scenario, Scenario):
        scenario = with_overrides(scenario, **overrides)
    else:
        scenario = load_scenario(scenario, **overrides)
    return Sim(scenario).run(progress=progress)
