"""One-call entry point: ``purgesim.run("great-terror", scale=1000).summary()``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from purgesim.results import Result
    from purgesim.scenario import Scenario


def run(scenario: str | Path | Scenario = "great-terror",
        progress: Callable[[int, int], None] | None = None, **overrides: Any) -> Result:
    """Load ``scenario`` (a shipped name, a path, or a Scenario), apply ``overrides`` such as
    ``scale=1000`` or ``seed=2``, run it, and return the :class:`Result`."""
    # imported here, not above: `import purgesim` binds this function eagerly (a submodule of
    # the same name would otherwise shadow it), and must not load the engine to do so
    from purgesim.engine.sim import Sim
    from purgesim.scenario import Scenario, load_scenario, with_overrides

    if isinstance(scenario, Scenario):
        scenario = with_overrides(scenario, **overrides)
    else:
        scenario = load_scenario(scenario, **overrides)
    return Sim(scenario).run(progress=progress)
