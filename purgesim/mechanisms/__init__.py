"""The weekly mechanisms of MODEL.md section 3, one module each, run in the order listed here."""

from __future__ import annotations

from purgesim.engine.module import Mechanism
from purgesim.mechanisms.aftermath import Aftermath
from purgesim.mechanisms.camps import Camps
from purgesim.mechanisms.centre import Centre
from purgesim.mechanisms.interrogation import Interrogation
from purgesim.mechanisms.operations import Operations
from purgesim.mechanisms.sentencing import Sentencing
from purgesim.scenario import Scenario

# Mechanisms of MODEL.md section 3 that have no module yet; the loop table lists them.
NOT_YET_BUILT = (
    "denunciation from below (2)",
    "remarks and informants (3)",
    "economy and wrecking (4)",
    "families and hostages (8)",
    "terror at the top and in the middle (9)",
)


def default_mechanisms(scenario: Scenario) -> list[Mechanism]:
    """The mechanisms of a run, in the order they act each week."""
    return [
        Centre(scenario),
        Operations(scenario),
        Interrogation(scenario),
        Sentencing(scenario),
        Camps(scenario),
        Aftermath(scenario),
    ]


__all__ = [
    "NOT_YET_BUILT", "Aftermath", "Camps", "Centre", "Interrogation", "Mechanism", "Operations",
    "Sentencing", "default_mechanisms",
]
