"""purgesim: an agent-based simulator of the machinery of Soviet mass repression, 1936-39.

>>> import purgesim as ps
>>> ps.run("great-terror", scale=1000).summary()["totals"]["arrested"]  # doctest: +SKIP

The names below are loaded on first use, so that ``import purgesim`` (and ``purgesim check``)
does not pay for what it does not use: the simulation's kernels, say, or the reports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from purgesim.version import __version__

if TYPE_CHECKING:
    from purgesim.core import CoreParams, CoreResult, run_core
    from purgesim.engine import OrderError
    from purgesim.population import Population, build_population
    from purgesim.results import Result
    from purgesim.scenario import (
        Scenario,
        ScenarioError,
        load_scenario,
        shipped_scenarios,
        with_overrides,
    )
    from purgesim.sim import Sim, run

_WHERE = {
    "CoreParams": "purgesim.core", "CoreResult": "purgesim.core", "run_core": "purgesim.core",
    "OrderError": "purgesim.engine",
    "Population": "purgesim.population", "build_population": "purgesim.population",
    "Result": "purgesim.results",
    "Scenario": "purgesim.scenario", "ScenarioError": "purgesim.scenario",
    "load_scenario": "purgesim.scenario", "shipped_scenarios": "purgesim.scenario",
    "with_overrides": "purgesim.scenario",
    "Sim": "purgesim.sim", "run": "purgesim.sim",
}

__all__ = [
    "CoreParams", "CoreResult", "OrderError", "Population", "Result", "Scenario", "ScenarioError",
    "Sim", "__version__", "build_population", "load_scenario", "run", "run_core",
    "shipped_scenarios", "with_overrides",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'purgesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return __all__
