"""purgesim: an agent-based simulator of the machinery of Soviet mass repression, 1936-39.

>>> import purgesim as ps
>>> ps.run("great-terror", scale=1000).summary()["totals"]["arrested"]  # doctest: +SKIP
"""

from purgesim.core import CoreParams, CoreResult, run_core
from purgesim.engine.sim import Sim
from purgesim.population import Population, build_population
from purgesim.results import Result
from purgesim.run import run
from purgesim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

__version__ = "0.1.0"

__all__ = [
    "CoreParams", "CoreResult", "Population", "Result", "Scenario", "ScenarioError", "Sim",
    "__version__", "build_population", "load_scenario", "run", "run_core", "shipped_scenarios",
]
