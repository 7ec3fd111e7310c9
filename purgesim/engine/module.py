"""The lifecycle every mechanism follows (after Starsim's modules).

A mechanism is built with its parameters, sets up its state in ``init`` once the simulation's
base states exist, acts in ``step`` each week, and tidies up in ``finalize``. Mechanisms never
talk through loose attributes: what they share is a typed object with one owner. A mechanism
names the types it creates in ``provides`` (and hands each instance to
:meth:`~purgesim.engine.sim.Sim.provide` in ``init``) and the types it reads in ``needs``
(and gets them with :meth:`~purgesim.engine.sim.Sim.get`). The simulation checks before the
first week that every need is met by a base state or by a mechanism earlier in the week. Each
mechanism draws its random numbers from its own stream (``sim.rng(self.name)``).
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
    provides: ClassVar[tuple[type, ...]] = ()
    """Types of the shared states this mechanism creates in ``init`` (one owner each)."""
    needs: ClassVar[tuple[type, ...]] = ()
    """Types of the shared states this mechanism reads; each must be provided earlier."""

    def init(self, sim: Sim) -> None:  # noqa: B027 - optional hook
        """Set up state once the base states exist; :meth:`Sim.provide` what it provides."""

    def step(self, sim: Sim) -> None:
        raise NotImplementedError

    def finalize(self, sim: Sim) -> None:  # noqa: B027 - optional hook
        """Called once after the last week."""
