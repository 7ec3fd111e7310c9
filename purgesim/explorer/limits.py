"""What one request may ask of the machine: the explorer's bounds, in one place.

A classroom shares one laptop's cores; a link sent round a seminar must not be able to start a
run that takes the machine for an hour. Every number a request carries is checked against
these bounds before anything is queued, and refused with one line naming the setting, the
value and what is allowed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

HARD_MIN_SCALE = 500
"""No option lowers the floor on the scale below this (1:500 is about 330,000 agents)."""


class Limits(BaseModel):
    """The bounds of an explorer server (``purgesim serve`` sets them from its options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_scale: Annotated[int, Field(ge=HARD_MIN_SCALE)] = 2000
    """The finest scale a run may have (real people per agent): 1:2000 runs in about a
    second."""
    max_scale: Annotated[int, Field(ge=1)] = 100_000
    max_seeds: Annotated[int, Field(ge=1, le=50)] = 5
    """Seeds per scenario in the explorer."""
    max_claim_seeds: Annotated[int, Field(ge=1, le=50)] = 10
    """Seeds per scenario on the claims page."""
    max_weeks: Annotated[int, Field(ge=1)] = 260
    """Weeks a scenario may span (the history is 169)."""
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    """Runs at once, each in a worker process of its own."""
    max_waiting: Annotated[int, Field(ge=0)] = 32
    """Jobs waiting for a worker; a request beyond this is refused as busy."""
    time_limit: Annotated[float, Field(gt=0)] = 60.0
    """Seconds one run (or one step of a job that is not a run) may take before it is
    stopped."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    """The largest request body (an uploaded scenario file)."""
    max_query_bytes: Annotated[int, Field(ge=256)] = 8 * 1024
    """The longest query string (a link's state)."""
    max_changes: Annotated[int, Field(ge=1)] = 200
    """Changed fields one link may carry."""
    grace_seconds: Annotated[float, Field(ge=0)] = 2.0
    """How long a job whose last page has gone waits for one to come back (a reload)
    before it is cancelled."""
    keep_runs: Annotated[int, Field(ge=10)] = 1000
    """Run folders kept on disk; the oldest beyond this are deleted."""

    def scales(self) -> list[int]:
        """The scales the page offers: the floor and coarser round numbers."""
        steps = [self.min_scale, 5000, 10_000, 20_000, 50_000, 100_000]
        return sorted({s for s in steps if self.min_scale <= s <= self.max_scale})
