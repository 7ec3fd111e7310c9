"""Scenarios: TOML files validated by pydantic, with inheritance from shipped scenarios.

A scenario holds the scale, the seed, the dates, the calendar of dated events and every
mechanism's parameters and switches. The shipped ``great-terror`` file is the one place where
the default values live, each with a comment; other files start from it with
``base = "great-terror"`` and change only what differs. Tables merge key by key, arrays are
replaced, and the calendar is a table keyed by event id so an event can be moved or disabled.
Relative paths in ``base`` are resolved from the file's folder; a file with a base that sets
no ``name`` is named after its file.

Bad input never reaches the simulation: :func:`load_scenario` raises :class:`ScenarioError`,
whose message has one line per problem naming the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, create_model, model_validator
from pydantic.fields import FieldInfo

from purgesim.files import shipped_descriptions
from purgesim.mechanisms import MECHANISMS
from purgesim.model.mechanism import Mechanism
from purgesim.model.register import EvidenceParams
from purgesim.params import (
    MAX_RUN_WEEKS,
    MAX_SCALE,
    After,
    Date,
    EventId,
    Name,
    Section,
    Why,
)
from purgesim.population import PopulationParams
from purgesim.problems import describe, show, unprintable_problems

# --------------------------------------------------------------------------------------------
# Calendar


class Event(Section):
    date: Date
    enabled: bool = True
    note: str = ""


# --------------------------------------------------------------------------------------------
# The scenario


class ScenarioBase(Section):
    """What every scenario has: names, scale, seed, dates, the calendar, the population and
    the evidence model. :func:`scenario_model` adds the tables of the mechanisms."""

    name: Name
    """Printable, and no path: the run's default output folder is ``runs/NAME-seedN-1_SCALE``."""
    description: str = ""
    calibration: str = ""
    """The calibration config (a shipped name or a path) whose fit gave these parameters;
    `purgesim history` marks its targets."""
    scale: Annotated[int, Field(ge=1, le=MAX_SCALE), Why(
        "coarser, the country has fewer agents than the Congress has delegates (MAX_SCALE)")]
    """Real people per ordinary agent, from 1 (everyone) to :data:`~purgesim.params.MAX_SCALE`."""
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    start: Date
    end: Date
    """The Monday that starts the last week, at most :data:`~purgesim.params.MAX_RUN_WEEKS`
    weeks after ``start``."""
    calendar: dict[EventId, Event]
    population: PopulationParams
    evidence: EvidenceParams

    @model_validator(mode="after")
    def _dates(self) -> ScenarioBase:
        # Each problem on its own line, naming its field (the location of this check is the
        # whole scenario, so the field is in the message).
        problems = []
        if self.end < self.start:
            problems.append(f"end = {self.end}: before start = {self.start}; "
                            "allowed: a date on or after start")
        for field in ("start", "end"):
            day = getattr(self, field)
            if day.weekday() != 0:
                problems.append(f"{field} = {day}: a {day:%A}; allowed: a Monday "
                                "(one step is a week)")
        for where, event, _, _ in _event_fields(self, ""):
            if event is not None and event not in self.calendar:
                problems.append(f"{where} = {event!r}: not in the calendar; "
                                f"allowed: one of {sorted(self.calendar)}")
        if not problems:  # the order of events means something only within valid dates
            misplaced: set[str] = set()
            problems += self._run_length() + self._calendar_order(misplaced)
            problems += self._events_in_order(misplaced)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _run_length(self) -> list[str]:
        if self.weeks <= MAX_RUN_WEEKS:
            return []
        return [f"end = {self.end}: {self.weeks} weeks after start = {self.start}; allowed: at "
                f"most {MAX_RUN_WEEKS} weeks (twenty years, MAX_RUN_WEEKS)"]

    def _enabled_date(self, event: str | None) -> dt.date | None:
        entry = self.calendar.get(event) if event is not None else None
        return entry.date if entry is not None and entry.enabled else None

    def late_events(self, dated: set[str]) -> list[str]:
        """A line for each event of ``dated`` (those whose date the user set: the loader
        knows which) that is enabled and dated after the end: it would silently do nothing.
        Events the run merely stops before (a shorter run than its base) are not refused."""
        return [f"calendar.{event}.date = {entry.date}: after end = {self.end}; allowed: a "
                "date on or before end, or enabled = false to leave the event out"
                for event, entry in self.calendar.items()
                if event in dated and entry.enabled and entry.date > self.end]

    def _calendar_order(self, misplaced: set[str]) -> list[str]:
        """The orders the model relies on; adds each misplaced event to ``misplaced`` (one
        line each, not one per consequence)."""
        problems = []
        for event, why in IN_RUN.items():
            day = self._enabled_date(event)
            if day is not None and day < self.start:
                misplaced.add(event)
                problems.append(f"calendar.{event}.date = {day}: before start = {self.start}; "
                                f"allowed: a date on or after start ({why})")
        for first, then, why in CALENDAR_ORDER:
            a, b = self._enabled_date(first), self._enabled_date(then)
            if a is not None and b is not None and b < a and not misplaced & {first, then}:
                misplaced.add(then)
                problems.append(f"calendar.{then}.date = {b}: before calendar.{first}.date = "
                                f"{a}; allowed: a date on or after it ({why})")
        return problems

    def _events_in_order(self, misplaced: set[str]) -> list[str]:
        """Fields marked :class:`~purgesim.params.After` name an event on or after the one
        their table's ``first`` field names (when both are set and enabled, and neither is
        already among the ``misplaced``)."""
        problems = []
        for where, event, info, owner in _event_fields(self, ""):
            for mark in (m for m in info.metadata if isinstance(m, After)):
                first = getattr(owner, mark.first)
                a, b = self._enabled_date(first), self._enabled_date(event)
                if a is not None and b is not None and b < a and not misplaced & {first, event}:
                    table = where.rpartition(".")[0]
                    problems.append(
                        f"{where} = {event!r} ({b}): before {table}.{mark.first} = {first!r} "
                        f"({a}); allowed: an event dated on or after it, or either one switched "
                        "off (enabled = false)")
        return problems

    @property
    def weeks(self) -> int:
        return (self.end - self.start).days // 7 + 1

    def event_week(self, event: str | None) -> int | None:
        """The week index (0-based) in which a calendar event takes effect, or None if the
        event is disabled or absent. Events before the start take effect at week 0."""
        if event is None or event not in self.calendar or not self.calendar[event].enabled:
            return None
        days = (self.calendar[event].date - self.start).days
        return max(0, -(-days // 7))  # the first week that starts on or after the date

    def to_toml_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data, for writing back to TOML (string keys,
        lists for tuples)."""
        return _toml_ready(self.model_dump(mode="python", exclude_none=True))


def _toml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _toml_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_toml_ready(v) for v in value]
    return value


IN_RUN = {"stop_decree": "it reviews the cases pending on its date; to leave it out, "
                         "enabled = false"}
"""Events that must not come before the run's start, and why."""
CALENDAR_ORDER = (
    ("order_00447", "stop_decree",
     "the stop decree ends the mass operations Order 00447 began; for no mass operation, "
     "switch calendar.order_00447 off with enabled = false"),
)
"""(first, then, why): calendar events whose order the model relies on, when both are
enabled. Other events may be moved freely: a counterfactual (``early-stop``) moves the stop
decree before events it preceded in history."""


def _event_fields(model: BaseModel, where: str
                  ) -> list[tuple[str, Any, FieldInfo, BaseModel]]:
    """(dotted field, value, field info, table) of every field that names a calendar event,
    in every table."""
    out: list[tuple[str, Any, FieldInfo, BaseModel]] = []
    for name, info in type(model).model_fields.items():
        if name == "calendar":
            continue
        value = getattr(model, name)
        here = f"{where}{name}"
        annotation = info.annotation
        if annotation == EventId or (get_origin(annotation) is not dict
                                     and EventId in get_args(annotation)):
            out.append((here, value, info, model))
        elif get_origin(annotation) is dict and get_args(annotation)[0] == EventId:
            out += [(f"{here}.{key}", key, info, model) for key in value]
        elif isinstance(value, BaseModel):
            out += _event_fields(value, here + ".")
        elif isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(item, BaseModel):
                    out += _event_fields(item, f"{here}.{key}.")
    return out


@cache
def scenario_model(mechanisms: tuple[type[Mechanism], ...] = MECHANISMS) -> type[ScenarioBase]:
    """The schema of a scenario run with ``mechanisms``: the common fields and the tables
    each mechanism owns (its ``sections``), in the mechanisms' order."""
    fields: dict[str, Any] = {}
    for kind in mechanisms:
        for name, annotation in kind.sections.items():
            if name in fields or name in ScenarioBase.model_fields:
                raise ValueError(f"scenario table [{name}] is owned twice (again by "
                                 f"{kind.__name__}); allowed: one owner per table")
            fields[name] = (annotation, ...)
    return create_model("Scenario", __base__=ScenarioBase, __module__=__name__, **fields)


Scenario = scenario_model()
"""The schema of the scenarios of the default mechanisms (:data:`MECHANISMS`)."""


# --------------------------------------------------------------------------------------------
# Loading


class ScenarioError(ValueError):
    """A scenario that cannot run. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


SHIPPED = resources.files("purgesim.scenarios")
CALIBRATIONS = resources.files("purgesim.calibrations")


def shipped_scenarios() -> dict[str, str]:
    """Shipped scenario names and their one-line descriptions."""
    return shipped_descriptions(SHIPPED)


def _resolve(ref: str, relative_to: Path | None, referrer: str | None = None
             ) -> tuple[str, str, str]:
    """(display name, identity, text) of a shipped name or a path. A relative path in a file's
    ``base`` is resolved from that file's folder (``relative_to``); ``referrer`` is that file."""
    if not ref.endswith(".toml") and "/" not in ref and "\\" not in ref:
        entry = SHIPPED.joinpath(f"{ref}.toml")
        if entry.is_file():
            return f"{ref} (shipped)", f"shipped:{ref}", entry.read_text(encoding="utf-8-sig")
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    try:
        identity = str(path.resolve())
        is_file = path.is_file()
    except (OSError, RuntimeError):
        identity, is_file = str(path), False
    if not is_file:
        names = ", ".join(shipped_scenarios())
        if referrer is None:
            raise ScenarioError(
                [f"{ref}: no such scenario file, and not a shipped scenario "
                 f"(allowed: a TOML file, or a shipped name: {names})"])
        where = f" (looked for {path})" if str(path) != ref else ""
        raise ScenarioError(
            [f"{referrer}: base = {ref!r}: no such file{where}, and not a shipped scenario; "
             f"allowed: a shipped name ({names}) or a path relative to the file's folder"])
    try:
        # utf-8-sig: a byte-order mark (some Windows editors write one) is no part of TOML
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot be read as a UTF-8 text file: {exc}"]) from None
    return str(path), identity, text


def merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (numbers, strings, arrays) is replaced."""
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(ref: str, relative_to: Path | None, seen: tuple[tuple[str, str], ...],
          referrer: str | None = None) -> tuple[str, dict]:
    """(display name, data) of a scenario with its ``base`` chain merged in. ``seen`` holds
    (identity, display name) of the files that led here, to refuse loops."""
    label, identity, text = _resolve(ref, relative_to, referrer)
    if identity in (i for i, _ in seen):
        chain = " -> ".join([name for _, name in seen] + [label])
        raise ScenarioError([f"{referrer}: base = {ref!r}: the 'base' chain loops back on "
                             f"itself ({chain}); allowed: a chain that ends in a file without "
                             "base"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: not valid TOML: {exc}"]) from None
    base = data.pop("base", None)
    if base is None:
        return label, data
    if not isinstance(base, str):
        raise ScenarioError([f"{label}: base = {show(base)}: allowed: a shipped name or a path"])
    shipped = label.endswith("(shipped)")
    here = None if shipped else Path(label).parent
    _, parent = _read(base, here, (*seen, (identity, label)), referrer=label)
    parent.pop("name", None)
    parent.pop("description", None)
    merged = merge(parent, data)
    # A file that starts from another one names itself after its file unless it says otherwise.
    merged.setdefault("name", ref if shipped else Path(label).stem)
    return label, merged


def validate(data: dict[str, Any], label: str, overridden: tuple[str, ...] = (),
             schema: type[ScenarioBase] = Scenario) -> Scenario:
    """Validate merged data against ``schema``; ``overridden`` are the dotted fields set by
    overrides (not in the file), so that their problems say where the value came from."""
    hidden = unprintable_problems(data, "")
    if hidden:
        raise ScenarioError([f"{label}: {line}" for line in hidden])
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in error["loc"])
            note = ""
            if any(loc == o or loc.startswith(f"{o}.") for o in overridden):
                note = " (set by an override such as --scale or --seed, not in the file)"
            # a check of several fields may report several problems, one per line
            for line in describe(error, schema).split("\n"):
                lines.append(f"{label}: {line}{note}")
        raise ScenarioError(lines) from None


def load_scenario(ref: str | Path = "great-terror", *,
                  mechanisms: Sequence[type[Mechanism]] | None = None,
                  **overrides: Any) -> Scenario:
    """Load and validate a scenario by shipped name or path; ``overrides`` set top-level fields
    (e.g. ``scale=1000, seed=3``) or, with ``__``, nested ones (``camps__enabled=False``).
    ``mechanisms`` (default :data:`MECHANISMS`) decides which mechanisms' tables it has."""
    label, data = _read(str(ref), None, ())
    schema = Scenario if mechanisms is None else scenario_model(tuple(mechanisms))
    return _overridden(data, label, overrides, schema, dated=_own_dates(str(ref)))


def loads_scenario(text: str, label: str, *,
                   mechanisms: Sequence[type[Mechanism]] | None = None) -> Scenario:
    """A scenario from TOML text that has no folder of its own (an upload, say), with the
    errors of :func:`load_scenario` naming ``label``. Its ``base``, if it has one, must be a
    shipped name: with no folder there is no path to resolve it from, and no file is opened
    on the text's say-so."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{label}: not valid TOML: {exc}"]) from None
    base = data.pop("base", None)
    if base is not None:
        names = shipped_scenarios()
        if not isinstance(base, str) or base not in names:
            raise ScenarioError([f"{label}: base = {show(base)}: allowed: a shipped name "
                                 f"({', '.join(names)})"])
        _, parent = _read(base, None, ())
        parent.pop("name", None)
        parent.pop("description", None)
        data = merge(parent, data)
        data.setdefault("name", Path(label).stem or "uploaded")
    schema = Scenario if mechanisms is None else scenario_model(tuple(mechanisms))
    return validate(data, label, (), schema)


def with_overrides(scenario: Scenario, **overrides: Any) -> Scenario:
    """``scenario`` with fields changed as :func:`load_scenario`'s ``overrides`` change them,
    validated in the same way (an override that is ``None`` changes nothing)."""
    if all(value is None for value in overrides.values()):
        return scenario
    return _overridden(scenario.model_dump(), scenario.name, overrides, type(scenario))


def _own_dates(ref: str) -> set[str]:
    """The calendar events whose date the user's file ``ref`` itself sets (not its base; a
    shipped scenario's dates are defaults, like a base's)."""
    label, _, text = _resolve(ref, None)
    if label.endswith("(shipped)"):
        return set()
    calendar = tomllib.loads(text).get("calendar", {})
    return {e for e, v in calendar.items() if isinstance(v, dict) and "date" in v} \
        if isinstance(calendar, dict) else set()


def set_at(data: dict[str, Any], parts: Sequence[str], value: Any) -> str | None:
    """Set ``value`` at the path ``parts`` of plain scenario data, making the tables on the
    way; returns the dotted path of a value that is in the way (not a table), else None."""
    target = data
    for i, part in enumerate(parts[:-1]):
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return ".".join(parts[: i + 1])
    target[parts[-1]] = value
    return None


def _overridden(data: dict[str, Any], label: str, overrides: dict[str, Any],
                schema: type[ScenarioBase], dated: set[str] | None = None) -> Scenario:
    """The one place where overrides are applied: set each, then validate the whole.
    ``dated`` are the events whose date the user's file sets; with those the overrides set,
    they must not fall after the end (:meth:`ScenarioBase.late_events`)."""
    original = copy.deepcopy(data)
    for key, value in overrides.items():
        if value is None:
            continue
        blocked = set_at(data, key.split("__"), value)
        if blocked is not None:
            raise ScenarioError([f"{label}: override {key}={value!r}: {blocked} is not a "
                                 "table; allowed: overrides of fields"])
    overridden = tuple(k.replace("__", ".") for k, v in overrides.items() if v is not None)
    problems = _masked(original, label, overridden, schema)
    try:
        scenario = validate(data, label, overridden, schema)
    except ScenarioError as exc:
        raise ScenarioError(exc.problems + problems) from None
    dated = set(dated or ())
    for key, value in overrides.items():
        parts = key.split("__")
        if value is not None and parts[0] == "calendar" and len(parts) > 1 and (
                parts[2:] == ["date"] or (len(parts) == 2 and isinstance(value, dict))):
            dated.add(parts[1])
    problems += [f"{label}: {line}" for line in scenario.late_events(dated)]
    problems += _calibration_problems(scenario, label)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _masked(original: dict[str, Any], label: str, overridden: tuple[str, ...],
            schema: type[ScenarioBase]) -> list[str]:
    """The problems of a file's own values that overrides replace: `run F --scale 1000`
    must not run a file whose own scale is invalid without saying so."""
    present = [o for o in overridden if _has(original, o.split("."))]
    if not present:
        return []
    try:
        validate(original, label, (), schema)
    except ScenarioError as exc:
        masked = [line for line in exc.problems
                  if any(f": {o} = " in line or f": {o}." in line or f": {o}:" in line
                         for o in present)]
        return [f"{line} (in the file; an override replaces it, but the file must be valid "
                "on its own)" for line in masked]
    return []


def _has(data: Any, parts: list[str]) -> bool:
    """Whether the dotted field ``parts`` is set in ``data``."""
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def shipped_calibrations() -> list[str]:
    """The names of the shipped calibration configs."""
    return list(shipped_descriptions(CALIBRATIONS))


def _calibration_problems(scenario: ScenarioBase, label: str) -> list[str]:
    """A calibration the scenario names must exist: a shipped one, or a config file (read
    from the folder the command runs in, as `purgesim history` reads it)."""
    ref = scenario.calibration
    if not ref or (not ref.endswith(".toml") and "/" not in ref
                   and CALIBRATIONS.joinpath(f"{ref}.toml").is_file()):
        return []
    if Path(ref).is_file():
        return []
    return [f"{label}: calibration = {show(ref)}: no shipped calibration and no such file; "
            f"allowed: \"\" (none), a shipped name ({', '.join(shipped_calibrations())}) or the "
            "path of a calibration config"]
