"""purgesim: an agent-based simulator of the machinery of Soviet mass repression, 1936-39.

>>> import purgesim as ps
>>> ps.run("great-terror", scale=1000).summary()["totals"]["arrested"]  # doctest: +SKIP

The names below are imported when first used, so that ``import purgesim`` (and a quick
command such as ``purgesim check``) does not load numba, pyarrow or the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# `run` is bound now: the submodule purgesim.run would otherwise shadow it once imported
from purgesim.run import run

__version__ = "0.1.0"

_LAZY = {
    "CoreParams": "purgesim.core", "CoreResult": "purgesim.core", "run_core": "purgesim.core",
    "Sim": "purgesim.engine.sim",
    "Population": "purgesim.population", "build_population": "purgesim.population",
    "Result": "purgesim.results",
    "Scenario": "purgesim.scenario", "ScenarioError": "purgesim.scenario",
    "load_scenario": "purgesim.scenario", "shipped_scenarios": "purgesim.scenario",
}

__all__ = [
    "CoreParams", "CoreResult", "Population", "Result", "Scenario", "ScenarioError", "Sim",
    "__version__", "build_population", "load_scenario", "run", "run_core", "shipped_scenarios",
]

if TYPE_CHECKING:
    from purgesim.core import CoreParams, CoreResult, run_core
    from purgesim.engine.sim import Sim
    from purgesim.population import Population, build_population
    from purgesim.results import Result
    from purgesim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'purgesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # once found, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
