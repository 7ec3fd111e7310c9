"""``purgesim history``: a scenario run on several seeds against every comparable archival
figure (:mod:`purgesim.history`), with the headline over the seeds and over the shipped
posterior, and the innocent share's sensitivity to the assumed prevalence of guilt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from purgesim.calibration import (
    CalibrationConfig,
    load_config,
    overrides,
    posterior_draws,
    posterior_path,
)
from purgesim.ensemble import spread
from purgesim.history import compare_runs, error_summary
from purgesim.scenario import Scenario, ScenarioError, with_overrides
from purgesim.sim import run

DEFAULT_PREVALENCES = (1e-5, 1e-4, 1e-3, 1e-2)
"""Guilt prevalences of the innocent share's sensitivity, unless others are asked for."""
HEADLINE: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("arrested", lambda s: s["totals"]["arrested"]),
    ("shot", lambda s: s["totals"]["cat1"]),
    ("innocent_share", lambda s: s["innocent_share"]),
)
"""The headline figures of ``purgesim history``, read from each run's summary."""


def calibration_of(ref: str | None, warn: Callable[[str], None] | None = None
                   ) -> CalibrationConfig | None:
    """The calibration config a scenario names (``Scenario.calibration``); None if it names
    none, or if the config cannot be read (each problem is passed to ``warn``)."""
    if not ref:
        return None
    try:
        return load_config(ref)[1]
    except ScenarioError as exc:
        for line in exc.problems:
            if warn is not None:
                warn(line)
        return None


def calibration_targets(ref: str | None, warn: Callable[[str], None] | None = None
                        ) -> list[str]:
    """The figures the named calibration fitted, and those it says parameters outside the fit
    were set to by hand (none if it cannot be read)."""
    config = calibration_of(ref, warn)
    return [*config.targets, *config.tuned_by_hand] if config is not None else []


def against_history(scenario: Scenario, reps: int = 5, first_seed: int | None = None,
                    prevalences: Sequence[float] | None = None, posterior: int | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``purgesim history`` (the object its ``--json`` prints): ``scenario`` on ``reps``
    seeds from ``first_seed`` (default: its own) against every comparable figure; the
    headline (arrested, shot, innocent share) over the seeds and, where the scenario is the
    one its calibration fitted and ships a posterior, over ``posterior`` parameter sets
    drawn from it (default ``reps``); and the innocent share over the seeds at each of
    ``prevalences``. ``progress(done, total)`` is called as runs end; ``warn`` gets each
    problem of an unreadable calibration config."""
    first = scenario.seed if first_seed is None else first_seed
    seeds = list(range(first, first + reps))
    calibration = calibration_of(scenario.calibration, warn)
    targets = ([*calibration.targets, *calibration.tuned_by_hand] if calibration is not None
               else [])
    prevalences = list(prevalences or DEFAULT_PREVALENCES)
    # the posterior belongs to the calibrated scenario itself: a counterfactual built on it may
    # change the very parameters a draw would set
    shipped = (posterior_path(scenario.calibration)
               if calibration is not None and scenario.name == calibration.scenario else None)
    draws = [] if shipped is None else posterior_draws(
        shipped, reps if posterior is None else posterior, seed=first)
    total = reps * (1 + len(prevalences)) + len(draws)
    done = 0

    def ran() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    results = []
    for s in seeds:
        results.append(run(scenario, seed=s))
        ran()
    summaries = [r.summary() for r in results]
    sensitivity = []
    for p in prevalences:
        shares = []
        for s in seeds:
            shares.append(run(with_overrides(scenario, population__guilty_prevalence=p), seed=s)
                          .summary()["innocent_share"])
            ran()
        sensitivity.append({"guilty_prevalence": p, **spread(shares)})
    # each posterior draw runs with its own seed: the interval covers both uncertainties
    over_posterior = []
    for i, params in enumerate(draws):
        over_posterior.append(run(with_overrides(scenario, **overrides(params)),
                                  seed=first + i).summary())
        ran()
    rows = compare_runs(results, targets)
    return {"scenario": scenario.name, "scale": scenario.scale, "seeds": seeds,
            "calibration": scenario.calibration or None, "targets": targets, "figures": rows,
            "errors": error_summary(rows),
            "headline": {key: spread([f(s) for s in summaries]) for key, f in HEADLINE},
            "headline_over_posterior": (
                {key: spread([f(s) for s in over_posterior]) for key, f in HEADLINE}
                if over_posterior else None),
            "posterior_draws": len(over_posterior),
            "innocent_share_sensitivity": sensitivity}
