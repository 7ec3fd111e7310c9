"""The states mechanisms share, each a typed object with one owner.

A mechanism that owns one lists its type in ``provides`` and creates it in ``init``; a
mechanism that reads one lists it in ``needs``. The simulation checks before the first week
that each is created before it is read (:meth:`purgesim.engine.sim.Sim.check_order`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Policy:
    """The policy in force this week, set by the centre (mechanism 1) by date."""

    limits: bool = True
    """Limits (quotas) from the centre, and the card-file sweeps of every operation, are in
    force; off: arrests only on individual suspicion (no quotas, MODEL.md section 5)."""
    torture: bool = False
    """Physical methods are permitted in interrogation."""
    troikas: bool = True
    """The troikas sit; after the stop decree their pending cases are reviewed."""
    speech_tolerated: bool = False
    """A critical remark is no ground for arrest."""


class Limits:
    """Order 00447's limits per region, in agent units (real numbers: fractions carry over);
    owned by the centre, counted against by operations and sentencing."""

    def __init__(self, cat1: np.ndarray, cat2: np.ndarray):
        self.initial_cat1 = cat1.copy()
        self.initial_cat2 = cat2.copy()
        self.cat1 = cat1.astype(float)
        self.cat2 = cat2.astype(float)
        self.arrested = np.zeros_like(self.cat1)  # arrests counted against the limit
        self.used_cat1 = np.zeros_like(self.cat1)  # sentences counted against each category
        self.used_cat2 = np.zeros_like(self.cat1)
        # category 1 sentences the troikas would have given without the limits (expected, of the
        # used_cat1 + used_cat2 they gave): a region asks for the category its troika lacked,
        # not for the one the limits forced on it
        self.wanted_cat1 = np.zeros_like(self.cat1)
        self.request_cat1 = np.zeros_like(self.cat1)  # pending requests for increases
        self.request_cat2 = np.zeros_like(self.cat1)
        self.backlog = np.zeros(len(self.cat1), dtype=bool)  # suspects left beyond the limit

    @property
    def total(self) -> np.ndarray:
        return self.cat1 + self.cat2


def _no_rows() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class Sentences:
    """This week's sentences (event rows), passed by sentencing (mechanism 7)."""

    rows: np.ndarray = field(default_factory=_no_rows)
    """Every case decided this week."""
    camp: np.ndarray = field(default_factory=_no_rows)
    """Those sent to the camps (category 2)."""

    def clear(self) -> None:
        self.rows = _no_rows()
        self.camp = _no_rows()
