"""Pydantic's validation errors as the one line each that a user reads: the field, the value
and what is allowed, with the reason for a maximum (:class:`~purgesim.params.Why`).

Used for scenario files (:mod:`purgesim.scenario`) and calibration configs; it knows nothing of
either beyond the schema it is given.
"""

from __future__ import annotations

import datetime as dt
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from purgesim.params import Why, unprintable


def show(value: Any, limit: int = 80) -> str:
    """A value as it would look in TOML where that is easy (dates, numbers), else its repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    # datetime is a date: TOML dates, times and datetimes are shown as TOML writes them
    text = value.isoformat() if isinstance(value, dt.date | dt.time) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
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


def _unwrapped(current: Any, found: list[Any]) -> tuple[Any, list[Any]]:
    """``current`` without ``Annotated`` (its metadata added to ``found``) and without an
    optional ``| None``."""
    while True:
        if get_origin(current) is Annotated:
            found = found + list(get_args(current)[1:])
            current = get_args(current)[0]
        elif get_origin(current) in (Union, UnionType):
            kept = [a for a in get_args(current) if a is not type(None)]
            if len(kept) != 1:
                return current, found
            current = kept[0]
        else:
            return current, found


def number_paths(data: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths (tuples of keys, as :func:`metadata_at` takes them) of every number in plain
    scenario data, in order; dict values included, booleans left out."""
    out: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += number_paths(value, (*path, key))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append((*path, key))
    return out


def metadata_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[Any]:
    """The annotation metadata (constraints, :class:`~purgesim.params.Why`) of the field or
    dict value at ``loc``; empty if there is none to find."""
    current: Any = schema
    found: list[Any] = []
    for part in loc:
        current, found = _unwrapped(current, found)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current, found = field.annotation, list(field.metadata)
        elif get_origin(current) is dict:
            current, found = get_args(current)[1], []
        elif get_origin(current) is list:
            current, found = get_args(current)[0], []
        else:
            return []
    current, found = _unwrapped(current, found)
    for item in list(found):  # a Field(...) inside Annotated carries its own metadata
        found += list(getattr(item, "metadata", []))
    return found


def why_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> str:
    reasons = [m.text for m in metadata_at(schema, loc) if isinstance(m, Why)]
    return f" ({reasons[-1]})" if reasons else ""


def describe(error: dict[str, Any], schema: type[BaseModel]) -> str:
    loc_parts = tuple(error["loc"])
    loc = ".".join(str(p) for p in loc_parts)
    kind = error["type"]
    msg = error["msg"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = allowed_keys(schema, loc_parts[:-1])
        hint = f"allowed: {', '.join(allowed)}" if allowed else "check the spelling"
        return f"{loc} = {show(value)}: unknown key; {hint}"
    if kind == "missing":
        return f"{loc}: missing; set it, or start from a shipped scenario with base = \"great-terror\""
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        if loc_parts and loc_parts[-1] == "[key]":
            # a dict key that is not allowed (a calendar event id, an operation name...)
            table = ".".join(str(p) for p in loc_parts[:-2])
            what = _KEY_KINDS.get(table, f"key in {table}")
            return f"{table}.{value}: unknown {what} {value!r}; allowed: {expected}"
        return f"{loc} = {show(value)}: allowed: {expected}"
    if kind in {"less_than_equal", "less_than"}:
        return (f"{loc} = {show(value)}: allowed: {msg.replace('Input should be ', '')}"
                f"{why_at(schema, loc_parts)}")
    if kind in {"greater_than_equal", "greater_than"}:
        return f"{loc} = {show(value)}: allowed: {msg.replace('Input should be ', '')}"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if loc and isinstance(value, str | int | float):  # a value checked on its own
            return f"{loc} = {show(value)}: {text}"
        return f"{loc}: {text}" if loc else text
    if kind == "assertion_error":
        return f"{loc}: {msg}"
    if kind in _TYPE_WORDS:
        return f"{loc} = {show(value)}: allowed: {_TYPE_WORDS[kind]}"
    return f"{loc} = {show(value)}: {msg.replace('Input should be', 'allowed:')}"


def unprintable_problems(data: Any, where: str) -> list[str]:
    """A line for every key or string in ``data`` with characters a terminal would not show
    as themselves (control characters but tab and newline, bidirectional controls): they
    would be printed in tables, errors and reports."""
    problems = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{where}.{key}" if where else str(key)
            bad = unprintable(str(key))
            if bad:
                problems.append(f"{show(here)}: a key with {', '.join(bad)}; allowed: printable "
                                "characters")
            else:
                problems += unprintable_problems(value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            problems += unprintable_problems(value, f"{where}.{i}")
    elif isinstance(data, str):
        bad = unprintable(data, allow="\t\n")
        if bad:
            problems.append(f"{where} = {show(data)}: contains {', '.join(bad)}; allowed: "
                            "printable characters (and tabs and newlines)")
    return problems
