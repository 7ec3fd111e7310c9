"""The ``[population]`` table of a scenario (pydantic): how the synthetic population is built.

Validating a scenario needs only this module, not the builder; it imports nothing but pydantic
and the project's parameter types.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from purgesim.params import Multiplier, Probability, Section, Taint, Why
from purgesim.vocab import TAINTS

MAX_BLOCK_AGENTS = 1_000_000
"""The largest workplace, in agents: larger than any real workplace at the finest scale (1:1),
and than every republic but the RSFSR at the default 1:100."""
_BLOCK = Why("a million agents, more than any real workplace at 1:1 (MAX_BLOCK_AGENTS)")


class WorkplaceKind(Section):
    share: Probability
    """Share of a republic's ordinary agents who belong to this kind of workplace."""
    size_median: Annotated[float, Field(ge=1.0, le=MAX_BLOCK_AGENTS), _BLOCK]
    """Median size in agents (contacts are defined in agents, so they do not change with scale),
    at most :data:`MAX_BLOCK_AGENTS`."""
    size_sigma: Annotated[float, Field(ge=0.0, le=5.0), Why(
        "a spread of 5 already makes sizes either 1 or size_max")]
    """Log-normal spread of sizes: heavy-tailed workplaces. At most 5: one standard deviation
    is then a factor of 150, and nearly every size is either 1 or ``size_max``."""
    size_max: Annotated[int, Field(ge=1, le=MAX_BLOCK_AGENTS), _BLOCK]
    """Largest size in agents, at most :data:`MAX_BLOCK_AGENTS`."""
    staff_share: Probability
    """Share of a workplace's members (after its head) in its skilled or command posts."""


class PopulationParams(Section):
    """The ``[population]`` table of a scenario: how the synthetic population is built."""

    household_size_mean: Annotated[float, Field(ge=1.0, le=20.0), Why(
        "sizes are drawn up to 40 members, and 20 is beyond any census's mean")]
    """Mean household size, at least 1 (the person alone) and at most 20: sizes are drawn as
    1 + Poisson(mean - 1) cut at 40 members, and 20 is far beyond any census's mean."""
    workplaces: dict[Literal["kolkhoz", "factory", "office", "army_unit", "nkvd_unit"],
                     WorkplaceKind]
    camp_size_median: Annotated[float, Field(ge=1.0, le=5000.0), Why(
        "camps are cut at 5,000 agents")]
    """Median camp size in agents, at most 5,000: the size at which camps are cut."""
    dependent_share: Probability
    """Share of the members of a workplace who are dependents (occupation 'other')."""
    clergy_share: Probability
    taint: dict[Taint, Probability]
    """Share of adults with each taint bit (peasants carry the kulak bit only)."""
    card_file: dict[Taint, Probability]
    """Probability that the NKVD card file registers a person with this taint bit."""
    guilty_prevalence: Probability
    """Ground truth: share who really did what such charges alleged. An assumption, never a
    calibration target."""
    informant_share: Probability
    informant_office_multiplier: Multiplier

    @field_validator("taint")
    @classmethod
    def _taint_bits(cls, value: dict[str, float]) -> dict[str, float]:
        if "diaspora" in value:
            raise ValueError(
                "'diaspora' is not set here: it follows the census nationality table "
                "(data/diaspora.csv)"
            )
        missing = [t for t in TAINTS if t not in value and t != "diaspora"]
        if missing:
            raise ValueError(f"missing taint bits {missing}")
        return value

    @field_validator("card_file")
    @classmethod
    def _card_bits(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [t for t in TAINTS if t not in value]
        if missing:
            raise ValueError(f"missing taint bits {missing}; every one of {list(TAINTS)} is needed")
        return value

    @model_validator(mode="after")
    def _shares(self) -> PopulationParams:
        total = sum(k.share for k in self.workplaces.values())
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"population.workplaces shares add up to {total:.3f}; allowed: at most 1 "
                "(the rest of each republic lives in kolkhozes)"
            )
        return self
