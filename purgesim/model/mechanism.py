"""The base class of the NKVD model's mechanisms: an engine mechanism built from a scenario,
owning the scenario's tables that hold its parameters.

A mechanism names its tables in ``sections`` (table name -> pydantic type: a
:class:`~purgesim.params.Section`, or a dict of them); :mod:`purgesim.scenario` builds the
scenario's schema from the sections of the mechanisms in the default list
(:data:`purgesim.mechanisms.MECHANISMS`), so adding a mechanism touches its own module, that
list and the scenario file, and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from purgesim import engine

if TYPE_CHECKING:
    from purgesim.scenario import Scenario


class Mechanism(engine.Mechanism):
    """A weekly mechanism of MODEL.md section 3."""

    sections: ClassVar[dict[str, Any]] = {}
    """The scenario tables this mechanism owns: name -> pydantic type of the table."""

    def __init__(self, scenario: Scenario) -> None:  # noqa: B027 - most read their tables
        """Read the parameters from ``scenario`` (validated: every table is there)."""
