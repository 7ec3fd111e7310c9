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
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, model_validator

from purgesim.params import (
    Date,
    EventId,
    NonNegative,
    Occupation,
    OperationName,
    Positive,
    Probability,
    Section,
    Taint,
    Weeks,
)
from purgesim.population import PopulationParams

# --------------------------------------------------------------------------------------------
# Calendar


class Event(Section):
    date: Date
    enabled: bool = True
    note: str = ""


# --------------------------------------------------------------------------------------------
# Mechanisms


class Centre(Section):
    enabled: bool
    """Limits (quotas) from the centre. Off: operations arrest only on suspicion (no quotas)."""
    limit_multiplier: NonNegative
    request_threshold: Probability
    request_fraction: NonNegative
    request_cat1_share: Probability
    approval_probability: Probability
    """Weekly chance that an oblast's pending request for more is granted, until
    ``approvals_until``; so the share of a republic's pending requests granted each week."""
    approval_share: Probability
    approvals_until: EventId | None = None
    """The Politburo's last general extension: at this event every region that still has
    suspects gets ``final_grant`` of its initial limit at once; afterwards requests are granted
    only with ``late_approval_probability`` (none: routine approvals never end)."""
    final_grant: NonNegative = 0.0
    late_approval_probability: Probability = 0.0
    max_multiplier_cat1: Annotated[float, Field(ge=1.0)]
    max_multiplier_cat2: Annotated[float, Field(ge=1.0)]


class Operation(Section):
    enabled: bool = True
    start: EventId | None = None
    """Calendar event that starts the operation (none: active from the first week)."""
    end: EventId | None = None
    """Calendar event that ends it (none: it never ends)."""
    limited: bool = False
    """Arrests paced by the centre's category 1 and 2 limits (Order 00447) rather than a rate."""
    plan_weeks: Annotated[float, Field(gt=0.0)] = 17.0
    fill_weeks: Annotated[float, Field(gt=0.0)] | None = None
    """Limited operations: the weeks in which a region aims to use what is left of its current
    limit (chiefs raced to finish early and ask for more); none: spread over the plan."""
    overfulfilment: NonNegative = 1.0
    rate: NonNegative = 0.0
    """Unlimited operations: card-file arrests per week, per million people in the region."""
    rate_ramp_weeks: Weeks = 0.0
    surge: EventId | None = None
    """Calendar event from which the rate is multiplied by ``surge_multiplier``."""
    surge_multiplier: NonNegative = 1.0
    targets: list[Taint] = []
    nationalities: list[int] = []
    """Diaspora codes of data/diaspora.csv that the operation sweeps (national operations)."""
    torture_probability: Probability = 0.5
    names_mean: NonNegative = 1.0
    cat1_share: Probability = 0.5
    mass_cat1_share: Probability | None = None
    """The share shot by cases sentenced from ``mass_from`` until ``mass_until`` (the mass
    operations' troikas); outside that window, ``cat1_share``. None: ``cat1_share`` always."""
    mass_from: EventId | None = None
    mass_until: EventId | None = None
    convict_without_confession: Probability = 0.8
    sentence_lag_weeks: Annotated[float, Field(ge=1.0)] = 4.0
    album_until: EventId | None = None
    """The 'album' procedure: cases wait for approval in Moscow (``sentencing.album_lag_weeks``)
    until this event (the special troikas), which then decide the backlog within
    ``sentence_lag_weeks``."""


class Nkvd(Section):
    capacity_per_million: NonNegative
    """Interrogations a region's NKVD can start per week, per million people, before 1937."""
    mass_capacity_per_million: NonNegative
    """The same once staff have been assigned to the mass operations."""
    capacity_ramp_weeks: Weeks
    sweep_capacity_per_million: NonNegative = 0.0
    """Card-file arrests under a limited operation (Order 00447) that the operational groups can
    make per week per million, on top of the interrogation capacity: such a case needed no
    investigation, only a name in the card file (0: sweeps share the interrogation capacity)."""
    capacity_after_stop_per_million: NonNegative
    queue_patience_weeks: Annotated[float, Field(ge=1.0)]
    """Named suspects not arrested within this many weeks are dropped from the queue."""


class Interrogation(Section):
    enabled: bool
    torture: bool
    """Policy switch: physical methods permitted from the 'physical_methods' calendar event."""
    torture_before_sanction: Probability
    confess_tortured: Probability
    confess_guilty: Probability
    confess_innocent: Probability
    name_weights: dict[Literal["coworker", "household", "acquaintance", "patron_client"],
                       NonNegative]
    plausibility: dict[Literal["tainted", "official", "party", "card_file"], NonNegative]
    """Relative odds that a person is named, by what makes the accusation plausible."""
    card_file_topup: Probability
    """Share of names the investigator supplies from the card file instead."""


class Sentencing(Section):
    court: Literal["troika", "evidence"]
    """'troika': the case file decides, a confession is enough. 'evidence': a court that
    convicts on real evidence, so the verdict follows ground truth (the counterfactual)."""
    evidence_convict_guilty: Probability
    evidence_convict_innocent: Probability
    evidence_confession_weight: Probability
    cat1_profile_odds: dict[Taint, NonNegative]
    after_stop_release: Probability
    """Share of the cases still pending at the stop decree that are released on review."""
    album_lag_weeks: Annotated[float, Field(ge=1.0)] = 10.0
    """Mean weeks from arrest to a decision for the operations judged by 'album' in Moscow: one
    commission (the NKVD chief and the Procurator) decided every national operation's lists."""


class Evidence(Section):
    """'Punish ten so that one does not go free': the evidence an arrest needs falls as the
    pressure of unfilled limits rises."""

    threshold_max: NonNegative
    """Evidence a suspect needs when there is no pressure at all."""
    pressure_sensitivity: Probability
    """Share by which the threshold falls at full pressure."""
    vigilance_event: EventId | None = None
    """From this event until the stop decree, the pressure is at least ``vigilance_pressure``."""
    vigilance_pressure: Probability
    guilt_bonus: NonNegative
    """Extra evidence against someone who really did it: the guilty leave real traces."""
    noise: NonNegative
    """Each accusation's evidence varies uniformly by this much either way."""
    by_source: dict[Literal["named", "denunciation", "remark", "sabotage", "family", "elite"],
                    NonNegative]
    """Evidence carried by one accusation, by where it came from; accusations of the same person
    add up."""


class Denunciation(Section):
    """Mechanism 2: free people denounce contacts, more so when afraid."""

    enabled: bool
    start: EventId | None = None
    base_rate_per_million: NonNegative
    """Denunciations per week per million people, with nobody afraid."""
    fear_workplace: NonNegative
    """Extra denunciations per week in a workplace, per arrest there in the last weeks."""
    fear_region: NonNegative
    """Multiplier on the base rate per arrest per thousand people in the region recently."""
    fear_memory_weeks: Annotated[int, Field(ge=1, le=52)]
    grievance_share: Probability = 0.0
    """Share of people nursing an old grievance (ground truth, drawn once)."""
    grievance_odds: Annotated[float, Field(ge=1.0)] = 1.0
    """How much more readily someone with a grievance denounces than anyone else."""
    contacts: Annotated[int, Field(ge=1, le=20)] = 6
    """Contacts a denouncer chooses among (each drawn on its own, so some may repeat)."""
    superior_share: Probability = 0.1
    """Share of those contacts who are his superior, the head of his workplace."""
    coworker_share: Probability = 0.8
    """Share of the others who are coworkers; the rest are neighbours and acquaintances in
    the region."""
    boss_odds: NonNegative
    """Odds of denouncing the head or staff of one's workplace (opportunity: their post)."""
    tainted_odds: NonNegative
    remark_odds: NonNegative
    """Odds of denouncing someone known to have made critical remarks."""


class Remarks(Section):
    """Mechanism 3: critical remarks, overheard and reported by informants or the frightened."""

    enabled: bool
    speech_tolerated: bool
    """Policy: a remark is no ground for arrest (nothing is reported or acted upon)."""
    talker_share: Probability
    """Share of people who make critical remarks readily (the rest rarely)."""
    talker_rate: Probability
    """Weekly probability that a ready talker makes a remark in front of coworkers."""
    other_rate: Probability
    """Weekly probability that anyone makes a remark (ready talkers: on top of their own)."""
    hearers: Annotated[int, Field(ge=1, le=20)]
    """Coworkers who hear each remark."""
    informant_report: Probability
    """Probability that an informant who hears a remark reports it."""
    fear_report: Probability
    """Probability that a hearer reports it, per arrest in the workplace in the last weeks."""
    fear_memory_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    """How far back arrests in the workplace frighten hearers."""


class Economy(Section):
    """Mechanism 4: enterprises with plans, failures blamed on sabotage, inexperienced
    promotees replacing arrested managers."""

    enabled: bool
    blame_event: EventId | None = None
    """From this event failures can be blamed on sabotage."""
    blame_probability: Probability
    """Policy: probability that a failure is blamed on sabotage."""
    failure_rate: Probability
    """Weekly probability of a breakdown in an enterprise led by experienced staff."""
    tautness: NonNegative
    """Plan tautness: multiplies the failure rate."""
    experience_scale_years: Positive
    """Failures fall with experience as exp(-years / scale), relative to inexperience."""
    inexperience_multiplier: Annotated[float, Field(ge=1.0)]
    """Failure rate of a wholly inexperienced leadership relative to an experienced one."""
    initial_experience_years: NonNegative
    promotee_experience_years: NonNegative
    suspects_per_failure: NonNegative
    """Engineers put on the suspect list besides the manager, on average."""
    failure_output_loss: Probability
    """Share of a week's output lost to a failure."""
    blame_end: EventId | None = None
    """From this event failures are no longer blamed (none: blamed to the end of the run)."""
    enterprise_kinds: list[Literal["factory", "kolkhoz"]]
    """Workplaces that are enterprises with a plan (a kolkhoz's head is its chairman)."""
    experience_output_share: Probability
    """Share of output that depends on the leadership's experience: a wholly inexperienced
    leadership produces 1 - share of what an experienced one does."""
    staff_replacement_weeks: Annotated[float, Field(ge=1.0)]
    """Mean weeks to fill a post emptied by an arrest (lost staff recover geometrically)."""


class Families(Section):
    """Mechanism 8: wives of 'traitors' (Order 00486) and relatives held as hostages."""

    enabled: bool
    start: EventId | None = "order_00486"
    end: EventId | None = "order_00689"
    wife_arrest_probability: Probability
    """Probability that a convicted 'traitor' has a wife (an adult household member) arrested."""
    traitor_operations: list[OperationName]
    """Convicts of these operations (the Military Collegium's) count as traitors."""
    traitor_occupations: list[Occupation]
    """Convicts of these occupations (military tribunals: officers) count as traitors too."""
    hostage_rate: Probability
    """Weekly probability that a relative of a senior official is held to enforce obedience."""


class Top(Section):
    """Mechanism 9: terror at the top and in the middle."""

    enabled: bool
    tail_probability: Probability
    """Each client of an arrested official is pulled in with him (the 'tail')."""
    faction_event: EventId | None = "plenum_feb_1937"
    faction_end: EventId | None = "stop_decree"
    faction_accusations_per_week: NonNegative
    """Accusations of factionalism per week in the 1934 Central Committee."""
    faction_oppositionist_odds: NonNegative
    conspiracy_prevalence: Probability
    """Ground truth: share of the Central Committee really conspiring (0: no conspiracy)."""
    dissent_rate: Probability
    """Weekly probability that a party member voices a disagreement that is reported."""
    officers_event: EventId | None = "red_army_purge"
    officers_weekly_share: Probability
    """Weekly share of the officer corps (its 1937 size) arrested during the army purge, from
    ``officers_event`` until the stop decree."""
    cc_former_oppositionists: Annotated[int, Field(ge=0)]
    """Central Committee members marked with the 'oppositionist' taint (the rest are cleared):
    the targets that ``faction_oppositionist_odds`` favours."""


class Purgers(Section):
    """Mechanism 11: the purge of the purgers."""

    enabled: bool
    start: EventId | None = "order_00447"
    weekly_share: Probability
    """Weekly share of NKVD officers arrested during the mass operations."""
    after_event: EventId | None = "beria_appointed"
    weekly_share_after: Probability
    """The same once Beria purges Yezhov's men."""
    after_weeks: Annotated[float, Field(ge=0.0)]


class Camps(Section):
    enabled: bool
    annual_mortality: Probability


class Aftermath(Section):
    enabled: bool
    camp_release_share_1939: Probability
    release_event: EventId


# --------------------------------------------------------------------------------------------
# The scenario


class Scenario(Section):
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
    centre: Centre
    operations: dict[OperationName, Operation]
    nkvd: Nkvd
    interrogation: Interrogation
    evidence: Evidence
    denunciation: Denunciation
    remarks: Remarks
    economy: Economy
    sentencing: Sentencing
    families: Families
    top: Top
    camps: Camps
    purgers: Purgers
    aftermath: Aftermath

    @model_validator(mode="after")
    def _dates(self) -> Scenario:
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
        events = [(f"operations.{name}.{field}", getattr(op, field))
                  for name, op in self.operations.items()
                  for field in ("start", "end", "surge", "album_until")]
        for section in ("evidence", "denunciation", "economy", "families", "top", "purgers",
                        "aftermath"):
            model = getattr(self, section)
            for field in type(model).model_fields:
                if field.endswith(("event", "start", "end")):
                    events.append((f"{section}.{field}", getattr(model, field)))
        for where, event in events:
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


def _allowed_keys(loc: tuple[Any, ...]) -> list[str] | None:
    """The keys allowed in the table at ``loc`` (a pydantic location), if it is a model."""
    current: Any = Scenario
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


def _describe(error: dict[str, Any], data: dict[str, Any]) -> str:
    loc_parts = tuple(error["loc"])
    loc = ".".join(str(p) for p in loc_parts)
    kind = error["type"]
    msg = error["msg"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc_parts[:-1])
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


def validate(data: dict[str, Any], label: str, overridden: tuple[str, ...] = ()) -> Scenario:
    """Validate merged data; ``overridden`` are the dotted fields set by overrides (not in the
    file), so that their problems say where the value came from."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in error["loc"])
            note = ""
            if any(loc == o or loc.startswith(f"{o}.") for o in overridden):
                note = " (set by an override such as --scale or --seed, not in the file)"
            # a check of several fields may report several problems, one per line
            for line in _describe(error, data).split("\n"):
                lines.append(f"{label}: {line}{note}")
        raise ScenarioError(lines) from None


def load_scenario(ref: str | Path = "great-terror", **overrides: Any) -> Scenario:
    """Load and validate a scenario by shipped name or path; ``overrides`` set top-level fields
    (e.g. ``scale=1000, seed=3``) or, with ``__``, nested ones (``camps__enabled=False``)."""
    label, data = _read(str(ref), None, ())
    return _overridden(data, label, overrides)


def with_overrides(scenario: Scenario, **overrides: Any) -> Scenario:
    """``scenario`` with fields changed as :func:`load_scenario`'s ``overrides`` change them,
    validated in the same way (an override that is ``None`` changes nothing)."""
    if all(value is None for value in overrides.values()):
        return scenario
    return _overridden(scenario.model_dump(), scenario.name, overrides)


def _overridden(data: dict[str, Any], label: str, overrides: dict[str, Any]) -> Scenario:
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
    return validate(data, label, overridden)
