"""Tests of the reference core model (MODEL.md section 6) in :mod:`purgesim.core`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from purgesim.core import (
    TOTAL_KEYS,
    WEEKLY_KEYS,
    CoreParams,
    CoreResult,
    region_bounds,
    region_limits,
    run_core,
)

ENSEMBLE_N = 200_000
ENSEMBLE_WEEKS = 20
ENSEMBLE_SEEDS = range(6)

# Nobody ever confesses, so nobody is ever named.
NO_CONFESSIONS = {"p_torture": 0.0, "p_confess_guilty": 0.0, "p_confess_innocent": 0.0}
# Everybody confesses.
ALL_CONFESS = {"p_torture": 1.0, "p_confess_tortured": 1.0}


def expected_limits(n: int, s: int = 100, regions: int = 10, q: float = 0.5) -> list[int]:
    """Weekly limits computed straight from the per-agent formula of the spec."""
    n_workplaces = -(-n // s)
    per_region = max(n_workplaces // regions, 1)
    region = np.minimum((np.arange(n) // s) // per_region, regions - 1)
    sizes = np.bincount(region, minlength=regions)
    return [math.floor(q * int(n_r) / 1000) for n_r in sizes]


def ensemble_totals(params: CoreParams | None = None) -> dict[str, int]:
    """Totals summed over a small ensemble of seeds."""
    summed = dict.fromkeys(TOTAL_KEYS, 0)
    for seed in ENSEMBLE_SEEDS:
        totals = run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=seed, params=params).totals()
        for key in TOTAL_KEYS:
            summed[key] += totals[key]
    return summed


def assert_share(count: int, total: int, p: float, n_se: float = 4.0) -> None:
    """Assert count/total is within n_se binomial standard errors of p."""
    se = math.sqrt(p * (1.0 - p) / total)
    share = count / total
    assert abs(share - p) < n_se * se, f"share {share:.4f} vs expected {p:.4f} (se {se:.4f})"


@pytest.fixture(scope="module")
def default_run() -> CoreResult:
    return run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=0)


# --- result structure and input validation -------------------------------------------------


def test_result_structure(default_run: CoreResult) -> None:
    assert (default_run.n, default_run.weeks, default_run.seed) == (ENSEMBLE_N, ENSEMBLE_WEEKS, 0)
    assert set(default_run.weekly) == set(WEEKLY_KEYS)
    for key, series in default_run.weekly.items():
        assert series.dtype == np.int64, key
        assert series.shape == (ENSEMBLE_WEEKS,), key
        assert (series >= 0).all(), key
    totals = default_run.totals()
    assert list(totals) == list(TOTAL_KEYS)
    for key, value in totals.items():
        assert type(value) is int
        assert value == int(default_run.weekly[key].sum())


def test_zero_weeks() -> None:
    result = run_core(10_000, 0)
    assert all(series.shape == (0,) for series in result.weekly.values())
    assert result.totals() == dict.fromkeys(TOTAL_KEYS, 0)


@pytest.mark.parametrize(
    ("n", "weeks", "seed"), [(0, 10, 0), (-5, 10, 0), (100, -1, 0), (100, 10, -1), (1.5, 10, 0)]
)
def test_invalid_arguments(n: int, weeks: int, seed: int) -> None:
    with pytest.raises(ValueError):
        run_core(n, weeks, seed)


@pytest.mark.parametrize(
    "bad",
    [
        {"p_taint": 1.5},
        {"p_torture": -0.1},
        {"q": -1.0},
        {"names_mean": -1.0},
        {"workplace_size": 0},
        {"regions": 0},
    ],
)
def test_invalid_params(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CoreParams(**bad)


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_identical(default_run: CoreResult) -> None:
    again = run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=0)
    for key in WEEKLY_KEYS:
        np.testing.assert_array_equal(again.weekly[key], default_run.weekly[key])


def test_different_seed_differs(default_run: CoreResult) -> None:
    other = run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=1)
    assert any(
        not np.array_equal(other.weekly[key], default_run.weekly[key]) for key in WEEKLY_KEYS
    )


# --- limits, queue vs card file --------------------------------------------------------------


@pytest.mark.parametrize("n", [200_000, 1_234_567, 5_050, 999, 1])
def test_region_limits_match_formula(n: int) -> None:
    assert region_limits(n, CoreParams()).tolist() == expected_limits(n)
    bounds = region_bounds(n, CoreParams())
    assert bounds[0] == 0 and bounds[-1] == n and (np.diff(bounds) >= 0).all()


@pytest.mark.parametrize("n", [200_000, 1_234_567])
def test_week_one_uses_full_limit_from_card_file(n: int) -> None:
    result = run_core(n, 3, seed=3)
    assert result.weekly["arrests"][0] == sum(expected_limits(n))
    assert result.weekly["from_queue"][0] == 0


def test_weekly_bounds(default_run: CoreResult) -> None:
    w = default_run.weekly
    assert (w["from_queue"] <= w["arrests"]).all()
    assert (w["arrests"] <= sum(expected_limits(ENSEMBLE_N))).all()


def test_conservation(default_run: CoreResult) -> None:
    w = default_run.weekly
    np.testing.assert_array_equal(w["arrests"], w["cat1"] + w["cat2"] + w["released"])
    t = default_run.totals()
    assert t["arrests"] == t["cat1"] + t["cat2"] + t["released"]
    assert t["arrests"] > 0


def test_innocent_convicted_bounded(default_run: CoreResult) -> None:
    w = default_run.weekly
    assert (w["innocent_convicted"] <= w["cat1"] + w["cat2"]).all()


def test_guilt_flag_drives_innocent_count() -> None:
    nobody_guilty = run_core(50_000, 10, params=CoreParams(p_guilty=0.0)).totals()
    assert nobody_guilty["innocent_convicted"] == nobody_guilty["cat1"] + nobody_guilty["cat2"]
    assert nobody_guilty["innocent_convicted"] > 0
    everyone_guilty = run_core(50_000, 10, params=CoreParams(p_guilty=1.0)).totals()
    assert everyone_guilty["innocent_convicted"] == 0
    assert everyone_guilty["cat1"] + everyone_guilty["cat2"] > 0


def test_card_file_exhaustion() -> None:
    """Everyone tainted, nobody named: each region arrests its limit until its file runs out."""
    params = CoreParams(p_taint=1.0, q=100.0, **NO_CONFESSIONS)
    # 20,000 agents -> 10 regions of 2,000 agents, limit 200 each: 10 weeks of 2,000 arrests.
    result = run_core(20_000, 14, seed=5, params=params)
    expected = np.array([2_000] * 10 + [0] * 4)
    np.testing.assert_array_equal(result.weekly["arrests"], expected)
    assert result.totals()["from_queue"] == 0


# --- hand-computed expectations over an ensemble ---------------------------------------------


def test_default_sentence_shares() -> None:
    t = ensemble_totals()
    arrests = t["arrests"]
    assert arrests == len(ENSEMBLE_SEEDS) * ENSEMBLE_WEEKS * sum(expected_limits(ENSEMBLE_N))
    confess = 0.7 * 0.9 + 0.3 * 0.1  # guilt (p = 1e-4) is negligible
    assert_share(t["cat1"], arrests, 0.5 * confess)
    assert_share(t["released"], arrests, 0.7 * (1.0 - confess))
    assert_share(t["cat2"], arrests, 0.5 * confess + 0.3 * (1.0 - confess))
    # Confession share recovered from the releases (released = 0.7 x non-confessors).
    confess_hat = 1.0 - t["released"] / (0.7 * arrests)
    se = math.sqrt(confess * (1.0 - confess) / arrests) / 0.7
    assert abs(confess_hat - confess) < 4.5 * se
    # The default model runs mostly on denunciations after week 1.
    assert t["from_queue"] > 0.8 * arrests


def test_confessors_split_between_categories() -> None:
    t = ensemble_totals(CoreParams(**ALL_CONFESS))
    assert t["released"] == 0
    assert_share(t["cat1"], t["arrests"], 0.5)


def test_non_confessors_mostly_released() -> None:
    t = ensemble_totals(CoreParams(**NO_CONFESSIONS))
    assert t["cat1"] == 0
    assert_share(t["released"], t["arrests"], 0.7)


@pytest.mark.parametrize(("p_guilty", "p_confess"), [(1.0, 0.5), (0.0, 0.1)])
def test_untortured_confession_depends_on_guilt(p_guilty: float, p_confess: float) -> None:
    params = CoreParams(p_guilty=p_guilty, p_torture=0.0, p_cat1_confessor=1.0)
    t = ensemble_totals(params)
    assert_share(t["cat1"], t["arrests"], p_confess)


# --- queue mechanics -------------------------------------------------------------------------


def test_no_confessions_no_queue() -> None:
    result = run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=2, params=CoreParams(**NO_CONFESSIONS))
    assert result.totals()["from_queue"] == 0
    assert (result.weekly["queue_length"] == 0).all()
    assert result.totals()["arrests"] > 0


def test_many_names_fill_the_queue() -> None:
    result = run_core(ENSEMBLE_N, ENSEMBLE_WEEKS, seed=2, params=CoreParams(names_mean=20.0))
    w = result.weekly
    assert w["from_queue"][0] == 0
    # From week 2 on the queue holds far more than the weekly limit: all arrests are denunciations.
    np.testing.assert_array_equal(w["from_queue"][1:], w["arrests"][1:])
    assert (w["queue_length"] > 0).all()
    assert w["queue_length"][-1] > w["queue_length"][0]


@pytest.mark.parametrize("regions", [1, 3])
def test_queue_exact_sequence(regions: int) -> None:
    """A fully deterministic chain of denunciations through a workplace of 10.

    One arrest per region per week; everybody confesses and names all free coworkers. Week 1 takes
    a card-file suspect who names the 9 others; in weeks 2-10 the head of the queue (still the
    first batch, all distinct people) is arrested and names the remaining free coworkers; in week
    11 the 36 stale entries are dropped and a fresh card-file suspect restarts the chain.
    """
    params = CoreParams(
        workplace_size=10,
        regions=regions,
        q=1.0,
        p_taint=1.0,
        names_mean=1_000.0,
        p_cat1_confessor=1.0,
        **ALL_CONFESS,
    )
    result = run_core(1_000 * regions, 25, seed=11, params=params)
    cycle_queue = [9, 16, 22, 27, 31, 34, 36, 37, 37, 36]
    cycle_from_queue = [0] + [1] * 9
    w = result.weekly
    np.testing.assert_array_equal(w["queue_length"], regions * np.resize(cycle_queue, 25))
    np.testing.assert_array_equal(w["from_queue"], regions * np.resize(cycle_from_queue, 25))
    np.testing.assert_array_equal(w["arrests"], np.full(25, regions))
    np.testing.assert_array_equal(w["cat1"], w["arrests"])
    assert result.totals()["released"] == 0


# --- tiny populations ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 7, 1_999])
def test_zero_limits_mean_zero_arrests(n: int) -> None:
    assert sum(expected_limits(n)) == 0
    result = run_core(n, 10)
    assert result.totals() == dict.fromkeys(TOTAL_KEYS, 0)
    assert (result.weekly["queue_length"] == 0).all()


def test_single_agent_arrested_once() -> None:
    result = run_core(1, 5, params=CoreParams(p_taint=1.0, q=2_000.0))
    np.testing.assert_array_equal(result.weekly["arrests"], [1, 0, 0, 0, 0])
    assert result.totals()["from_queue"] == 0


def test_fewer_workplaces_than_regions() -> None:
    """W = 5 < R = 10: workplace w is region w, regions 5..9 are empty."""
    params = CoreParams(p_taint=1.0, q=1_000.0, **NO_CONFESSIONS)
    assert region_limits(450, params).tolist() == [100, 100, 100, 100, 50] + [0] * 5
    result = run_core(450, 3, params=params)
    np.testing.assert_array_equal(result.weekly["arrests"], [450, 0, 0])
