"""Calibration: fit chosen parameters to chosen historical figures with ABC-SMC (pyabc).

A calibration config (TOML) names the scenario to start from, the scale to run at, the seeds
each evaluation averages over, the historical figures to fit (``targets``, keys of
``data/history.csv`` that :mod:`purgesim.history` can compute), and a uniform prior range for
each parameter (dotted scenario paths). ``purgesim calibrate CONFIG`` then runs approximate
Bayesian computation by sequential Monte Carlo:

- with ``--workers 1`` in this process, reproducibly (same config, same result);
- by default on a local Dask cluster, one worker per core;
- with ``--scheduler ADDRESS`` on an existing Dask cluster.

Progress is kept in a SQLite database in the output folder; running the same command again
resumes an interrupted calibration from its last finished generation. The output folder gets
``posterior.parquet`` (the last generation's particles, weights and distances), ``fit.json``
(posterior medians, 90% intervals, the distance reached, the best particle) and
``scenario.toml`` (the base scenario with the best particle's values), each written atomically.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from purgesim.history import BY_KEY
from purgesim.results import _atomic
from purgesim.scenario import ScenarioError, load_scenario

SHIPPED = resources.files("purgesim.calibrations")


class CalibrationError(RuntimeError):
    """The sampler stopped; the generations finished so far are kept in the database."""


class Abc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    population_size: Annotated[int, Field(ge=2)] = 40
    generations: Annotated[int, Field(ge=1)] = 6
    min_epsilon: Annotated[float, Field(ge=0.0)] = 0.0
    """Stop early once the acceptance threshold (mean relative error) falls below this."""
    seed: Annotated[int, Field(ge=0)] = 0
    transition: Literal["normal", "local"] = "normal"
    """How particles are perturbed: one multivariate normal fitted to the whole population, or
    'local' normals fitted to each particle's nearest neighbours (pyabc LocalTransition), which
    follows a curved, correlated posterior without collapsing the weights onto a few particles."""
    kernel_scaling: Annotated[float, Field(gt=0.0)] = 1.0
    """Multiplies the perturbation kernel's covariance; above 1 explores more widely."""


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    description: str = ""
    scenario: str
    scale: Annotated[int, Field(ge=1)]
    seeds: Annotated[list[int], Field(min_length=1)]
    targets: Annotated[list[str], Field(min_length=1)]
    parameters: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]]
    """Uniform prior of each parameter: [low, high]."""
    abc: Abc = Abc()

    @field_validator("targets")
    @classmethod
    def _known_targets(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in BY_KEY]
        if unknown:
            raise ValueError(f"unknown targets {unknown}; allowed: {sorted(BY_KEY)}")
        return value

    @field_validator("parameters")
    @classmethod
    def _ranges(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        if not value:
            raise ValueError("no parameters to fit")
        for name, (low, high) in value.items():
            if not low < high:
                raise ValueError(f"parameters.{name} = [{low}, {high}]: allowed: low < high")
        return value


def load_config(ref: str | Path) -> tuple[str, CalibrationConfig]:
    """(label, config) from a shipped calibration name or a path; checks that every parameter
    path exists in the scenario and that its whole prior range is valid there."""
    ref = str(ref)
    entry = SHIPPED.joinpath(f"{ref}.toml")
    if "/" not in ref and not ref.endswith(".toml") and entry.is_file():
        label, text = f"{ref} (shipped)", entry.read_text(encoding="utf-8")
    else:
        path = Path(ref)
        if not path.is_file():
            raise ScenarioError([f"{ref}: no such calibration config"])
        label, text = str(path), path.read_text(encoding="utf-8")
    try:
        config = CalibrationConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: not valid TOML: {exc}"]) from None
    except ValidationError as exc:
        raise ScenarioError([
            f"{label}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)]) from None
    problems = []
    for name, (low, high) in config.parameters.items():
        for value in (low, high):
            try:
                load_scenario(config.scenario, scale=config.scale, **overrides({name: value}))
            except ScenarioError as exc:
                problems += [f"{label}: parameters.{name} = {value}: {p}" for p in exc.problems]
    if problems:
        raise ScenarioError(problems)
    return label, config


def overrides(params: dict[str, float]) -> dict[str, float]:
    """Dotted parameter paths as :func:`load_scenario` overrides."""
    return {name.replace(".", "__"): float(value) for name, value in params.items()}


class Model:
    """The simulator as pyabc sees it: parameters in, target figures out (picklable for Dask)."""

    def __init__(self, config: CalibrationConfig):
        self.config = config

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        from purgesim.run import run

        c = self.config
        values = {t: 0.0 for t in c.targets}
        for seed in c.seeds:
            result = run(c.scenario, scale=c.scale, seed=seed, **overrides(dict(params)))
            for t in c.targets:
                values[t] += BY_KEY[t].compute(result) / len(c.seeds)
        return values


def distance(simulated: dict[str, float], observed: dict[str, float]) -> float:
    """Mean absolute relative error over the targets."""
    return float(np.mean([abs(simulated[k] - v) / abs(v) for k, v in observed.items()]))


def observed(config: CalibrationConfig) -> dict[str, float]:
    from purgesim import datasets

    return {t: datasets.figure(t) for t in config.targets}


def calibrate(config: CalibrationConfig, out: Path, workers: int | None = None,
              scheduler: str | None = None, config_ref: str = "") -> dict[str, Any]:
    """Run (or resume) the calibration; write the results into ``out``; return the fit."""
    import pyabc

    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "calibration.db"
    prior = pyabc.Distribution(**{
        name: pyabc.RV("uniform", low, high - low)
        for name, (low, high) in config.parameters.items()})
    client = cluster = None
    if scheduler is None and workers == 1:
        sampler = pyabc.sampler.SingleCoreSampler()
    else:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or _cores(), threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            client = Client(cluster)
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    try:
        np.random.seed(config.abc.seed)  # noqa: NPY002 - pyabc draws from numpy's global RNG
        transition = (pyabc.transition.LocalTransition(scaling=config.abc.kernel_scaling)
                      if config.abc.transition == "local" else
                      pyabc.transition.MultivariateNormalTransition(
                          scaling=config.abc.kernel_scaling))
        abc = pyabc.ABCSMC(Model(config), prior, distance, transitions=transition,
                           population_size=config.abc.population_size, sampler=sampler)
        db = f"sqlite:///{db_path}"
        history = _resume(pyabc, abc, db, config)
        done = history.max_t + 1 if history.max_t is not None else 0
        remaining = config.abc.generations - done
        if remaining > 0:
            try:
                history = abc.run(max_nr_populations=remaining,
                                  minimum_epsilon=config.abc.min_epsilon)
            except (AssertionError, ValueError, np.linalg.LinAlgError) as exc:
                # e.g. "population total weight nan": the weights collapsed
                raise CalibrationError(
                    f"the sampler stopped after generation {abc.history.max_t}: {exc}. The "
                    f"finished generations are kept in {db_path}; a wider kernel "
                    "(abc.kernel_scaling), abc.transition = 'local' or a larger population "
                    "helps against collapsing weights") from exc
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return write_results(history, config, out, config_ref)


def _resume(pyabc: Any, abc: Any, db: str, config: CalibrationConfig) -> Any:
    """Continue the run stored in ``db`` if there is one, else start a new one."""
    try:
        previous = pyabc.History(db)
        runs = previous.all_runs()
    except Exception:  # noqa: BLE001 - no database yet, or not a pyabc one
        runs = []
    if runs:
        run_id = runs[-1].id
        abc.load(db, run_id)
        return abc.history
    abc.new(db, observed(config))
    return abc.history


def _cores() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]
                       ) -> list[float]:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(np.searchsorted(cum, q), len(v) - 1)]) for q in qs]


def write_results(history: Any, config: CalibrationConfig, out: Path,
                  config_ref: str) -> dict[str, Any]:
    """posterior.parquet (the last generation: each particle's parameters, weight and distance),
    fit.json (each parameter's posterior median, mean and 90% interval, and the best particle)
    and scenario.toml (the base scenario with the best particle's values).

    The scenario gets the best-fitting particle, not the marginal medians: when the targets pin
    down only combinations of parameters (a ridge), the medians taken one by one form a point
    off the ridge that no particle holds, and it fits worse than the particles do."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import tomli_w

    particles = history.get_population().particles
    weights = np.array([p.weight for p in particles], dtype=float)
    weights /= weights.sum()
    distances = np.array([p.distance for p in particles], dtype=float)
    columns = {name: np.array([p.parameter[name] for p in particles], dtype=float)
               for name in config.parameters}
    best = int(np.argmin(distances))
    fit: dict[str, Any] = {"generations": int(history.max_t) + 1,
                           "population_size": config.abc.population_size,
                           "epsilon": float(history.get_all_populations()["epsilon"].iloc[-1]),
                           "effective_sample_size": float(1.0 / np.sum(weights**2)),
                           "best": {"distance": float(distances[best]),
                                    "parameters": {n: float(v[best]) for n, v in columns.items()}},
                           "parameters": {}}
    for name, values in columns.items():
        p05, median, p95 = weighted_quantiles(values, weights, (0.05, 0.5, 0.95))
        fit["parameters"][name] = {"median": median, "p05": p05, "p95": p95,
                                   "mean": float(np.average(values, weights=weights)),
                                   "best": float(values[best])}
    table = pa.table({**columns, "weight": weights, "distance": distances})
    _atomic(out / "posterior.parquet", lambda p: pq.write_table(table, p))
    _atomic(out / "fit.json", lambda p: Path(p).write_text(json.dumps(fit, indent=2) + "\n"))
    scenario: dict[str, Any] = {"base": config.scenario, "calibration": config_ref}
    for name, value in fit["best"]["parameters"].items():
        node = scenario
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = round(value, 6)
    _atomic(out / "scenario.toml", lambda p: Path(p).write_bytes(tomli_w.dumps(scenario).encode()))
    return fit


# ---------------------------------------------------------------------------------------------
# The shipped posterior: the particles behind the shipped parameters, for uncertainty over them
def posterior_path(ref: str) -> Path | None:
    """The posterior file shipped beside calibration ``ref`` (``NAME.posterior.parquet``)."""
    entry = SHIPPED.joinpath(f"{ref}.posterior.parquet")
    return Path(str(entry)) if entry.is_file() else None


def posterior_draws(path: Path, k: int, seed: int) -> list[dict[str, float]]:
    """``k`` parameter sets drawn (with replacement, by weight) from a posterior file,
    reproducibly for a given ``seed``."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = [n for n in table.column_names if n not in ("weight", "distance")]
    weights = np.asarray(table["weight"], dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(weights), size=k, p=weights / weights.sum())
    columns = {n: np.asarray(table[n], dtype=float) for n in names}
    return [{n: float(columns[n][i]) for n in names} for i in picks]


def shipped_values(config: CalibrationConfig) -> dict[str, float]:
    """The values the config's scenario ships for each fitted parameter."""
    sc = load_scenario(config.scenario).model_dump()
    values = {}
    for name in config.parameters:
        node: Any = sc
        for part in name.split("."):
            node = node[part]
        values[name] = float(node)
    return values
