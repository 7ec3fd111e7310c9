"""The engine's simulation: a weekly clock, a calendar of named events, random streams, typed
shared states, weekly series, and mechanisms called in a fixed, printable order.

Nothing here knows what is simulated. A model subclasses :class:`Sim`: its :meth:`Sim.setup`
builds the base states every mechanism may read (say, a population) and hands them to
:meth:`Sim.provide`; :meth:`Sim.begin_week` and :meth:`Sim.end_week` do its own bookkeeping
around the mechanisms; :meth:`Sim.finish` turns the finished run into the model's result.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from purgesim.engine.module import Mechanism
from purgesim.engine.random import stream

T = TypeVar("T")


class OrderError(ValueError):
    """A mechanism list that cannot run: a need without a provider before it, or a state with
    two owners. The message names the mechanism and what is missing."""


class Sim:
    """The clock and the loop; build with mechanisms, ``run()`` them week by week."""

    end_of_week: str | None = None
    """One line for the loop table describing :meth:`end_week`, if it does anything."""

    def __init__(self, mechanisms: Sequence[Mechanism], *, start: dt.date, weeks: int, seed: int,
                 calendar: Mapping[str, int | None] | None = None, groups: int = 1):
        self.mechanisms: list[Mechanism] = list(mechanisms)
        self.start = start
        self.weeks = weeks
        self.seed = seed
        self.calendar = dict(calendar or {})
        """Week index (0-based) at which each named event takes effect; None: never."""
        self.groups = groups
        """Columns of every weekly series (a model's regions, say); set before series exist."""
        self.week = 0
        self.timings: dict[str, float] = {}
        self.series: dict[str, np.ndarray] = {}
        """Weekly series, weeks x groups, in the order they were defined."""
        self.initialized = False
        self._states: dict[type, object] = {}

    # ------------------------------------------------------------------ clock and randomness
    def date(self, week: int | None = None) -> dt.date:
        return self.start + dt.timedelta(weeks=self.week if week is None else week)

    def rng(self, name: str, *keys: int) -> np.random.Generator:
        """The stream of ``name`` (a mechanism) for this week, and optional sub-keys."""
        return stream(self.seed, name, self.week, *keys)

    def event_week(self, event: str | None) -> int | None:
        return None if event is None else self.calendar.get(event)

    def active(self, event: str | None) -> bool:
        """Whether a calendar event has happened by this week (False if disabled or absent)."""
        week = self.event_week(event)
        return week is not None and self.week >= week

    # ------------------------------------------------------------------ shared states
    def provide(self, state: object) -> None:
        """Register a shared state under its type (once: a state has one owner)."""
        kind = type(state)
        if kind in self._states:
            raise OrderError(f"{kind.__name__} is provided twice; allowed: one owner per state")
        self._states[kind] = state

    def get(self, kind: type[T]) -> T:
        """The shared state of type ``kind``."""
        try:
            return self._states[kind]  # type: ignore[return-value]
        except KeyError:
            raise OrderError(f"no {kind.__name__} has been provided; declare it in the "
                             "reading mechanism's `needs`, and provide it earlier") from None

    def check_order(self) -> None:
        """Every need of every mechanism is met by a base state or by a mechanism before it;
        no state has two owners. Raises :class:`OrderError` with one clear line."""
        owner: dict[type, str] = {}
        for mech in self.mechanisms:
            for kind in mech.provides:
                if kind in self._states or kind in owner:
                    first = owner.get(kind, "the simulation's base states")
                    raise OrderError(f"mechanism {mech.name!r} provides {kind.__name__}, which "
                                     f"{first} already provides; allowed: one owner per state")
                owner[kind] = mech.name
        have = set(self._states)
        order = ", ".join(m.name for m in self.mechanisms)
        for mech in self.mechanisms:
            for kind in mech.needs:
                if kind not in have:
                    why = (f"{owner[kind]!r} provides it but comes later" if kind in owner
                           else "no mechanism in the list provides it")
                    raise OrderError(f"mechanism {mech.name!r} needs {kind.__name__}, which "
                                     f"nothing before it in the week provides: {why} "
                                     f"(order: {order})")
            have.update(mech.provides)

    # ------------------------------------------------------------------ weekly series
    def define_series(self, *names: str, dtype: type = np.int64) -> None:
        """Weekly series (weeks x groups, zeros) that a mechanism records."""
        for name in names:
            if name in self.series:
                raise OrderError(f"weekly series {name!r} is defined twice")
            self.series[name] = np.zeros((self.weeks, self.groups), dtype=dtype)

    # ------------------------------------------------------------------ lifecycle
    def setup(self) -> None:  # noqa: B027 - optional hook
        """Build and :meth:`provide` the base states (the model's; nothing here)."""

    def begin_week(self) -> None:  # noqa: B027 - optional hook
        """Before the mechanisms of a week."""

    def end_week(self) -> None:  # noqa: B027 - optional hook
        """After the mechanisms of a week."""

    def finish(self) -> Any:
        """What :meth:`run` returns (the model's result; here, the simulation itself)."""
        return self

    def init(self) -> Sim:
        """Set up the base states, check the order of the mechanisms, and set them up."""
        self.setup()
        self.check_order()
        for mech in self.mechanisms:
            t0 = time.perf_counter()
            mech.init(self)
            self.timings[mech.name] = time.perf_counter() - t0
            missing = [k.__name__ for k in mech.provides if k not in self._states]
            if missing:
                raise OrderError(f"mechanism {mech.name!r} declares that it provides "
                                 f"{', '.join(missing)} but did not provide it in init")
        self.initialized = True
        return self

    def run(self, progress: Callable[[int, int], None] | None = None) -> Any:
        """Run every week and return :meth:`finish`."""
        if not self.initialized:
            self.init()
        for week in range(self.weeks):
            self.week = week
            self.begin_week()
            for mech in self.mechanisms:
                t0 = time.perf_counter()
                mech.step(self)
                self.timings[mech.name] = self.timings.get(mech.name, 0.0) + (
                    time.perf_counter() - t0)
            self.end_week()
            if progress is not None:
                progress(week + 1, self.weeks)
        for mech in self.mechanisms:
            mech.finalize(self)
        return self.finish()

    # ------------------------------------------------------------------ the printable loop
    def loop_table(self) -> str:
        lines = ["week loop (each week, in this order):"]
        for i, mech in enumerate(self.mechanisms, 1):
            lines.append(f"  {i:>2}. {mech.name:<14} {mech.does}")
        if self.end_of_week is not None:
            lines.append(f"  {len(self.mechanisms) + 1:>2}. {'record':<14} {self.end_of_week}")
        return "\n".join(lines)
