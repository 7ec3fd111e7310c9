"""The generic machinery of a weekly agent-based simulation: clock, calendar, random streams,
typed shared states, weekly series, event tables, queues and lazily compiled kernels. Nothing
here knows what is simulated; :mod:`purgesim.sim` builds the NKVD model on it."""

from purgesim.engine.module import Mechanism
from purgesim.engine.sim import OrderError, Sim

__all__ = ["Mechanism", "OrderError", "Sim"]
