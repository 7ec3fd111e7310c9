"""The synthetic Soviet population of 1937 (MODEL.md section 2).

- :mod:`~purgesim.population.params`: the scenario's ``[population]`` table (pydantic);
- :mod:`~purgesim.population.people`: :class:`Population`, the struct of arrays, with its
  lookups and contact draws;
- :mod:`~purgesim.population.build`: :func:`build_population`, a list of named steps;
- :mod:`~purgesim.population.sizes`: block sizes that add up exactly;
- :mod:`~purgesim.population.blocks`: blocks of contiguous ids (find, list, draw within);
- :mod:`~purgesim.population.kernels`: the compiled single passes, compiled on first call.

Importing the package does not load numba (the kernels compile when first called), so that
validating a scenario, which needs :class:`PopulationParams`, stays cheap.
"""

from purgesim.population.blocks import uniform_in_blocks
from purgesim.population.build import build_population
from purgesim.population.params import PopulationParams, WorkplaceKind
from purgesim.population.people import Population

__all__ = [
    "Population", "PopulationParams", "WorkplaceKind", "build_population", "uniform_in_blocks",
]
