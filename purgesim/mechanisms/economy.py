"""Placeholder while the mechanism is being written (replaced before commit)."""

from __future__ import annotations

from purgesim.engine.module import Mechanism
from purgesim.scenario import Scenario


class Economy(Mechanism):
    name = "economy"
    does = "(being written)"

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def step(self, sim) -> None:  # noqa: ANN001
        return None
