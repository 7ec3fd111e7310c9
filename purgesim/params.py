"""What every section of a scenario is made of: the base class and the field types.

Each mechanism defines its own section (a :class:`Section`) in its module, from these types;
:mod:`purgesim.scenario` assembles the sections into a scenario. Names that must be one of a
closed list (taint bits, calendar events, operations) take the list from :mod:`purgesim.vocab`.

Every number a scenario holds is finite (:class:`Section` refuses ``inf`` and ``nan``) and lies
between bounds that mean something: probabilities in [0, 1], and each kind of rate, count,
factor or duration below a maximum that its type explains (:data:`MAX_RUN_WEEKS`,
:data:`MAX_FACTOR`, ...). Beyond such a maximum a value would not change what a run can show,
or would make a run take hours for nothing; a value above it is refused with one line saying
why (:class:`Why`). A field with a maximum of its own explains it in its docstring.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from purgesim import datasets
from purgesim.vocab import EVENTS, OCCUPATIONS, OPERATIONS, TAINTS


@dataclass(frozen=True)
class Why:
    """Why a type's maximum is where it is: one clause, added to the line that refuses a value
    above it (``... allowed: less than or equal to 1000 (why)``)."""

    text: str


@dataclass(frozen=True)
class After:
    """Marks a field that names a calendar event which must not come before the event named
    by the field ``first`` of the same table (an operation's ``end`` after its ``start``).
    Checked where the calendar is known, by :mod:`purgesim.scenario`, when both events are
    set and enabled."""

    first: str


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


MAX_RUN_WEEKS = 1044
"""The longest run, and the longest duration a field may give in weeks: twenty years, from
1936 past Stalin's death and the releases that followed it. A lag, ramp or patience longer
than any run acts as an endless one, so a larger value could not change a result."""

MAX_FACTOR = 1000.0
"""The largest multiplier, relative odds or relative weight. A thousandfold rate, limit or
odds already decides the matter (the favoured choice is all but certain; a limit a thousand
times Order 00447's exceeds the whole population), so a larger one could not change a
result."""

MAX_PER_MILLION = 1_000_000.0
"""The largest rate or capacity per week per million people: a million per million is
everyone, every week."""

MAX_MEAN_COUNT = 100.0
"""The largest mean number of people drawn per event (names per confession, engineers per
failure, accusations per week in the Central Committee): a hundred already reaches a
workplace's whole staff or the whole committee, so a larger mean could only repeat names."""

MAX_EVIDENCE = 100.0
"""The largest amount of evidence (a bar, a bonus, an accusation's weight): one accusation
weighs about 1, and a bar of 100 is one no suspect clears within a run, so a larger value
could not change a result."""

MAX_YEARS = 60.0
"""The longest experience in years: a working life."""

MAX_SCALE = 100_000
"""The coarsest scale, 1:100,000. There the smallest republics have about a dozen agents and
the ordinary population (about 1,600 agents) is outnumbered by the 1,966 delegates of the 17th
Congress, who are one agent each at every scale: a coarser run is no sample of the country."""

MAX_NAME_BYTES = 200
"""The longest scenario name, in bytes of UTF-8 (about 100 Cyrillic letters): it names the
run's output folder, with room left in a file system's 255 bytes for the seed and scale."""


def _finite_max(low: float, high: float, why: str, *, low_open: bool = False) -> Any:
    bound = Field(gt=low, le=high) if low_open else Field(ge=low, le=high)
    return Annotated[float, bound, Why(why)]


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
"""A probability or a share: in [0, 1]."""
Odds = _finite_max(0.0, MAX_FACTOR, "relative odds or weights of a thousand already decide "
                   "the choice (MAX_FACTOR)")
"""Relative odds or weights: from 0 to :data:`MAX_FACTOR`."""
Multiplier = _finite_max(0.0, MAX_FACTOR, "a thousandfold rate or limit already exceeds what "
                         "the population allows (MAX_FACTOR)")
"""A multiplier on a rate, a limit or a share: from 0 to :data:`MAX_FACTOR`."""
PerMillion = _finite_max(0.0, MAX_PER_MILLION, "a million per million people is everyone, "
                         "every week")
"""A rate or capacity per week per million people: from 0 to :data:`MAX_PER_MILLION`."""
MeanCount = _finite_max(0.0, MAX_MEAN_COUNT, "a hundred per event already reaches a whole "
                        "staff or committee (MAX_MEAN_COUNT)")
"""A mean number of people drawn per event: from 0 to :data:`MAX_MEAN_COUNT`."""
Evidence = _finite_max(0.0, MAX_EVIDENCE, "one accusation weighs about 1; no suspect clears "
                       "a bar of 100 (MAX_EVIDENCE)")
"""An amount of evidence: from 0 to :data:`MAX_EVIDENCE`."""
Weeks = _finite_max(0.0, float(MAX_RUN_WEEKS), "twenty years, the longest run: a longer "
                    "duration acts as an endless one (MAX_RUN_WEEKS)")
"""A duration in weeks: from 0 to :data:`MAX_RUN_WEEKS`. A lag of at least a week is
``Annotated[Weeks, Field(ge=1.0)]``."""
Years = _finite_max(0.0, MAX_YEARS, "a working life (MAX_YEARS)")
"""A duration in years of experience: from 0 to :data:`MAX_YEARS`."""
NonNegative = Annotated[float, Field(ge=0.0)]
"""A finite number >= 0 without a maximum. Scenario tables use the bounded types above
instead (tests/test_params.py checks that every number of a scenario has a maximum)."""
Positive = Annotated[float, Field(gt=0.0)]
"""A finite number > 0 without a maximum (see :data:`NonNegative`)."""
Taint = Literal[TAINTS]  # type: ignore[valid-type]
EventId = Literal[EVENTS]  # type: ignore[valid-type]
OperationName = Literal[OPERATIONS]  # type: ignore[valid-type]
Occupation = Literal[OCCUPATIONS]  # type: ignore[valid-type]


def _known_nationality(code: int) -> int:
    known = {n.code: n.name for n in datasets.diaspora()}
    if code not in known:
        listed = ", ".join(f"{c} ({name})" for c, name in sorted(known.items()))
        raise ValueError(f"not a diaspora code of data/diaspora.csv; allowed: {listed}")
    return code


Nationality = Annotated[int, Field(le=255), Why("a nationality code is one byte"),
                      AfterValidator(_known_nationality)]
"""A diaspora nationality's code in ``data/diaspora.csv`` (one byte per person holds it)."""

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them when printed (the 'Trojan Source' set)."""


def unprintable(text: str, allow: str = "") -> list[str]:
    """The characters of ``text`` that a terminal would not show as themselves: control
    characters (but those in ``allow``), bidirectional controls, and other invisible format
    characters, as escapes such as ``\\x1b`` or ``\\u202e``, each once."""
    found: dict[str, None] = {}
    for char in text:
        if char in allow:
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co",
                                                                   "Cn", "Zl", "Zp"):
            found[char.encode("unicode_escape").decode("ascii")] = None
    return list(found)


def _plain_name(value: str) -> str:
    allowed = ("allowed: a plain name of printable characters, without '/' or '\\' and not "
               "starting with '.' (it names the run's output folder)")
    bad = unprintable(value)
    if bad:
        raise ValueError(f"contains {', '.join(bad)}; {allowed}")
    if not value.strip() or value != value.strip():
        raise ValueError(f"empty or with spaces at either end; {allowed}")
    if "/" in value or "\\" in value or value.startswith("."):
        raise ValueError(f"could be read as a path; {allowed}")
    if len(value.encode("utf-8")) > MAX_NAME_BYTES:
        raise ValueError(f"longer than {MAX_NAME_BYTES} bytes of UTF-8; {allowed}")
    return value


Name = Annotated[str, AfterValidator(_plain_name)]
"""A scenario's name: printable, no path (``runs/NAME-...`` stays in ``runs``), at most
:data:`MAX_NAME_BYTES` bytes."""


class Section(BaseModel):
    """Every table of a scenario: unknown keys and wrong types are refused, nothing coerced,
    and no number is infinite or not a number. A field's docstring is its description in the
    JSON schema (the explorer's help texts)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False,
                              use_attribute_docstrings=True)
