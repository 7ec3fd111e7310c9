"""The state of the explorer's page, which is also its link: a shipped scenario, the fields
changed from it, the scale and the seeds.

``?base=great-terror&scale=2000&seed=1&seeds=1&interrogation.torture=false`` is the
unchanged scenario ``great-terror`` and the same with torture switched off, both at 1:2000 on
seed 1. Every parameter other than ``base``, ``name``, ``scale``, ``seed`` and ``seeds`` is a
scenario field by its dotted path, with its value as JSON (``false``, ``0.5``, ``["kulak"]``,
``null``) or, where that is not JSON, as text (``evidence``, ``1937-12-27``). A link holds
everything a run depends on, so opening it reproduces the run exactly.

Nothing in a link names a file: the base is a shipped name, and ``calibration`` (the one
field that may name a path) may only name a shipped calibration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from purgesim.explorer.limits import Limits
from purgesim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    set_at,
    shipped_calibrations,
    shipped_scenarios,
    validate,
)

LABEL = "link"
"""How errors name a link's state (as the CLI names a file)."""
SETTINGS = ("base", "name", "scale", "seed", "seeds")
NOT_CHANGES = {"name", "description", "scale", "seed"}
"""Fields a link does not change by path: the page sets scale and seed itself, and names
are labels, not part of a run."""
PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
NAME = re.compile(r"[\w .,+()'-]{1,60}")
MAX_SEED = 10**9


class StateError(ScenarioError):
    """A link or a request that cannot be run: one line per problem, as for a scenario."""


class State(BaseModel):
    """What the page shows: ``base`` unchanged, and ``base`` with ``changes``, on the seeds
    ``seed`` .. ``seed + seeds - 1`` at 1:``scale``."""

    model_config = ConfigDict(frozen=True)

    base: str = "great-terror"
    name: str = ""
    """The label of the changed scenario (an uploaded file's name, say); empty: derived."""
    scale: int
    seed: int = 1
    seeds: int = 1
    changes: tuple[tuple[str, Any], ...] = ()
    """(dotted path, value), sorted by path."""

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))

    @property
    def changed_name(self) -> str:
        """The changed scenario's label: never the base's (the charts key by it)."""
        name = self.name or f"{self.base}, changed"
        return name if name != self.base else f"{name} (changed)"

    def query(self) -> str:
        """The state as a query string, in a fixed order (so equal states give equal links)."""
        pairs = [("base", self.base)] + ([("name", self.name)] if self.name else [])
        pairs += [("scale", str(self.scale)), ("seed", str(self.seed)),
                  ("seeds", str(self.seeds))]
        pairs += [(path, encode_value(value)) for path, value in self.changes]
        return urlencode(pairs)

    def key(self) -> str:
        """A short hash of the state, for the cache of views."""
        return digest({"state": self.query()})


def digest(data: Any) -> str:
    """A short hex digest of JSON-able ``data`` (sorted keys; dates as ISO text)."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def encode_value(value: Any) -> str:
    """A field's value as a link writes it: text as itself unless it would read as JSON."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, separators=(",", ":"), default=str)


def decode_value(text: str) -> Any:
    """A value from a link: JSON if it is JSON (not NaN or infinity), else the text."""
    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


def _int_setting(name: str, text: str, low: int, high: int, why: str,
                 problems: list[str]) -> int | None:
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{LABEL}: {name} = {text!r}: allowed: a whole number from {low} to "
                        f"{high}{why}")
        return None
    if not low <= value <= high:
        problems.append(f"{LABEL}: {name} = {value}: allowed: {low} to {high}{why}")
        return None
    return value


def parse_query(pairs: Iterable[tuple[str, str]], limits: Limits) -> State:
    """The state of a link's query (as (key, value) pairs); raises :class:`StateError` with
    one line per problem. The changes are checked here as a link; :func:`scenarios` checks
    them against the scenario schema."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            problems.append(f"{LABEL}: {key}: given twice; allowed: once")
        seen[key] = value
    base = seen.get("base", "great-terror")
    if base not in shipped_scenarios():
        problems.append(f"{LABEL}: base = {base!r}: allowed: a shipped scenario "
                        f"({', '.join(shipped_scenarios())})")
    name = seen.get("name", "")
    if name and not NAME.fullmatch(name):
        problems.append(f"{LABEL}: name = {name[:80]!r}: allowed: 1 to 60 letters, digits, "
                        "spaces and .,+()'-")
    scale = _int_setting("scale", seen.get("scale", str(limits.min_scale)), limits.min_scale,
                         limits.max_scale, " (real people per agent; finer scales are for "
                         "`purgesim run`)", problems)
    seed = _int_setting("seed", seen.get("seed", "1"), 0, MAX_SEED, "", problems)
    seeds = _int_setting("seeds", seen.get("seeds", "1"), 1, limits.max_seeds,
                         " (seeds per scenario)", problems)
    changes = []
    for key, text in seen.items():
        if key in SETTINGS:
            continue
        if not PATH.fullmatch(key) or "." not in key and key not in _TOP_FIELDS:
            problems.append(f"{LABEL}: {key[:80]} = {text[:40]!r}: unknown setting; allowed: "
                            f"{', '.join(SETTINGS)}, or a scenario field by its dotted path "
                            "(such as interrogation.torture)")
        elif key.split(".")[0] in NOT_CHANGES:
            problems.append(f"{LABEL}: {key}: set by the page, not by path; allowed: the "
                            "fields of the scenario's tables")
        else:
            changes.append((key, decode_value(text)))
    if len(changes) > limits.max_changes:
        problems.append(f"{LABEL}: {len(changes)} changed fields: allowed: at most "
                        f"{limits.max_changes}")
    if problems:
        raise StateError(problems)
    assert scale is not None and seed is not None and seeds is not None
    return State(base=base, name=name, scale=scale, seed=seed, seeds=seeds,
                 changes=tuple(sorted(changes)))


_TOP_FIELDS = ("start", "end", "calibration")


def apply_changes(data: dict[str, Any], changes: Iterable[tuple[str, Any]], label: str
                  ) -> dict[str, Any]:
    """``data`` (a scenario as plain data) with each (dotted path, value) set."""
    for path, value in changes:
        blocked = set_at(data, path.split("."), value)
        if blocked is not None:
            raise StateError([f"{label}: {path}: {blocked} is not a table; allowed: the "
                              "fields of the scenario's tables"])
    return data


def check_scenario(scenario: Scenario, label: str, limits: Limits) -> None:
    """Refuse what a valid scenario may hold but the explorer may not run: a calibration
    given by path, or more weeks than the bound."""
    problems = []
    if scenario.calibration and scenario.calibration not in shipped_calibrations():
        problems.append(f"{label}: calibration = {scenario.calibration[:80]!r}: allowed: empty "
                        f"or a shipped calibration ({', '.join(shipped_calibrations())})")
    if scenario.weeks > limits.max_weeks:
        problems.append(f"{label}: end = {scenario.end}: {scenario.weeks} weeks from start = "
                        f"{scenario.start}; allowed: at most {limits.max_weeks} weeks")
    if problems:
        raise StateError(problems)


def scenarios(state: State, limits: Limits) -> tuple[Scenario, Scenario | None]:
    """The unchanged and the changed scenario of ``state`` (None if nothing is changed), at
    its scale and first seed, validated as the CLI validates a file."""
    base = load_scenario(state.base, scale=state.scale, seed=state.seed)
    check_scenario(base, state.base, limits)
    if not state.changes:
        return base, None
    data = apply_changes(base.model_dump(), state.changes, LABEL)
    data["name"] = state.changed_name
    changed = validate(data, LABEL, ())
    check_scenario(changed, LABEL, limits)
    return base, changed
