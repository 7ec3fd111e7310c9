"""Sweeps: a design over scenario parameters (a grid, a Latin hypercube or Saltelli/Sobol
samples), times seeds, run on a Dask cluster into a resumable folder of Parquet rows.

- :mod:`~purgesim.sweeps.config`: the design config (TOML, pydantic), checked against the
  scenario's schema; the shipped designs (``smoke``, ``safeguards``) live beside it;
- :mod:`~purgesim.sweeps.design`: the points of a design, as codes per parameter;
- :mod:`~purgesim.sweeps.store`: the folder, its atomic part files and what is missing;
- :mod:`~purgesim.sweeps.runner`: :func:`sweep`, which runs what is missing;
- :mod:`~purgesim.sweeps.discovery`: which combinations of parameters keep an outcome under a
  threshold (scenario discovery with a decision tree).
"""

from purgesim.sweeps.config import (
    Factor,
    Spec,
    SweepConfig,
    config_hash,
    load_config,
    read_config,
    shipped_designs,
)
from purgesim.sweeps.runner import Outcome, SweepError, figures, run_point, sweep
from purgesim.sweeps.store import SweepDirError, manifest, read_results

__all__ = [
    "Factor", "Outcome", "Spec", "SweepConfig", "SweepDirError", "SweepError", "config_hash",
    "figures", "load_config", "manifest", "read_config", "read_results", "run_point",
    "shipped_designs", "sweep",
]
