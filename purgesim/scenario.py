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

import datetime as dt
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, create_model, model_validator

from purgesim.mechanisms import MECHANISMS
from purgesim.model.mechanism import Mechanism
from purgesim.model.register import EvidenceParams
from purgesim.params import Date, EventId, Section
from purgesim.population import PopulationParams

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

    name: str
    description: str = ""
    calibration: str = ""
    """The calibration config (a shipped name or a path) whose fit gave these parameters;
    `purgesim history` marks its targets."""
    scale: Annotated[int, Field(ge=1)]
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    start: Date
    end: Date
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
        for where, event in _event_references(self, ""):
            if event is not None and event not in self.calendar:
                problems.append(f"{where} = {event!r}: not in the calendar; "
                                f"allowed: one of {sorted(self.calendar)}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

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
        """The resolved scenario as plain data, for writing back to TOML."""
        return self.model_dump(mode="python", exclude_none=True)


def _event_references(model: BaseModel, where: str) -> list[tuple[str, Any]]:
    """(dotted field, value) of every field that names a calendar event, in every table: a
    field of type EventId (or None), and the keys of a table keyed by EventId."""
    out: list[tuple[str, Any]] = []
    for name, info in type(model).model_fields.items():
        if name == "calendar":
            continue
        value = getattr(model, name)
        here = f"{where}{name}"
        annotation = info.annotation
        if annotation == EventId or (get_origin(annotation) is not dict
                                     and EventId in get_args(annotation)):
            out.append((here, value))
        elif get_origin(annotation) is dict and get_args(annotation)[0] == EventId:
            out += [(f"{here}.{key}", key) for key in value]
        elif isinstance(value, BaseModel):
            out += _event_references(value, here + ".")
        elif isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(item, BaseModel):
                    out += _event_references(item, f"{here}.{key}.")
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


def shipped_scenarios() -> dict[str, str]:
    """Shipped scenario names and their one-line descriptions."""
    out = {}
    for entry in sorted(SHIPPED.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            out[entry.name[:-5]] = str(data.get("description", "")).strip().split("\n")[0]
    return out


def _resolve(ref: str, relative_to: Path | None, referrer: str | None = None
             ) -> tuple[str, str, str]:
    """(display name, identity, text) of a shipped name or a path. A relative path in a file's
    ``base`` is resolved from that file's folder (``relative_to``); ``referrer`` is that file."""
    if not ref.endswith(".toml") and "/" not in ref and "\\" not in ref:
        entry = SHIPPED.joinpath(f"{ref}.toml")
        if entry.is_file():
            return f"{ref} (shipped)", f"shipped:{ref}", entry.read_text(encoding="utf-8")
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
        text = path.read_text(encoding="utf-8")
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
        raise ScenarioError([f"{label}: base = {_show(base)}: allowed: a shipped name or a path"])
    shipped = label.endswith("(shipped)")
    here = None if shipped else Path(label).parent
    _, parent = _read(base, here, (*seen, (identity, label)), referrer=label)
    parent.pop("name", None)
    parent.pop("description", None)
    merged = merge(parent, data)
    # A file that starts from another one names itself after its file unless it says otherwise.
    merged.setdefault("name", ref if shipped else Path(label).stem)
    return label, merged


def _show(value: Any, limit: int = 80) -> str:
    """A value as it would look in TOML where that is easy (dates, numbers), else its repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    # datetime is a date: TOML dates, times and datetimes are shown as TOML writes them
    text = value.isoformat() if isinstance(value, dt.date | dt.time) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys allowed in the table at ``loc`` (a pydantic location), if it is a model."""
    current: Any = schema
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


_KEY_KINDS = {"calendar": "calendar event id", "operations": "operation name"}
_TYPE_WORDS = {
    "model_type": "a table", "dict_type": "a table", "list_type": "an array",
    "date_type": "a date such as 1937-08-05 (no time of day)",
    "date_parsing": "a date such as 1937-08-05 (no time of day)",
    "date_from_datetime_parsing": "a date such as 1937-08-05 (no time of day)",
    "bool_type": "true or false", "int_type": "an integer", "float_type": "a number",
    "string_type": "a string",
}


def _describe(error: dict[str, Any], schema: type[BaseModel]) -> str:
    loc_parts = tuple(error["loc"])
    loc = ".".join(str(p) for p in loc_parts)
    kind = error["type"]
    msg = error["msg"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, loc_parts[:-1])
        hint = f"allowed: {', '.join(allowed)}" if allowed else "check the spelling"
        return f"{loc} = {_show(value)}: unknown key; {hint}"
    if kind == "missing":
        return f"{loc}: missing; set it, or start from a shipped scenario with base = \"great-terror\""
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        if loc_parts and loc_parts[-1] == "[key]":
            # a dict key that is not allowed (a calendar event id, an operation name...)
            table = ".".join(str(p) for p in loc_parts[:-2])
            what = _KEY_KINDS.get(table, f"key in {table}")
            return f"{table}.{value}: unknown {what} {value!r}; allowed: {expected}"
        return f"{loc} = {_show(value)}: allowed: {expected}"
    if kind in {"less_than_equal", "greater_than_equal", "greater_than", "less_than"}:
        return f"{loc} = {_show(value)}: allowed: {msg.replace('Input should be ', '')}"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return f"{loc}: {text}" if loc else text
    if kind == "assertion_error":
        return f"{loc}: {msg}"
    if kind in _TYPE_WORDS:
        return f"{loc} = {_show(value)}: allowed: {_TYPE_WORDS[kind]}"
    return f"{loc} = {_show(value)}: {msg.replace('Input should be', 'allowed:')}"


def validate(data: dict[str, Any], label: str, overridden: tuple[str, ...] = (),
             schema: type[ScenarioBase] = Scenario) -> Scenario:
    """Validate merged data against ``schema``; ``overridden`` are the dotted fields set by
    overrides (not in the file), so that their problems say where the value came from."""
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
            for line in _describe(error, schema).split("\n"):
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
    return _overridden(data, label, overrides, schema)


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
            raise ScenarioError([f"{label}: base = {_show(base)}: allowed: a shipped name "
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


def _overridden(data: dict[str, Any], label: str, overrides: dict[str, Any],
                schema: type[ScenarioBase]) -> Scenario:
    """The one place where overrides are applied: set each, then validate the whole."""
    for key, value in overrides.items():
        if value is None:
            continue
        target = data
        parts = key.split("__")
        for i, part in enumerate(parts[:-1]):
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                where = ".".join(parts[: i + 1])
                raise ScenarioError([f"{label}: override {key}={value!r}: {where} is not a "
                                     "table; allowed: overrides of fields"])
        target[parts[-1]] = value
    overridden = tuple(k.replace("__", ".") for k, v in overrides.items() if v is not None)
    return validate(data, label, overridden, schema)
