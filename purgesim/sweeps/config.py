"""A sweep's design config: which scenario parameters vary, over what, and how they are sampled.

A config is a TOML file (the shipped ones live beside this module) validated by pydantic, then
against the scenario it starts from: every parameter path must exist in the scenario's schema
and every value the design can give it must be valid there, so that a typo is refused before
anything runs, with one line per problem naming the file, the field, the value and what is
allowed (:class:`purgesim.scenario.ScenarioError`).

Each parameter (a dotted scenario path, as in calibration configs) is one of three kinds:

- ``range = [low, high]``: a number drawn uniformly between the two (an integer field gets
  integers from low to high, each equally likely);
- ``levels = [...]``: one of a list of values of one type (true/false, strings such as
  "troika" and "evidence", numbers, dates), each equally likely;
- ``weeks = [first, last]``: for a date (a calendar event's ``date``), a whole number of weeks
  from the scenario's start, so that "how early" is a number: week *w* is the date
  ``start + 7 w`` days, on which the event takes effect in week *w*.

For a Latin hypercube or Sobol (Saltelli) design every parameter is a number in [0, 1) first,
as SALib samples it, and is then mapped onto its kind: a range linearly, levels and weeks by
cutting [0, 1) into equal parts (level *i* of *k* for ``i/k <= u < (i+1)/k``). That is the
documented numeric form Sobol indices of a discrete choice are computed on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from purgesim.files import shipped_descriptions, shipped_or_file
from purgesim.scenario import Scenario, ScenarioError, load_scenario, with_overrides

SHIPPED = resources.files("purgesim.sweeps")
RESERVED = ("sample", "seed")
"""Column names of every result row: no parameter may take them."""

Level = bool | int | float | str | dt.date


class Factor(BaseModel):
    """One varied parameter: exactly one of ``range``, ``levels`` or ``weeks``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = None
    levels: Annotated[list[Level], Field(min_length=2)] | None = None
    weeks: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=2, max_length=2)
                     ] | None = None
    steps: Annotated[int, Field(ge=2)] | None = None
    """Grid designs only: how many evenly spaced values of a range or weeks to take."""

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        given = [k for k in ("range", "levels", "weeks") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"gives {', '.join(given) or 'none'}; allowed: exactly one of "
                             "range = [low, high], levels = [...], weeks = [first, last]")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range = {self.range}: allowed: low < high")
        if self.weeks is not None and not self.weeks[0] < self.weeks[1]:
            raise ValueError(f"weeks = {self.weeks}: allowed: first < last")
        if self.levels is not None:
            kinds = {_level_kind(v) for v in self.levels}
            if len(kinds) > 1:
                raise ValueError(f"levels = {self.levels}: mixes {', '.join(sorted(kinds))}; "
                                 "allowed: levels of one type")
            if len(set(map(repr, self.levels))) < len(self.levels):
                raise ValueError(f"levels = {self.levels}: repeats a level; allowed: "
                                 "distinct levels")
        return self


def _level_kind(value: Level) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "numbers"
    return "dates" if isinstance(value, dt.date) else "strings"


class Design(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    method: Literal["grid", "lhs", "sobol"]
    """grid: every combination (ranges and weeks need ``steps``); lhs: a Latin hypercube of
    ``samples`` points; sobol: Saltelli's scheme on a scrambled Sobol' sequence (SALib),
    ``samples`` base points, so ``samples x (parameters + 2)`` points."""
    samples: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of the sampler (the Sobol' scrambling, the Latin hypercube): not of the runs."""

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"method = {self.method!r} needs samples; allowed: an integer "
                             "of at least 1 (a power of 2 for sobol)")
        if self.method == "sobol" and self.samples is not None and (
                self.samples < 2 or self.samples & (self.samples - 1)):
            raise ValueError(f"samples = {self.samples}: allowed: a power of 2 of at least 2 "
                             "(such as 8, 64, 256) for sobol")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("samples: allowed: none for a grid (it has every combination)")
        return self


class SweepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    description: str = ""
    scenario: str = "great-terror"
    scale: Annotated[int, Field(ge=1)]
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    """Every point of the design runs once with each seed (common random numbers)."""
    design: Design
    parameters: Annotated[dict[str, Factor], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> SweepConfig:
        problems = []
        if len(set(self.seeds)) < len(self.seeds):
            problems.append(f"seeds = {self.seeds}: repeats a seed; allowed: distinct seeds")
        for name, factor in self.parameters.items():
            if name in RESERVED:
                problems.append(f"parameters.{name}: allowed: a scenario path other than "
                                f"{' or '.join(RESERVED)} (seeds are given by seeds = [...])")
            if self.design.method == "grid" and factor.levels is None and factor.steps is None:
                problems.append(f"parameters.{name}: a grid needs steps for a range or weeks; "
                                "allowed: steps = 2 or more")
            if self.design.method != "grid" and factor.steps is not None:
                problems.append(f"parameters.{name}.steps: allowed: only in a grid design")
        if problems:
            raise ValueError("\n".join(problems))
        return self


class Spec(BaseModel):
    """A parameter resolved against the scenario: its kind and what is needed to turn a code
    (the number a design gives it) into the value set in the scenario, and back into words.
    Codes: a range's value itself; the index of a level; the week of a date."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Literal["range", "integer", "levels", "weeks"]
    low: float = 0.0
    high: float = 0.0
    labels: list[str] = []
    """Levels as TOML writes them (true, "troika", 1937-12-27)."""
    start: dt.date | None = None
    """The scenario's start, from which weeks count."""

    @property
    def count(self) -> int:
        """How many distinct codes an integer-like kind has."""
        return len(self.labels) if self.kind == "levels" else int(self.high - self.low) + 1

    def code(self, u: float) -> float | int:
        """The code of a point ``u`` in [0, 1)."""
        if self.kind == "range":
            return self.low + u * (self.high - self.low)
        step = min(int(u * self.count), self.count - 1)
        return step if self.kind == "levels" else int(self.low) + step

    def show(self, code: float) -> str:
        """A code as words: the level, the date of a week, the number."""
        if self.kind == "levels":
            return self.labels[int(code)]
        if self.kind == "weeks":
            assert self.start is not None
            return f"week {int(code)} ({self.start + dt.timedelta(weeks=int(code))})"
        return f"{code:.4g}" if self.kind == "range" else str(int(code))


def toml_value(value: Level) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return value.isoformat() if isinstance(value, dt.date) else repr(value)


def shipped_designs() -> dict[str, str]:
    """Shipped design names and their one-line descriptions."""
    return shipped_descriptions(SHIPPED)


def read_config(ref: str | Path) -> tuple[str, str, SweepConfig]:
    """(label, text, config) of a shipped design name or a TOML path, checked on its own."""
    found = shipped_or_file(str(ref), SHIPPED)
    if found is None:
        names = ", ".join(shipped_designs())
        raise ScenarioError([f"{ref}: no such sweep config, and not a shipped design "
                             f"(allowed: a TOML file, or a shipped name: {names})"])
    label, text = found
    try:
        config = SweepConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: not valid TOML: {exc}"]) from None
    except ValidationError as exc:
        lines = []
        for e in exc.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            message = str(e["msg"]).removeprefix("Value error, ")
            for line in message.split("\n"):
                lines.append(f"{label}: {where + ': ' if where else ''}{line}")
        raise ScenarioError(lines) from None
    return label, text, config


def overrides(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted parameter paths as :func:`load_scenario` overrides."""
    return {name.replace(".", "__"): value for name, value in values.items()}


def current_value(scenario: Scenario, path: str) -> Any:
    """The scenario's value at a dotted path, or None where there is none."""
    node: Any = scenario.model_dump()
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def resolve(config: SweepConfig, base: Scenario, label: str) -> list[Spec]:
    """Each parameter's :class:`Spec`, after checking that every value the design can give it
    is valid in the scenario; one line per problem."""
    specs, problems = [], []
    for name, factor in config.parameters.items():
        now = current_value(base, name)
        if factor.weeks is not None and not isinstance(now, dt.date):
            problems.append(f"{label}: parameters.{name}.weeks = {factor.weeks}: {name} is "
                            f"not a date (it is {now!r}); allowed: weeks for a date such as "
                            "calendar.stop_decree.date, else range or levels")
            continue
        if factor.weeks is not None and factor.weeks[1] >= base.weeks:
            problems.append(f"{label}: parameters.{name}.weeks = {factor.weeks}: allowed: "
                            f"weeks from 0 to {base.weeks - 1} (the scenario's last week)")
            continue
        spec = _spec(name, factor, now, base.start)
        for code in _extremes(spec):
            value = value_of(spec, factor, code)
            try:
                with_overrides(base, **overrides({name: value}))
            except ScenarioError as exc:
                problems += [f"{label}: parameters.{name} = {toml_value(value)}: "
                             f"{_bare(p, base.name)}" for p in exc.problems]
                break  # one line per parameter: its other values fail for the same reason
        specs.append(spec)
    if problems:
        raise ScenarioError(problems)
    return specs


def _bare(problem: str, scenario: str) -> str:
    """A scenario's problem line without its label and the note about overrides, which say
    nothing here (the value comes from the sweep config)."""
    problem = problem.removeprefix(f"{scenario}: ")
    return problem.split(" (set by an override")[0]


def _spec(name: str, factor: Factor, now: Any, start: dt.date) -> Spec:
    if factor.levels is not None:
        return Spec(name=name, kind="levels", labels=[toml_value(v) for v in factor.levels])
    if factor.weeks is not None:
        return Spec(name=name, kind="weeks", low=factor.weeks[0], high=factor.weeks[1],
                    start=start)
    assert factor.range is not None
    integer = isinstance(now, int) and not isinstance(now, bool)
    return Spec(name=name, kind="integer" if integer else "range", low=factor.range[0],
                high=factor.range[1])


def _extremes(spec: Spec) -> list[float]:
    if spec.kind == "levels":
        return list(range(spec.count))
    return [spec.low, spec.high]


def value_of(spec: Spec, factor: Factor, code: float) -> Any:
    """The value a code sets in the scenario."""
    if spec.kind == "levels":
        assert factor.levels is not None
        return factor.levels[int(code)]
    if spec.kind == "weeks":
        assert spec.start is not None
        return spec.start + dt.timedelta(weeks=int(code))
    return int(code) if spec.kind == "integer" else float(code)


def adjusted(config: SweepConfig, label: str, **changes: Any) -> SweepConfig:
    """``config`` with top-level fields changed (``scale``, ``seeds``) or the design's
    ``samples`` (a value of None changes nothing), validated again."""
    data = config.model_dump()
    for key, value in changes.items():
        if value is not None:
            (data["design"] if key == "samples" else data)[key] = value
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([
            f"{label}: {'.'.join(str(p) for p in e['loc'])}: "
            f"{str(e['msg']).removeprefix('Value error, ')} (set by an option)"
            for e in exc.errors(include_url=False)]) from None


def config_toml(config: SweepConfig) -> str:
    """The config as TOML: reading it back gives the same config (and the same hash)."""
    import tomli_w

    return tomli_w.dumps(config.model_dump(mode="python", exclude_none=True))


def load_config(ref: str | Path, **changes: Any
                ) -> tuple[str, SweepConfig, Scenario, list[Spec]]:
    """(label, config, base scenario at the config's scale, specs) of a design, with
    ``changes`` (see :func:`adjusted`), refused with :class:`ScenarioError` (one line per
    problem) if anything would fail to run."""
    label, _, config = read_config(ref)
    config = adjusted(config, label, **changes)
    try:
        base = load_scenario(config.scenario, scale=config.scale)
    except ScenarioError as exc:
        raise ScenarioError([f"{label}: scenario = {config.scenario!r}: {p}"
                             for p in exc.problems]) from None
    return label, config, base, resolve(config, base, label)


def config_hash(config: SweepConfig, base: Scenario) -> str:
    """A stable hash of what decides every row: the config and the scenario it resolves to
    (a file edited between two runs of a sweep would change the rows)."""
    text = json.dumps({"config": config.model_dump(mode="json"),
                       "scenario": base.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
