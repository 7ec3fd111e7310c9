"""What every section of a scenario is made of: the base class and the field types.

Each mechanism defines its own section (a :class:`Section`) in its module, from these types;
:mod:`purgesim.scenario` assembles the sections into a scenario. Names that must be one of a
closed list (taint bits, calendar events, operations) take the list from :mod:`purgesim.vocab`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from purgesim.vocab import EVENTS, OCCUPATIONS, OPERATIONS, TAINTS


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Weeks = Annotated[float, Field(ge=0.0)]
Taint = Literal[TAINTS]  # type: ignore[valid-type]
EventId = Literal[EVENTS]  # type: ignore[valid-type]
OperationName = Literal[OPERATIONS]  # type: ignore[valid-type]
Occupation = Literal[OCCUPATIONS]  # type: ignore[valid-type]


class Section(BaseModel):
    """Every table of a scenario: unknown keys and wrong types are refused, nothing coerced.
    A field's docstring is its description in the JSON schema (the explorer's help texts)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              use_attribute_docstrings=True)
