"""An uploaded scenario file, turned into the page's state: its base and what it changes.

The file is validated by the same models and with the same one-line errors as ``purgesim
check``; its ``base`` must be a shipped name (an upload has no folder, and the server opens
no path a request names). A file without ``base`` is a whole scenario and is set against
``great-terror``. The changes become the link's fields, so that the link reproduces the file.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

from purgesim.explorer.limits import Limits
from purgesim.explorer.state import (
    MAX_SEED,
    NAME,
    NOT_CHANGES,
    State,
    StateError,
    check_scenario,
)
from purgesim.scenario import load_scenario, loads_scenario, shipped_scenarios

DEFAULT_BASE = "great-terror"
UNSAFE = re.compile(r"[^\w.+-]")


def upload_label(filename: str | None) -> str:
    """The name errors give the file: its base name, made safe to show, or ``upload.toml``."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = UNSAFE.sub("_", name)[:60].strip("._")
    return name or "upload.toml"


def differences(base: Any, other: Any, where: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value in ``other``) of every leaf where ``other`` differs from ``base``
    (scenarios as plain data). A key of ``base`` that ``other`` lacks cannot be a change and
    is an error."""
    if isinstance(base, dict) and isinstance(other, dict):
        out: list[tuple[str, Any]] = []
        missing = [k for k in base if k not in other]
        if missing:
            raise StateError([f"{where or 'the file'}: lacks {', '.join(map(str, missing))}; "
                              "allowed: the tables of its base, changed key by key"])
        for key, value in other.items():
            path = f"{where}.{key}" if where else str(key)
            out += differences(base.get(key), value, path) if key in base else [(path, value)]
        return out
    if base == other:
        return []
    return [(where, other.isoformat() if isinstance(other, dt.date) else other)]


def state_of_upload(text: str, filename: str | None, limits: Limits, scale: int | None = None
                    ) -> tuple[State, list[str]]:
    """The state that runs an uploaded file against its base, and notes on what the explorer
    set differently (a scale below its floor). Raises :class:`StateError` (or the
    :class:`~purgesim.scenario.ScenarioError` of validation) with one line per problem."""
    label = upload_label(filename)
    uploaded = loads_scenario(text, label)
    check_scenario(uploaded, label, limits)
    base_name = _base_of(text)
    base = load_scenario(base_name)
    changes = differences(
        {k: v for k, v in base.model_dump().items() if k not in NOT_CHANGES},
        {k: v for k, v in uploaded.model_dump().items() if k not in NOT_CHANGES})
    if len(changes) > limits.max_changes:
        raise StateError([f"{label}: {len(changes)} fields differ from {base_name}: allowed: "
                          f"at most {limits.max_changes} in the explorer (run it with "
                          "`purgesim run`)"])
    notes = []
    chosen = uploaded.scale if scale is None else scale
    if not limits.min_scale <= chosen <= limits.max_scale:
        notes.append(f"{label}: scale = {chosen}: the explorer runs between 1:{limits.min_scale} "
                     f"and 1:{limits.max_scale}, so this runs at 1:{limits.min_scale}")
        chosen = limits.min_scale
    seed = uploaded.seed
    if seed > MAX_SEED:
        notes.append(f"{label}: seed = {seed}: the explorer's seeds go up to {MAX_SEED}, so "
                     "this runs on seed 1")
        seed = 1
    name = uploaded.name if NAME.fullmatch(uploaded.name) and changes else ""
    state = State(base=base_name, name=name, scale=chosen, seed=seed, seeds=1,
                  changes=tuple(sorted(changes)))
    return state, notes


def _base_of(text: str) -> str:
    """The shipped base an (already validated) file names, or the default one."""
    base = tomllib.loads(text).get("base")
    return base if isinstance(base, str) and base in shipped_scenarios() else DEFAULT_BASE
