"""Mechanisms 8, 9 and 11: families and hostages, terror at the top and in the middle, and the
purge of the purgers. Statistical tests over ensembles of seeds at a coarse scale."""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pytest

import purgesim as ps
from purgesim.vocab import FLAG, OCC, OP, SENT, SRC, TAINT_BIT

SCALE = 2000
SEEDS = tuple(range(1, 9))


def simulate(seed: int, **overrides) -> ps.Sim:
    sim = ps.Sim(ps.load_scenario(scale=SCALE, seed=seed, **overrides))
    sim.result = sim.run()
    return sim


@cache
def default(seed: int) -> ps.Sim:
    return simulate(seed)


def ensemble(seeds: tuple[int, ...] = SEEDS, **overrides) -> list[ps.Sim]:
    if not overrides:
        return [default(s) for s in seeds]
    return [simulate(s, **overrides) for s in seeds]


def mechanism(sim: ps.Sim, name: str):
    return next(m for m in sim.mechanisms if m.name == name)


def real(sim: ps.Sim, mask: np.ndarray) -> int:
    return int(sim.result.columns["weight"][mask].sum())


# ------------------------------------------------------------------------------ families


def test_no_family_arrests_when_switched_off():
    for sim in ensemble(families__enabled=False):
        c = sim.result.columns
        assert not np.any(c["source"] == SRC["family"])
        assert sim.series["wives_arrested"].sum() == sim.series["hostages_held"].sum() == 0


def test_wives_are_taken_for_convicted_traitors_while_order_00486_stands():
    scenario = default(1).scenario
    start = scenario.event_week("order_00486")
    end = scenario.event_week("order_00689")
    traitor_ops = [OP[n] for n in scenario.families.traitor_operations]
    traitor_occs = [OCC[n] for n in scenario.families.traitor_occupations]
    wives_total = 0
    for sim in ensemble():
        c = sim.result.columns
        pop = sim.population
        wives, husbands = mechanism(sim, "families").links
        wives_total += len(wives)
        assert np.all(c["source"][wives] == SRC["family"])
        # every family arrest is a wife or a hostage, and the series count them
        family = np.flatnonzero(c["source"] == SRC["family"])
        assert (sim.series["wives_arrested"].sum() + sim.series["hostages_held"].sum()
                == real(sim, family))
        assert np.all(c["week"][family] >= start)
        # wives: while the order stands, in the week the man was convicted as a traitor
        assert np.all((c["week"][wives] >= start) & (c["week"][wives] < end))
        assert np.all(np.isin(c["sentence"][husbands], (SENT["cat1"], SENT["cat2"])))
        assert np.all(c["sentence_week"][husbands] == c["week"][wives])
        assert np.all(np.isin(c["operation"][husbands], traitor_ops)
                      | np.isin(c["occupation"][husbands], traitor_occs))
        assert np.all(c["source"][husbands] != SRC["family"])
        # ...and in his household, never himself
        assert np.array_equal(pop.household_of(c["person"][wives]),
                              pop.household_of(c["person"][husbands]))
        assert np.all(c["person"][wives] != c["person"][husbands])
        # family cases end in camp, never in a death sentence
        assert not np.any(c["sentence"][family] == SENT["cat1"])
    assert wives_total > 2 * len(SEEDS)


def test_ending_order_00486_earlier_means_fewer_wives():
    early = dt.date(1937, 10, 4)
    base = sum(s.series["wives_arrested"].sum() for s in ensemble())
    sims = ensemble(calendar__order_00689__date=early)
    fewer = sum(s.series["wives_arrested"].sum() for s in sims)
    assert fewer < 0.6 * base
    end = sims[0].scenario.event_week("order_00689")
    for sim in sims:
        wives, _ = mechanism(sim, "families").links
        assert np.all(sim.result.columns["week"][wives] < end)


# ------------------------------------------------------------------------------ the top


def cc_members(sim: ps.Sim) -> np.ndarray:
    return np.flatnonzero(sim.population.flags & FLAG["cc_member"])


def test_faction_accusations_have_no_conspiracy_behind_them():
    arrested = shot = 0
    for sim in ensemble():
        assert len(cc_members(sim)) == 139
        assert not np.any(sim.population.flags[cc_members(sim)] & FLAG["guilty"])
        c = sim.result.columns
        cc = (sim.population.flags[c["person"]] & FLAG["cc_member"]) > 0
        assert not np.any(c["guilty"][cc])  # every member arrested was innocent
        arrested += int(cc.sum())
        shot += int((cc & (c["sentence"] == SENT["cat1"])).sum())
        assert sim.series["faction_accusations"].sum() > 0
    assert arrested > 10 * len(SEEDS) and shot > 5 * len(SEEDS)


def test_a_conspiracy_exists_only_when_the_scenario_says_so():
    for sim in ensemble(SEEDS[:3], top__conspiracy_prevalence=1.0):
        assert np.all(sim.population.flags[cc_members(sim)] & FLAG["guilty"])


def faction_targets(odds: float, weeks: int = 160) -> tuple[int, int]:
    """(former oppositionists, all) among the members the faction struggle accuses over
    ``weeks`` draws, everyone free (the cascade takes most of the Committee in a run, so the
    choice itself is what can be measured)."""
    sim = ps.Sim(ps.load_scenario(scale=SCALE, top__faction_oppositionist_odds=odds,
                                  top__faction_accusations_per_week=5.0)).init()
    top = mechanism(sim, "top")
    accused: list[np.ndarray] = []
    sim.register.accuse = lambda people, **_: accused.append(np.asarray(people)) or 0
    for week in range(weeks):
        sim.week = week
        top._faction(sim, sim.rng("test-faction"))
    ids = np.concatenate(accused)
    opp = (sim.population.taint[ids] & TAINT_BIT["oppositionist"]) > 0
    return int(opp.sum()), len(ids)


def test_former_oppositionists_are_accused_first():
    """The faction struggle singles out former oppositionists (faction_oppositionist_odds 5):
    five of the 139 (3.6%), they draw about 16% of its accusations; blind, their share."""
    former, total = faction_targets(5.0)
    blind_former, blind_total = faction_targets(1.0)
    assert former / total > 0.10, (former, total)
    assert blind_former / blind_total < 0.07, (blind_former, blind_total)


def test_tails_pull_clients_in_with_their_patron():
    """At this scale the middle management the tails reach is mostly the Congress delegates
    (weight 1), so count agents: officials and managers pulled in by their own patron, and the
    delegates among officials arrested."""

    def tally(sims):
        by_patron = delegates = 0
        for sim in sims:
            c = sim.result.columns
            pop = sim.population
            k = np.minimum(np.searchsorted(pop.patron_ids, c["person"]), len(pop.patron_ids) - 1)
            patron = np.where(pop.patron_ids[k] == c["person"], pop.patron_of[k], -2)
            by_patron += int(np.count_nonzero((c["source"] == SRC["named"])
                                              & (c["parent"] == patron)))
            delegates += int(np.count_nonzero(
                sim.population.flags[c["person"]] & FLAG["delegate"]))
        return by_patron, delegates

    off = ensemble(top__tail_probability=0.0)
    on = ensemble()
    assert all(s.series["tail_accusations"].sum() == 0 for s in off)
    by_patron_off, delegates_off = tally(off)
    by_patron_on, delegates_on = tally(on)
    assert by_patron_on > 3 * max(by_patron_off, 5)
    assert delegates_on > 1.1 * delegates_off


def officers_taken(sim: ps.Sim) -> np.ndarray:
    c = sim.result.columns
    return (c["occupation"] == OCC["officer"]) & (c["source"] == SRC["elite"])


def discharged(sim: ps.Sim, year: int) -> int:
    return sim.result.summary()["elite"][f"officers_discharged_{year}"]


def test_the_army_purge_discharges_for_the_company_kept_and_arrests_some_of_them():
    """Discharges feed on arrests in the unit: without that feedback only the peacetime rate
    of 1935 is left (4.9% a year), and fewer officers are arrested; the purge's arrests are
    on the Military Collegium's lists, between the Tukhachevsky trial and the stop."""
    sims = ensemble()
    p = sims[0].scenario
    corps = sum(int(s.population.weight(s.population.ids_where(
        occupations=(OCC["officer"],))).sum()) for s in sims)
    baseline = p.army.baseline_rate * corps  # discharges in a year at the peacetime rate
    with_feedback = sum(discharged(s, 1937) for s in sims)
    assert with_feedback > 1.5 * baseline, (with_feedback, baseline)
    # the lists take a few officers a week (0.025% of the corps), so at this coarse scale a
    # seed may have none: count them over the seeds
    assert sum(int(officers_taken(sim).sum()) for sim in sims) > 0
    for sim in sims:
        c = sim.result.columns
        taken = officers_taken(sim)
        assert np.all(c["week"][taken] >= p.event_week("red_army_purge"))
        assert np.all(c["operation"][taken] == OP["elite"])
    flat = ensemble(army__discharge_per_arrest=0.0)
    assert sum(discharged(s, 1937) for s in flat) < 1.05 * baseline  # the peacetime rate
    assert (sum(s.series["officers_arrested"].sum() for s in flat)
            < sum(s.series["officers_arrested"].sum() for s in sims))


def test_discharged_officers_are_reinstated_only_after_the_stop():
    for sim in ensemble():
        reinstated = sim.series["officers_reinstated"].sum(axis=1)
        stop = sim.scenario.event_week("stop_decree")
        assert reinstated[:stop].sum() == 0
        assert reinstated[stop:].sum() > 0
    off = ensemble(army__enabled=False)
    assert all(s.series["officers_discharged"].sum() == 0 for s in off)


def test_no_dissent_accusations_when_speech_is_tolerated():
    def delegates_listed_for_dissent(sim):
        # ordinary delegates reach the elite lists only through dissent (the faction struggle
        # is confined to the Central Committee)
        c = sim.result.columns
        flags = sim.population.flags[c["person"]]
        return np.count_nonzero((flags & FLAG["delegate"] > 0) & (flags & FLAG["cc_member"] == 0)
                                & (c["source"] == SRC["elite"]))

    tolerant = ensemble(remarks__speech_tolerated=True)
    assert all(s.series["dissent_accusations"].sum() == 0 for s in tolerant)
    assert sum(delegates_listed_for_dissent(s) for s in tolerant) == 0
    sims = ensemble()
    assert all(s.series["dissent_accusations"].sum() > 0 for s in sims)
    assert sum(delegates_listed_for_dissent(s) for s in sims) > 3 * len(SEEDS)


def test_switched_off_top_leaves_the_ground_truth_alone():
    sim = simulate(1, top__enabled=False, top__conspiracy_prevalence=1.0)
    assert not np.all(sim.population.flags[cc_members(sim)] & FLAG["guilty"])
    for name in ("tail_accusations", "faction_accusations", "dissent_accusations"):
        assert sim.series[name].sum() == 0


# ------------------------------------------------------------------------------ purgers


@pytest.fixture(scope="module")
def purged():
    # larger shares than the defaults: the NKVD is 20 agents at this scale
    return ensemble(purgers__weekly_share=0.003, purgers__weekly_share_after=0.012)


def test_purgers_are_purged_from_the_start_and_more_after_beria(purged):
    p = purged[0].scenario
    start = p.event_week("order_00447")
    stop = p.event_week("stop_decree")
    beria = p.event_week("beria_appointed")
    after_end = beria + p.purgers.after_weeks
    before = after = 0
    for sim in purged:
        c = sim.result.columns
        rows = np.flatnonzero((c["occupation"] == OCC["nkvd"]) & (c["source"] == SRC["elite"]))
        week = c["week"][rows]
        assert sim.series["nkvd_arrested"].sum() == real(sim, rows)
        assert np.all(week >= start)
        assert np.all((week < stop) | ((week >= beria) & (week < after_end)))
        # Yezhov's men and Beria's victims alike went before the Military Collegium
        assert np.all(c["operation"][rows] == OP["elite"])
        before += int(np.count_nonzero(week < stop))
        after += int(np.count_nonzero(week >= beria))
    assert after / p.purgers.after_weeks > 2 * before / (stop - start), (before, after)


def test_no_purge_of_the_purgers_when_switched_off():
    for sim in ensemble(SEEDS[:4], purgers__enabled=False):
        c = sim.result.columns
        assert sim.series["nkvd_arrested"].sum() == 0
        assert not np.any((c["occupation"] == OCC["nkvd"]) & (c["source"] == SRC["elite"]))
