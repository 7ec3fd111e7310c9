"""The weekly mechanisms of MODEL.md section 3, one module each, in the order they act.

:data:`MECHANISMS` is the default list: the simulation runs these each week in this order, and
the scenario's schema is built from the tables they own (their ``sections``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from purgesim.mechanisms.aftermath import Aftermath
from purgesim.mechanisms.army import Army
from purgesim.mechanisms.camps import Camps
from purgesim.mechanisms.centre import Centre
from purgesim.mechanisms.denunciation import Denunciation
from purgesim.mechanisms.economy import Economy
from purgesim.mechanisms.families import Families
from purgesim.mechanisms.interrogation import Interrogation
from purgesim.mechanisms.operations import Operations
from purgesim.mechanisms.purgers import Purgers
from purgesim.mechanisms.remarks import Remarks
from purgesim.mechanisms.sentencing import Sentencing
from purgesim.mechanisms.top import Top
from purgesim.model.mechanism import Mechanism

if TYPE_CHECKING:
    from purgesim.scenario import Scenario

MECHANISMS: tuple[type[Mechanism], ...] = (
    Centre,  # 1
    Denunciation,  # 2
    Remarks,  # 3
    Economy,  # 4
    Operations,  # 5
    Interrogation,  # 6
    Sentencing,  # 7
    Families,  # 8
    Top,  # 9
    Army,  # 9
    Camps,  # 10
    Purgers,  # 11
    Aftermath,  # 11
)
"""The default mechanisms, in the order they act each week (MODEL.md section 3)."""


def default_mechanisms(scenario: Scenario) -> list[Mechanism]:
    """The mechanisms of a run of ``scenario``, in the order they act each week."""
    return [kind(scenario) for kind in MECHANISMS]


__all__ = [
    "MECHANISMS", "Aftermath", "Army", "Camps", "Centre", "Denunciation", "Economy", "Families",
    "Interrogation", "Mechanism", "Operations", "Purgers", "Remarks", "Sentencing", "Top",
    "default_mechanisms",
]
