"""The weekly mechanisms of MODEL.md section 3, one module each, run in the order listed here."""

from __future__ import annotations

from purgesim.engine.module import Mechanism
from purgesim.mechanisms.aftermath import Aftermath
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
from purgesim.scenario import Scenario

# Mechanisms of MODEL.md section 3 that have no module yet; the loop table lists them.
NOT_YET_BUILT: tuple[str, ...] = ()


def default_mechanisms(scenario: Scenario) -> list[Mechanism]:
    """The mechanisms of a run, in the order they act each week (MODEL.md section 3)."""
    return [
        Centre(scenario),  # 1
        Denunciation(scenario),  # 2
        Remarks(scenario),  # 3
        Economy(scenario),  # 4
        Operations(scenario),  # 5
        Interrogation(scenario),  # 6
        Sentencing(scenario),  # 7
        Families(scenario),  # 8
        Top(scenario),  # 9
        Camps(scenario),  # 10
        Purgers(scenario),  # 11
        Aftermath(scenario),  # 11
    ]


__all__ = [
    "NOT_YET_BUILT", "Aftermath", "Camps", "Centre", "Denunciation", "Economy", "Families",
    "Interrogation", "Mechanism", "Operations", "Purgers", "Remarks", "Sentencing", "Top",
    "default_mechanisms",
]
