"""Invariants of the synthetic population (MODEL.md section 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import purgesim as ps
from purgesim import datasets
from purgesim.engine.random import sparse_bernoulli, stream
from purgesim.population.blocks import INDEX_SHIFT, block_index, find_block
from purgesim.vocab import FLAG, OCC, TAINT_BIT, WP


@pytest.fixture(scope="module")
def pop() -> ps.Population:
    return ps.build_population(ps.load_scenario(scale=2000))


def test_regions_follow_census_shares(pop):
    regions = datasets.regions()
    assert pop.region_names == tuple(r.name for r in regions)
    census = datasets.figure("census_1937_population")
    republics = sum(r.population for r in regions if r.name != "Gulag")
    assert republics == census  # the split adds up exactly
    # each republic's share of the 1937 total equals its 1939 census share
    share_1939 = datasets.figure("census_1939_Ukraine") / sum(
        datasets.figure(f"census_1939_{r.o00447_key}") for r in regions if r.name != "Gulag")
    ukraine = regions[pop.region_names.index("Ukraine")].population
    assert ukraine / census == pytest.approx(share_1939, rel=1e-6)
    # real people represented match each region's population within one agent's weight
    for r, region in enumerate(regions):
        assert abs(pop.region_real[r] - region.population) <= pop.scale


def test_elite_is_one_agent_per_person(pop):
    delegates = np.flatnonzero(pop.flags & FLAG["delegate"])
    cc = np.flatnonzero(pop.flags & FLAG["cc_member"])
    assert len(delegates) == datasets.figure("congress17_delegates") == 1966
    assert len(cc) == 71 + 68
    assert np.all(pop.flags[cc] & FLAG["delegate"])
    assert np.all(pop.weight(delegates) == 1)
    others = np.setdiff1d(np.arange(0, pop.n, 997), delegates)
    assert np.all(pop.weight(others) == pop.scale)
    # the elite form the leadership workplace at the start of their region
    assert np.all(pop.workplace_kind[pop.workplace_of(delegates)] == WP["leadership"])


def test_every_agent_in_exactly_one_workplace_and_household(pop):
    assert pop.workplace_offsets[0] == 0 and pop.workplace_offsets[-1] == pop.n
    assert np.all(np.diff(pop.workplace_offsets) > 0)
    assert pop.household_offsets[-1] == pop.n
    assert np.all(np.diff(pop.household_offsets) > 0)
    everyone = np.arange(pop.n)
    households = pop.household_of(everyone)
    assert households.min() == 0 and households.max() == pop.n_households - 1
    # membership listed from the household side covers everyone exactly once
    members = np.concatenate([pop.household_members(h) for h in range(pop.n_households)])
    assert np.array_equal(np.sort(members), everyone)
    # and agrees with the person side
    for h in (0, pop.n_households // 2, pop.n_households - 1):
        assert np.all(pop.household_of(pop.household_members(h)) == h)
    # households and workplaces never cross regions
    for h in range(0, pop.n_households, 101):
        assert len(np.unique(pop.region_of(pop.household_members(h)))) == 1
    starts = pop.workplace_offsets[:-1]
    ends = pop.workplace_offsets[1:] - 1
    assert np.array_equal(pop.region_of(starts), pop.region_of(ends))


def test_household_sizes_are_plausible(pop):
    sizes = np.diff(pop.household_offsets)
    mean = ps.load_scenario().population.household_size_mean
    assert sizes.mean() == pytest.approx(mean, rel=0.05)


def test_workplaces_are_heavy_tailed(pop):
    sizes = np.diff(pop.workplace_offsets)
    factories = sizes[pop.workplace_kind == WP["factory"]]
    assert factories.max() > 5 * np.median(factories)


def test_occupations_and_taint(pop):
    occ = np.bincount(pop.occupation, minlength=12)
    assert occ[OCC["peasant"]] > occ[OCC["worker"]] > occ[OCC["specialist"]]
    gulag = pop.region_names.index("Gulag")
    lo, hi = pop.region_offsets[gulag], pop.region_offsets[gulag + 1]
    assert np.all(pop.occupation[lo:hi] == OCC["prisoner"])
    kulak = (pop.taint & TAINT_BIT["kulak"]) > 0
    assert set(np.unique(pop.occupation[kulak])) <= {OCC["peasant"], OCC["prisoner"]}
    # diaspora bit follows nationality
    assert np.array_equal((pop.taint & TAINT_BIT["diaspora"]) > 0, pop.nation > 0)


def test_card_file_registers_a_tenth_of_adults(pop):
    on_file = (pop.flags & FLAG["card_file"]) > 0
    assert np.array_equal(np.flatnonzero(on_file), pop.card_file)
    assert np.all(pop.taint[pop.card_file] > 0)  # only the tainted are on file
    adults = np.count_nonzero(pop.occupation != OCC["other"])
    registry = datasets.figure("registry_share_adult_population")  # 10-15% of adults
    assert 0.5 * registry < len(pop.card_file) / adults < 1.5 * registry


def test_party_size_matches_1934(pop):
    party = np.count_nonzero(pop.flags & FLAG["party"])
    real = (party - 1966) * pop.scale + 1966
    target = datasets.figure("party_members_and_candidates_1934")
    assert real == pytest.approx(target, rel=0.5)


def test_patron_client_links_go_one_level_up_in_the_region(pop):
    has = pop.patron_of >= 0
    clients, patrons = pop.patron_ids[has], pop.patron_of[has]
    cc = (pop.flags[patrons] & FLAG["cc_member"]) > 0
    same_region = pop.region_of(clients) == pop.region_of(patrons)
    assert np.all(same_region | cc)
    level = {OCC["manager"]: 0, OCC["official_local"]: 0, OCC["official_regional"]: 1,
             OCC["official_republic"]: 2}
    lc = np.array([level[o] for o in pop.occupation[clients]])
    lp = np.array([level[o] for o in pop.occupation[patrons]])
    assert np.all((lp > lc) | cc)
    # the CSR of clients is the inverse of patron_of
    assert pop.client_offsets[-1] == has.sum()


def test_contacts_stay_in_their_groups(pop):
    rng = stream(0, "test")
    ids = rng.integers(0, pop.n, 5000)
    co = pop.random_coworker(ids, rng)
    assert np.array_equal(pop.workplace_of(co), pop.workplace_of(ids))
    hh = pop.random_household_member(ids, rng)
    assert np.array_equal(pop.household_of(hh), pop.household_of(ids))
    acq = pop.random_in_region(ids, rng)
    assert np.array_equal(pop.region_of(acq), pop.region_of(ids))


def test_population_is_deterministic_and_compact():
    a = ps.build_population(ps.load_scenario(scale=5000, seed=3))
    b = ps.build_population(ps.load_scenario(scale=5000, seed=3))
    c = ps.build_population(ps.load_scenario(scale=5000, seed=4))
    assert np.array_equal(a.taint, b.taint) and np.array_equal(a.workplace_offsets,
                                                               b.workplace_offsets)
    assert not np.array_equal(a.taint, c.taint)
    # a few bytes per person: the layout that lets scale = 1 fit in memory
    assert a.nbytes() / a.n < 12


def test_sparse_bernoulli_has_the_right_rate():
    rng = stream(1, "test")
    ids = sparse_bernoulli(1_000_000, 0.01, rng)
    assert np.all(np.diff(ids) > 0) and ids.max() < 1_000_000
    assert abs(len(ids) - 10_000) < 5 * np.sqrt(10_000)


def test_block_lookups_agree_with_searchsorted(pop):
    rng = stream(7, "test")
    edges = np.array([-3, -1, 0, 1, pop.n - 1, pop.n, pop.n + 5], dtype=np.int64)
    ids = np.concatenate([rng.integers(-10, pop.n + 10, 5000), edges, pop.workplace_offsets])
    household_index = block_index(pop.household_offsets)

    def household_block(positions):
        return find_block(pop.household_offsets, household_index, positions)

    for offsets, lookup in ((pop.workplace_offsets, pop.workplace_of),
                            (pop.household_offsets, household_block)):
        expected = np.searchsorted(offsets, ids, side="right") - 1
        assert np.array_equal(lookup(ids), expected)
        assert np.array_equal(lookup(ids.astype(np.int32)), expected)
        assert np.array_equal(lookup(ids[:3].tolist()), expected[:3])
    assert pop.workplace_of(5) == np.searchsorted(pop.workplace_offsets, 5, side="right") - 1
    for h in (0, pop.n_households // 3, pop.n_households - 1):
        assert np.all(pop.household_of(pop.household_members(h)) == h)
    for offsets in (pop.workplace_offsets, pop.household_offsets):
        index = block_index(offsets)
        marks = np.arange(len(index), dtype=np.int64) << INDEX_SHIFT
        assert np.array_equal(index, np.searchsorted(offsets, marks, side="right") - 1)


def test_sorted_unique_matches_numpy():
    from purgesim.engine.sets import unique

    rng = stream(8, "test")
    for size in (0, 1, 2, 10, 10_000):
        ids = rng.integers(0, size // 2 + 2, size)
        assert np.array_equal(unique(ids), np.unique(ids))
        assert unique(ids).dtype == np.unique(ids).dtype


def test_ids_where_is_flatnonzero(pop):
    for occupations, flags in (((OCC["officer"],), 0), ((), FLAG["party"]),
                               ((OCC["official_republic"],), FLAG["cc_member"]),
                               ((OCC["peasant"], OCC["worker"]), FLAG["guilty"]), ((), 0)):
        expected = np.flatnonzero(np.isin(pop.occupation, occupations) | (pop.flags & flags > 0))
        got = pop.ids_where(occupations, flags)
        assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_importing_the_population_does_not_load_numba():
    """Validating a scenario needs PopulationParams; numba waits for the first kernel call."""
    # purgesim/__init__.py imports the core model, which loads numba: stand an empty package in
    # for it so that only the population's own imports are seen
    package = str(Path(ps.__file__).parent)
    code = ("import sys, types; package = types.ModuleType('purgesim'); "
            f"package.__path__ = [{package!r}]; sys.modules['purgesim'] = package; "
            "import purgesim.population; print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_groups_the_nkvd_had_registered_are_on_file_whole(pop):
    """The Harbin returnees were a register (Order 00593: 25,000 registered), not a census
    nationality: every adult of them is on file; a census diaspora is registered in part."""
    on_file = (pop.flags & FLAG["card_file"]) > 0
    kind = pop.workplace_kind[np.searchsorted(pop.workplace_offsets, np.arange(len(pop.flags)),
                                              side="right") - 1]
    adult = (kind != WP["kolkhoz"]) | (pop.occupation != OCC["other"])
    codes = {nat.name: nat.code for nat in datasets.diaspora()}
    harbin = adult & (pop.nation == codes["Harbin returnee"])
    assert harbin.sum() > 0 and on_file[harbin].all()
    german = adult & (pop.nation == codes["German"])
    assert 0.2 < on_file[german].mean() < 0.8
