"""The page's sliders and switches, built from the scenario schema.

Which fields get a control up front is a choice (:data:`GROUPS`: the mechanisms the essay
argues about); everything else about a control comes from the schema that validates
scenarios (:data:`purgesim.scenario.Scenario`, built from the mechanisms' tables): the kind
of input from the field's type, the range from its bounds, the help text from its docstring,
the choices of a closed list from its enum. So when the model's parameters change (a bound,
a new field, a renamed one) the controls follow: a field no longer in the schema is left
out, and every scalar field of every table is offered in "all parameters", found by walking
the default scenario and the schema together.

A field with no upper bound gets a slider up to four times its default value (at least 1),
and a probability with a tiny default a logarithmic one; the number box beside each slider
takes any value the schema allows.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("purgesim.explorer")

GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Torture", (("interrogation.torture", "Torture permitted"),
                 ("interrogation.torture_before_sanction", "Beatings before the sanction"),
                 ("interrogation.confess_tortured", "Confession under torture"))),
    ("Limits from the centre, and the ratchet", (
        ("centre.enabled", "Limits (quotas) from the centre"),
        ("centre.limit_multiplier", "Size of the limits"),
        ("centre.approval_probability", "How readily the centre raises them"),
        ("centre.late_approval_probability", "...after January 1938"),
        ("centre.request_threshold", "Share used before asking for more"))),
    ("The evidence bar (\u201cpunish ten\u201d)", (
        ("evidence.threshold_max", "Evidence needed, no pressure"),
        ("evidence.pressure_sensitivity", "How far the bar falls under the limits"),
        ("evidence.vigilance_pressure", "Pressure during the call for vigilance"))),
    ("Denunciation and fear", (
        ("denunciation.enabled", "Denunciation from below"),
        ("denunciation.base_rate_per_million", "Denunciations, nobody afraid"),
        ("denunciation.fear_workplace", "Fear from arrests at work"),
        ("denunciation.fear_region", "Fear from arrests in the region"),
        ("denunciation.grievance_share", "People nursing a grievance"))),
    ("Speech", (("remarks.speech_tolerated", "Critical remarks tolerated"),
                ("remarks.informant_report", "Informants report what they hear"))),
    ("Sabotage blame", (("economy.blame_probability", "Failures blamed on sabotage"),)),
    ("Families and hostages", (("families.enabled", "Family repression (Order 00486)"),
                               ("families.wife_arrest_probability", "Wives arrested"),
                               ("families.hostage_rate", "Relatives held as hostages"))),
    ("The stop decree", (("calendar.stop_decree.enabled", "Stop decree"),
                         ("calendar.stop_decree.date", "Date of the stop decree"))),
    ("Courts", (("sentencing.court", "Who sentences"),
                ("sentencing.evidence_convict_innocent", "Evidence court: innocent convicted"))),
    ("Assumed prevalence of guilt", (
        ("population.guilty_prevalence", "Share really guilty (an assumption)"),)),
)
"""The controls shown first, by group: (dotted path, label). Their kind, range and help come
from the schema."""
SKIPPED = {"name", "description", "calibration", "scale", "seed", "start", "end"}
LOG_BELOW = 0.01
"""A bounded field whose default is under this share of its range gets a log slider."""


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (and a nullable ``anyOf``) to the node that says what the value is;
    ``nullable`` is set if None is allowed."""
    nullable = False
    while True:
        if "$ref" in node:
            node = {**schema["$defs"][node["$ref"].split("/")[-1]],
                    **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            nullable = nullable or len(options) < len(node["anyOf"])
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        else:
            return {**node, "nullable": nullable} if nullable else node


def field_schema(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The resolved schema of the field at a dotted path (None if the schema has none)."""
    node: dict[str, Any] = schema
    for part in path.split("."):
        node = _resolve(schema, node)
        if part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            allowed = node.get("propertyNames", {}).get("enum")
            if allowed is not None and part not in allowed:
                return None
            node = node["additionalProperties"]
        else:
            return None
    return _resolve(schema, node)


def _nice_step(span: float) -> float:
    raw = span / 100
    for step in (1e-6, 1e-5, 1e-4, 1e-3, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100):
        if step >= raw:
            return step
    return float(f"{raw:.1g}")


def plain(docstring: str) -> str:
    """A field's docstring as the page shows it: one line, without the reStructuredText
    markup of literals (a page shows ``approvals_until`` with its backticks)."""
    return " ".join(docstring.replace("``", "").split())


def control(schema: dict[str, Any], path: str, value: Any, label: str | None = None,
            dates: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """The control of one field, given its value in the default scenario; None for a field
    the page does not edit (a list, a table)."""
    node = field_schema(schema, path)
    if node is None:
        return None
    out: dict[str, Any] = {"path": path, "label": label or node.get("title") or path,
                           "help": plain(str(node.get("description", ""))),
                           "nullable": bool(node.get("nullable"))}
    kind = node.get("type")
    if "enum" in node:
        out.update(kind="select", options=list(node["enum"]))
    elif kind == "boolean":
        out.update(kind="switch")
    elif kind == "string" and node.get("format") == "date":
        out.update(kind="date", min=dates[0] if dates else None,
                   max=dates[1] if dates else None)
    elif kind in ("number", "integer") and isinstance(value, int | float):
        out.update(_numeric(node, kind, float(value)))
    else:
        return None
    return out


def _numeric(node: dict[str, Any], kind: str, default: float) -> dict[str, Any]:
    """Kind, bounds (those of the schema; where it has none, a range around the default)
    and step of a number's slider."""
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    out: dict[str, Any] = {"kind": "slider", "integer": kind == "integer",
                           "min": low, "max": high,
                           "exclusive_min": "exclusiveMinimum" in node,
                           "exclusive_max": "exclusiveMaximum" in node}
    slider_low = low if low is not None else min(0.0, default)
    slider_high = high if high is not None else max(1.0, 4 * abs(default))
    if kind == "integer":
        slider_high = max(slider_high, slider_low + 1)
    log_scale = (kind == "number" and high is not None and default > 0
                 and default < LOG_BELOW * (slider_high - slider_low))
    if log_scale:
        slider_low = default / 100
    out.update(slider_min=slider_low, slider_max=slider_high, log=log_scale,
               step=1 if kind == "integer" else _nice_step(slider_high - slider_low))
    return out


def leaves(value: Any, where: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) of every scalar in a scenario's plain data, in order."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, item in value.items():
            out += leaves(item, f"{where}.{key}" if where else str(key))
        return out
    return [(where, value)]


HEADER = re.compile(r"\[([\w.]+)\]\s*(#.*)?")
ASSIGNMENT = re.compile(r"(\w+)\s*=\s*(.*)")


def _comment(rest: str) -> str:
    """The comment after a TOML value on its line ('' if none): the first '#' outside a
    string."""
    quote = None
    for i, char in enumerate(rest):
        if quote is None and char in "\"'":
            quote = char
        elif char == quote:
            quote = None
        elif char == "#" and quote is None:
            return rest[i + 1:].strip()
    return ""


def toml_comments(text: str) -> dict[str, str]:
    """The comment on the line of each key of a TOML file, by dotted path: the shipped
    default scenario comments every value, and a field without a docstring borrows it."""
    out: dict[str, str] = {}
    table, in_string = "", False
    for line in text.splitlines():
        stripped = line.strip()
        if in_string:
            in_string = '"""' not in stripped
            continue
        header = HEADER.fullmatch(stripped)
        if header:
            table = header.group(1)
            continue
        match = ASSIGNMENT.match(stripped)
        if match is None:
            continue
        if match.group(2).count('"""') == 1:
            in_string = True
            continue
        comment = _comment(match.group(2))
        if comment:
            out[f"{table}.{match.group(1)}" if table else match.group(1)] = comment
    return out


def controls(schema: dict[str, Any], default: dict[str, Any],
             comments: dict[str, str] | None = None) -> dict[str, Any]:
    """The page's controls: the chosen ``groups`` and ``all`` (every scalar field, by table),
    from the JSON schema of a scenario and the default scenario as plain JSON data;
    ``comments`` (by dotted path) are the help of fields the schema does not describe."""
    dates = (default["start"], default["end"])
    values = dict(leaves(default))
    comments = comments or {}

    def control_of(path: str, label: str) -> dict[str, Any] | None:
        made = control(schema, path, values.get(path), label, dates)
        if made is not None and not made["help"]:
            made["help"] = comments.get(path, "")
        return made
    groups = []
    for title, fields in GROUPS:
        made = []
        for path, label in fields:
            c = control_of(path, label)
            if c is None:
                log.warning("explorer: %s is not a scalar field of the scenario schema any "
                            "more; its control is left out", path)
            else:
                made.append(c)
        if made:
            groups.append({"title": title, "controls": made})
    tables: dict[str, list[dict[str, Any]]] = {}
    for path, value in leaves(default):
        top = path.split(".")[0]
        if top in SKIPPED or path.endswith(".note") or isinstance(value, list):
            continue
        c = control_of(path, path.split(".", 1)[-1])
        if c is not None:
            tables.setdefault(top, []).append(c)
    return {"groups": groups, "all": [{"title": t, "controls": cs} for t, cs in tables.items()]}
