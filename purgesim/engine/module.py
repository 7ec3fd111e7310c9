"""The lifecycle every mechanism follows (after Starsim's modules).

A mechanism reads its parameters from the scenario when constructed, sets up its state in
``init`` once the population exists, acts in ``step`` each week, and tidies up in ``finalize``.
Mechanisms talk to each other only through the :class:`~purgesim.engine.sim.Sim` they are given
(its population, status array, event table, suspect queue, policy and weekly series), and each
draws its random numbers from its own stream (``sim.rng(self.name)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from purgesim.engine.sim import Sim


class Mechanism:
    """Base class of the weekly mechanisms."""

    name: ClassVar[str] = "mechanism"
    """Stable name: keys the random stream and labels the loop table and the profile."""
    does: ClassVar[str] = ""
    """One line for the printed loop order."""

    def init(self, sim: Sim) -> None:  # noqa: B027 - optional hook
        """Set up state once the population exists."""

    def step(self, sim: Sim) -> None:
        raise NotImplementedError

    def finalize(self, sim: Sim) -> None:  # noqa: B027 - optional hook
        """Called once after the last week."""
