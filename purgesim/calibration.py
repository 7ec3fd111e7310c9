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
resumes an interrupted calibration from its last finished generation, and with one worker goes
on exactly as the uninterrupted run would have. The output folder gets ``posterior.parquet``
(the last generation's particles, weights and distances), ``fit.json`` (posterior medians, 90%
intervals, the distance reached, the best particle and the shipped one) and ``scenario.toml``
(the base scenario with the shipped particle's values: see :func:`write_results`), each
written atomically.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from purgesim.cluster import dask_client
from purgesim.files import atomic_write, atomic_write_bytes, atomic_write_text, shipped_or_file
from purgesim.history import BY_KEY
from purgesim.problems import describe
from purgesim.scenario import ScenarioError, load_scenario
from purgesim.sweeps.config import current_value
from purgesim.sweeps.config import overrides as dotted_overrides

SHIPPED = resources.files("purgesim.calibrations")


class CalibrationError(RuntimeError):
    """The sampler stopped; the generations finished so far are kept in the database."""


class Abc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
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


class Selection(BaseModel):
    """How the shipped particle is chosen: every :func:`central` particle is rerun at this
    scale over these seeds (the sampler runs at a coarse scale for speed; a scenario ships at
    its own scale, where the same parameters give slightly different figures). Of those whose
    worst target error there is within ``tolerance``, the most central (:func:`depth`) ships;
    without a tolerance, or if none is within it, the one nearest the targets."""
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    scale: Annotated[int, Field(ge=1)]
    seeds: Annotated[list[int], Field(min_length=1)]
    tolerance: Annotated[float, Field(gt=0.0)] | None = None
    """Largest relative error on any target that a candidate may have at this scale."""


class CalibrationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    description: str = ""
    scenario: str
    scale: Annotated[int, Field(ge=1)]
    seeds: Annotated[list[int], Field(min_length=1)]
    targets: Annotated[list[str], Field(min_length=1)]
    tuned_by_hand: list[str] = []
    """Figures that parameters of the scenario outside this fit were set to by hand: reported
    as targets too, never as tests of the model."""
    parameters: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]]
    """Uniform prior of each parameter: [low, high]."""
    abc: Abc = Abc()
    selection: Selection | None = None
    """Without it, the shipped particle is the central one nearest the targets at ``scale``."""

    @field_validator("targets", "tuned_by_hand")
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
            groups = TIED.findall(name)
            names = [part.strip() for part in groups[0].split(",")] if groups else []
            if len(groups) > 1 or "" in names or len(set(names)) < len(names) or any(
                    "{" in path or "}" in path for path in paths(name)):
                raise ValueError(f"parameters.{name}: allowed: a dotted scenario path, with at "
                                 "most one {a,b,...} group of distinct names to tie several "
                                 "paths to one value")
        return value


def load_config(ref: str | Path) -> tuple[str, CalibrationConfig]:
    """(label, config) from a shipped calibration name or a path; checks that every parameter
    path exists in the scenario and that its whole prior range is valid there."""
    found = shipped_or_file(str(ref), SHIPPED)
    if found is None:
        raise ScenarioError([f"{ref}: no such calibration config"])
    label, text = found
    try:
        config = CalibrationConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: not valid TOML: {exc}"]) from None
    except ValidationError as exc:
        raise ScenarioError([f"{label}: {describe(e, CalibrationConfig)}"
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


TIED = re.compile(r"\{([^{}]*)\}")


def paths(name: str) -> list[str]:
    """The scenario paths a fitted parameter sets: its dotted path, or with one ``{a,b,...}``
    group, one path per alternative, all tied to the same value (one prior, one column), e.g.
    ``operations.{polish_00485,german_00439}.names_mean``."""
    group = TIED.search(name)
    if group is None:
        return [name]
    return [name[:group.start()] + part.strip() + name[group.end():]
            for part in group.group(1).split(",")]


def overrides(params: dict[str, float]) -> dict[str, float]:
    """Fitted parameters as :func:`load_scenario` overrides (a tied one sets all its paths)."""
    return dotted_overrides({path: float(value)
                             for name, value in params.items() for path in paths(name)})


class Model:
    """The simulator as pyabc sees it: parameters in, target figures out (picklable for Dask)."""

    def __init__(self, config: CalibrationConfig):
        self.config = config

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        from purgesim.sim import run

        c = self.config
        values = {t: 0.0 for t in c.targets}
        for seed in c.seeds:
            result = run(c.scenario, scale=c.scale, seed=seed, **overrides(dict(params)))
            summary = result.summary() if any(BY_KEY[t].compute is None for t in c.targets) \
                else {}
            for t in c.targets:
                values[t] += BY_KEY[t].value(result, summary) / len(c.seeds)
        return values


def relative_errors(simulated: dict[str, float], observed: dict[str, float]) -> np.ndarray:
    """Absolute relative error on each target, in the order of ``observed``."""
    return np.array([abs(simulated[k] - v) / abs(v) for k, v in observed.items()])


def distance(simulated: dict[str, float], observed: dict[str, float]) -> float:
    """Mean absolute relative error over the targets."""
    return float(np.mean(relative_errors(simulated, observed)))


def observed(config: CalibrationConfig) -> dict[str, float]:
    from purgesim import datasets

    return {t: datasets.figure(t) for t in config.targets}


def calibrate(config: CalibrationConfig, out: Path, workers: int | None = None,
              scheduler: str | None = None, config_ref: str = "") -> dict[str, Any]:
    """Run (or resume) the calibration; write the results into ``out``; return the fit."""
    import pyabc

    out.mkdir(parents=True, exist_ok=True)
    with dask_client(workers, scheduler) as client:
        if client is None:
            sampler = pyabc.sampler.SingleCoreSampler()
        else:
            sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
        try:
            return _generations(pyabc, config, out, sampler, client, config_ref)
        except KeyboardInterrupt:
            # the cluster's workers are stopped mid-run: their complaints are expected noise
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
            raise


def _generations(pyabc: Any, config: CalibrationConfig, out: Path, sampler: Any, client: Any,
                 config_ref: str) -> dict[str, Any]:
    db_path = out / "calibration.db"
    db = f"sqlite:///{db_path}"
    # One generation per pass, each loaded from the database as a resumed run would be,
    # with pyabc's global random state saved after every generation: an interrupted run
    # then continues exactly as the uninterrupted one would have.
    history = _stored(pyabc, db)
    done = history.max_t + 1 if history is not None else 0
    _restore_random_state(out, done, config.abc.seed)
    while done < config.abc.generations:
        abc = _abcsmc(pyabc, config, sampler)
        if done == 0:
            abc.new(db, observed(config))
        else:
            abc.load(db, history.id)
        try:
            history = abc.run(max_nr_populations=1)
        except (AssertionError, ValueError, np.linalg.LinAlgError) as exc:
            # e.g. "population total weight nan": the weights collapsed
            raise CalibrationError(
                f"the sampler stopped after generation {abc.history.max_t}: {exc}. The "
                f"finished generations are kept in {db_path}; a wider kernel "
                "(abc.kernel_scaling), abc.transition = 'local' or a larger population "
                "helps against collapsing weights") from exc
        if history.max_t + 1 == done:
            break  # the sampler gave up on this generation (pyabc logs why)
        done = history.max_t + 1
        _save_random_state(out, done)
        if _last_epsilon(history) <= config.abc.min_epsilon:
            break
    if history is None:
        raise CalibrationError(f"no generation finished; see {db_path}")
    return write_results(history, config, out, config_ref, evaluate=_evaluator(client))


Evaluate = Callable[[Callable[[dict[str, float]], dict[str, float]], list[dict[str, float]]],
                    list[dict[str, float]]]
"""Maps a model over parameter sets, in order: in this process, or on a Dask cluster."""


def in_process(model: Callable[[dict[str, float]], dict[str, float]],
               params: list[dict[str, float]]) -> list[dict[str, float]]:
    return [model(p) for p in params]


def _evaluator(client: Any) -> Evaluate:
    if client is None:
        return in_process
    # each run is a pure function of its parameters and seeds: where it runs changes nothing
    return lambda model, params: client.gather(client.map(model, params, pure=False))


def _abcsmc(pyabc: Any, config: CalibrationConfig, sampler: Any) -> Any:
    prior = pyabc.Distribution(**{
        name: pyabc.RV("uniform", low, high - low)
        for name, (low, high) in config.parameters.items()})
    transition = (pyabc.transition.LocalTransition(scaling=config.abc.kernel_scaling)
                  if config.abc.transition == "local" else
                  pyabc.transition.MultivariateNormalTransition(
                      scaling=config.abc.kernel_scaling))
    return pyabc.ABCSMC(Model(config), prior, distance, transitions=transition,
                        population_size=config.abc.population_size, sampler=sampler)


def _stored(pyabc: Any, db: str) -> Any:
    """The history of the run stored in ``db`` (its last run), or None for a new database."""
    try:
        history = pyabc.History(db)
        runs = history.all_runs()
    except Exception:  # noqa: BLE001 - no database yet, or not a pyabc one
        return None
    if not runs:
        return None
    history.id = runs[-1].id
    return history if history.max_t is not None and history.max_t >= 0 else None


def finished_generations(out: Path) -> int:
    """How many generations of the calibration in ``out`` are finished and kept."""
    db = out / "calibration.db"
    if not db.is_file():
        return 0
    import pyabc

    history = _stored(pyabc, f"sqlite:///{db}")
    return 0 if history is None else history.max_t + 1


def _last_epsilon(history: Any) -> float:
    return float(history.get_all_populations()["epsilon"].iloc[-1])


RANDOM_STATE = "random_state.json"


def _save_random_state(out: Path, generation: int) -> None:
    name, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    state = {"generation": generation, "name": name, "keys": [int(k) for k in keys],
             "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}
    atomic_write_text(out / RANDOM_STATE, json.dumps(state))


def _restore_random_state(out: Path, generation: int, seed: int) -> None:
    """pyabc draws from numpy's global random state: seed it for a new run; for a resumed one,
    restore the state saved when ``generation`` finished. Without it (a database from before,
    or a run stopped between writing a generation and its state) the run goes on from a state
    derived from the seed and the generation: reproducible, but not what the uninterrupted
    run would have drawn."""
    path = out / RANDOM_STATE
    if generation == 0:
        np.random.seed(seed)  # noqa: NPY002
        return
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        state = None
    if state is not None and state.get("generation") == generation:
        np.random.set_state((state["name"], np.array(state["keys"], dtype=np.uint32),  # noqa: NPY002
                             state["pos"], state["has_gauss"], state["cached_gaussian"]))
    else:
        np.random.seed([seed, generation])  # noqa: NPY002


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]
                       ) -> list[float]:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(np.searchsorted(cum, q), len(v) - 1)]) for q in qs]


def write_results(history: Any, config: CalibrationConfig, out: Path, config_ref: str,
                  evaluate: Evaluate = in_process) -> dict[str, Any]:
    """posterior.parquet (the last generation: each particle's parameters, weight and distance),
    fit.json (each parameter's posterior median, mean and 90% interval, the best particle and
    the shipped one) and scenario.toml (the base scenario with the shipped particle's values).

    The scenario gets a particle, not the marginal medians: when the targets pin down only
    combinations of parameters (a ridge), the medians taken one by one form a point off the
    ridge that no particle holds, and it fits worse than the particles do. Not the best particle
    either: on a parameter the targets hardly constrain, it sits wherever chance put it, often
    at a prior's edge, where another run of the sampler would not find it. The shipped particle
    is a :func:`central` one: with the config's ``[selection]``, chosen by rerunning the
    candidates at that scale and those seeds (:class:`Selection`); without, the one with the
    smallest sampler distance (:func:`central_best`)."""
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
    if config.selection is None:
        shipped = central_best(columns, weights, distances)
        selection: dict[str, Any] = {
            "rule": "the best particle inside every marginal 90% interval"}
    else:
        shipped, selection = _select(config, columns, weights, distances, evaluate)
    fit: dict[str, Any] = {"generations": int(history.max_t) + 1,
                           "population_size": config.abc.population_size,
                           "epsilon": _last_epsilon(history),
                           "effective_sample_size": float(1.0 / np.sum(weights**2)),
                           "best": {"distance": float(distances[best]),
                                    "parameters": {n: float(v[best]) for n, v in columns.items()}},
                           "shipped": {"distance": float(distances[shipped]), **selection,
                                       "parameters": {n: float(v[shipped])
                                                      for n, v in columns.items()}},
                           "parameters": {}}
    for name, values in columns.items():
        p05, median, p95 = weighted_quantiles(values, weights, (0.05, 0.5, 0.95))
        fit["parameters"][name] = {"median": median, "p05": p05, "p95": p95,
                                   "mean": float(np.average(values, weights=weights)),
                                   "best": float(values[best]),
                                   "shipped": float(values[shipped])}
    table = pa.table({**columns, "weight": weights, "distance": distances})
    atomic_write(out / "posterior.parquet", lambda p: pq.write_table(table, p))
    atomic_write_text(out / "fit.json", json.dumps(fit, indent=2) + "\n")
    scenario: dict[str, Any] = {"base": config.scenario, "calibration": config_ref}
    for name, value in fit["shipped"]["parameters"].items():
        for path in paths(name):
            node = scenario
            *parents, leaf = path.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = round(value, 6)
    atomic_write_bytes(out / "scenario.toml", tomli_w.dumps(scenario).encode())
    return fit


def depth(columns: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """How central each particle is: over the parameters, the smallest share of the weight at
    or beyond its value on either side. 0.5 at a median of every parameter; a particle inside
    every marginal 90% interval has a depth of at least 0.05."""
    share = np.full(len(weights), np.inf)
    w = weights / weights.sum()
    for values in columns.values():
        order = np.argsort(values, kind="stable")
        v = values[order]
        cum = np.concatenate(([0.0], np.cumsum(w[order])))
        at_or_below = cum[np.searchsorted(v, values, side="right")]
        at_or_above = 1.0 - cum[np.searchsorted(v, values, side="left")]
        share = np.minimum(share, np.minimum(at_or_below, at_or_above))
    return share


def central(columns: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Indices of the particles inside the weighted 5-95% range of every parameter (all of
    them if none is)."""
    inside = depth(columns, weights) >= 0.05
    return np.flatnonzero(inside) if inside.any() else np.arange(len(weights))


def central_best(columns: dict[str, np.ndarray], weights: np.ndarray, distances: np.ndarray
                 ) -> int:
    """Index of the particle nearest the targets among the :func:`central` ones."""
    candidates = central(columns, weights)
    return int(candidates[np.argmin(distances[candidates])])


def _select(config: CalibrationConfig, columns: dict[str, np.ndarray], weights: np.ndarray,
            distances: np.ndarray, evaluate: Evaluate) -> tuple[int, dict[str, Any]]:
    """The shipped particle by the config's :class:`Selection`, with how it was chosen."""
    assert config.selection is not None
    sel = config.selection
    rerun = Model(config.model_copy(update={"scale": sel.scale, "seeds": sel.seeds}))
    target = observed(config)
    candidates = central(columns, weights)
    centrality = depth(columns, weights)[candidates]
    figures = evaluate(rerun, [{n: float(v[i]) for n, v in columns.items()} for i in candidates])
    errors = np.array([relative_errors(f, target) for f in figures])
    rerun_distance, worst = errors.mean(axis=1), errors.max(axis=1)
    where = (f"of the {len(candidates)} particles inside every marginal 90% interval, rerun at "
             f"1:{sel.scale} over seeds {sel.seeds}")
    within = (worst <= sel.tolerance) if sel.tolerance is not None else np.zeros(0, dtype=bool)
    if within.any():
        k = int(np.lexsort((rerun_distance, -np.where(within, centrality, -1.0)))[0])
        rule = (f"{where}, the most central of the {int(within.sum())} with every target "
                f"within {sel.tolerance:.0%}")
    else:
        k = int(np.lexsort((distances[candidates], rerun_distance))[0])
        rule = f"{where}, the nearest the targets"
        if sel.tolerance is not None:
            rule += f" (none had every target within {sel.tolerance:.0%})"
    return int(candidates[k]), {"rule": rule, "selection_distance": float(rerun_distance[k]),
                                "selection_worst_error": float(worst[k]),
                                "depth": float(centrality[k])}


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
    """The values the config's scenario ships for each fitted parameter (NaN for a tied one
    whose paths differ: the scenario does not ship one value for it)."""
    sc = load_scenario(config.scenario)
    values = {}
    for name in config.parameters:
        found = {float(current_value(sc, path)) for path in paths(name)}
        values[name] = found.pop() if len(found) == 1 else float("nan")
    return values
