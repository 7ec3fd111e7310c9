"""The machinery: conservation, determinism, common random numbers, and each switch's effect."""

from __future__ import annotations

import numpy as np
import pytest

import purgesim as ps
from purgesim.vocab import DIED, OP, SENT, SRC

SCALE = 2000  # 80,000 agents: fast, yet every mechanism acts


def run(**overrides):
    overrides.setdefault("scale", SCALE)
    return ps.run("great-terror", **overrides)


@pytest.fixture(scope="module")
def base():
    return run()


def test_every_arrested_person_ends_in_exactly_one_outcome(base):
    c = base.columns
    assert len(np.unique(c["person"])) == len(c["person"])  # nobody is arrested twice
    s = base.summary()["totals"]
    assert s["arrested"] == s["cat1"] + s["cat2"] + s["released"] + s["pending"]
    assert s["convicted"] == s["cat1"] + s["cat2"]
    # dates are ordered: arrest <= sentence <= death or release
    sentenced = c["sentence_week"] >= 0
    assert np.all(c["sentence_week"][sentenced] > c["week"][sentenced])
    died = c["died_week"] >= 0
    assert np.all(c["died_week"][died] >= c["sentence_week"][died])
    # the shot die on the day of their sentence; only the convicted die
    shot = c["sentence"] == SENT["cat1"]
    assert np.array_equal(c["died_week"][shot], c["sentence_week"][shot])
    assert set(np.unique(c["sentence"][died])) <= {SENT["cat1"], SENT["cat2"]}
    # the final status of each person agrees with the table
    assert s["died_in_camp"] == int(c["weight"][(c["sentence"] == SENT["cat2"]) & died].sum())


def test_weekly_series_add_up_to_the_event_table(base):
    s = base.summary()
    arrests = sum(base.series[f"arrests_{name}"].sum() for name in s["by_source"])
    assert arrests == s["totals"]["arrested"] == sum(s["by_source"].values())
    assert base.series["convicted_cat1"].sum() == s["totals"]["cat1"]
    assert base.series["convicted_cat2"].sum() == s["totals"]["cat2"]
    assert sum(v["arrested"] for v in s["by_year"].values()) == s["totals"]["arrested"]
    assert sum(v["convicted"] for v in s["by_year"].values()) == s["totals"]["convicted"]


def test_cascade_records_parents_and_generations(base):
    """A name has a parent, the confessor who gave it; a denunciation out of fear may have
    one, the arrest in the denouncer's workplace that frightened him; nothing else has one."""
    c = base.columns
    named = c["source"] == SRC["named"]
    feared = (c["source"] == SRC["denunciation"]) & (c["parent"] >= 0)
    assert named.any() and feared.any()
    assert np.all(c["parent"][named] >= 0) and np.all(c["generation"][named] >= 1)
    others = ~named & ~feared
    assert np.all(c["parent"][others] == -1) and np.all(c["generation"][others] == 0)
    # every parent was arrested earlier; those who named someone confessed
    row_of = {p: i for i, p in enumerate(c["person"])}
    for kind in (named, feared):
        parents = np.array([row_of[p] for p in c["parent"][kind]])
        assert np.all(c["week"][parents] < c["week"][kind])
        assert np.array_equal(c["generation"][kind], c["generation"][parents] + 1)
    parents = np.array([row_of[p] for p in c["parent"][named]])
    assert np.all(c["confessed"][parents])
    # a name joins its namer's case; everyone else opens one
    assert np.array_equal(c["case"][named], c["case"][parents])
    assert np.array_equal(c["case"][~named], np.flatnonzero(~named))


def test_same_seed_same_events_other_seed_differs(base):
    again = run()
    for name, col in base.columns.items():
        assert np.array_equal(col, again.columns[name]), name
    other = run(seed=2)
    assert not np.array_equal(base.columns["person"], other.columns["person"][: len(
        base.columns["person"])]) or len(other.columns["person"]) != len(base.columns["person"])


def test_switching_off_a_late_mechanism_leaves_other_draws_alone(base):
    """Common random numbers: the aftermath acts only in 1939 and only on camp prisoners,
    so without it every arrest, confession and sentence is identical."""
    off = run(aftermath__enabled=False)
    for name in ("person", "week", "operation", "source", "parent", "tortured", "confessed",
                 "named", "sentence", "sentence_week"):
        assert np.array_equal(base.columns[name], off.columns[name]), name
    assert (off.columns["released_week"] >= 0).sum() < (base.columns["released_week"] >= 0).sum()


def test_camps_off_means_no_deaths_in_camp(base):
    off = run(camps__enabled=False)
    assert off.summary()["totals"]["died_in_camp"] == 0
    assert base.summary()["totals"]["died_in_camp"] > 0
    assert np.array_equal(base.columns["sentence"], off.columns["sentence"])


def test_no_interrogation_means_no_cascade():
    off = run(interrogation__enabled=False)
    assert off.summary()["by_source"]["named"] == 0


def test_no_quotas_means_no_kulak_sweeps(base):
    off = run(centre__enabled=False)
    c = off.columns
    assert not np.any((c["operation"] == OP["kulak_00447"]) & (c["source"] == SRC["card_file"]))
    assert off.summary()["totals"]["arrested"] < base.summary()["totals"]["arrested"]


def test_evidence_courts_convict_few_innocents(base):
    courts = run(sentencing__court="evidence")
    t, b = courts.summary()["totals"], base.summary()["totals"]
    assert t["innocent_convicted"] < 0.2 * b["innocent_convicted"]


def test_limits_rise_only_by_the_ratchet_and_dated_decisions():
    """With the centre granting no request, the limits rise only by the dated decisions:
    Ukraine's 30,000 of 17 Feb 1938, in Ukraine, that week; and the 57,200 of Pb 57/48
    (31 Jan 1938), 48,000 of them in category 1, its named lines where they are named and the
    rest among the regions with work left."""
    frozen = run(centre__approval_probability=0.0, centre__late_approval_probability=0.0)
    cat1, cat2 = frozen.series["limit_increase_cat1"], frozen.series["limit_increase_cat2"]
    raised = cat1 + cat2
    names = list(frozen.region_names)
    week = frozen.scenario.event_week("ukraine_raise_1938")
    assert raised[week, names.index("Ukraine")] == raised[week].sum() == 30_000
    extension = frozen.scenario.event_week("limits_extension_1938")
    assert (cat1[extension, names.index("Armenia")], cat2[extension, names.index("Armenia")]
            ) == (1_000, 1_000)
    assert cat1[extension, names.index("Georgia")] == 1_500
    # the rest is shared: each region's part is rounded to whole people
    assert abs(raised[extension].sum() - 57_200) <= len(names)
    assert abs(cat1[extension].sum() - 48_000) <= len(names)
    assert raised[extension, names.index("RSFSR")] > 0.5 * 46_200
    assert raised.sum() == raised[week].sum() + raised[extension].sum()


def test_the_final_multipliers_are_outcomes_of_the_ratchet(base):
    """No ceiling: how far the limits rose follows from how readily the centre grants what the
    regions ask, and from what they have left to do."""
    eager = run(centre__approval_probability=0.6).summary()["limits"]
    shipped = base.summary()["limits"]
    assert eager["cat1_multiplier"] > shipped["cat1_multiplier"] > 1.0
    empty = run(operations__kulak_00447__targets=[]).summary()["limits"]
    assert empty["cat1_multiplier"] < 0.8 * shipped["cat1_multiplier"]


def test_routine_approvals_end_with_the_last_extension():
    """After the Politburo's last general extension, limits rise only by the late approvals."""
    closed = run(centre__late_approval_probability=0.0,
                 calendar__ukraine_raise_1938__enabled=False)
    last = closed.scenario.event_week("limits_extension_1938")
    increases = closed.series["limit_increase_cat1"].sum(axis=1)
    assert increases[last] > 0  # the extension itself
    assert increases[last + 1:].sum() == 0
    never = run(centre__approvals_until=None)
    assert never.series["limit_increase_cat1"][last + 1:].sum() > 0


def test_the_centre_answers_a_share_of_each_pending_request():
    """A republic stands for its oblasts, each petitioning on its own: after its first request
    the limit rises week by week by a share of what is still pending, not all at once."""
    p = 0.25
    r = run(centre__approval_probability=p)
    rises = r.series["limit_increase_cat1"][:, 0]  # the RSFSR
    first = int(np.flatnonzero(rises > 0)[0])
    assert rises[first + 1] == pytest.approx((1 - p) * rises[first], rel=0.02)
    assert rises[first + 2] == pytest.approx((1 - p) ** 2 * rises[first], rel=0.02)


def test_only_cases_pending_at_the_stop_decree_are_reviewed():
    r = run(sentencing__after_stop_release=1.0)
    c = r.columns
    stop = r.scenario.event_week("stop_decree")
    convicted = (c["sentence"] == SENT["cat1"]) | (c["sentence"] == SENT["cat2"])
    pending = (c["week"] < stop) & (c["sentence_week"] >= stop)
    assert np.any(pending) and not np.any(convicted & pending)
    assert np.any(convicted & (c["week"] >= stop))  # 1939's new cases still go to court


def test_ordinary_cases_are_shot_at_the_mass_share_only_while_the_operations_run():
    r = run(scale=500, operations__ordinary__mass_cat1_share=0.5)
    c = r.columns
    start, stop = (r.scenario.event_week(e) for e in ("order_00447", "stop_decree"))
    ordinary = (c["operation"] == OP["ordinary"]) & (c["sentence_week"] >= 0)
    shot = c["sentence"] == SENT["cat1"]
    convicted = shot | (c["sentence"] == SENT["cat2"])
    during = ordinary & convicted & (c["sentence_week"] >= start) & (c["sentence_week"] < stop)
    outside = ordinary & convicted & ~during
    assert during.sum() > 100 and outside.sum() > 100
    assert shot[during].mean() > 0.4
    assert shot[outside].mean() < 0.05


def test_operational_groups_sweep_beyond_the_interrogation_capacity():
    def kulak_sweeps(result):
        c = result.columns
        return np.sum((c["operation"] == OP["kulak_00447"]) & (c["source"] == SRC["card_file"]))

    none = run(nkvd__sweep_capacity_per_million=0.0, nkvd__mass_capacity_per_million=20.0)
    some = run(nkvd__sweep_capacity_per_million=300.0, nkvd__mass_capacity_per_million=20.0)
    assert kulak_sweeps(some) > 1.5 * kulak_sweeps(none)


def test_stop_decree_ends_the_mass_operations(base):
    """The mass operations end with the stop decree; the Military Collegium (the elite's
    lists) sits on, and ordinary work goes on."""
    c = base.columns
    stop = base.scenario.event_week("stop_decree")
    mass = (c["operation"] != OP["ordinary"]) & (c["operation"] != OP["elite"])
    assert not np.any(mass & (c["week"] >= stop))
    # moving the stop decree off the calendar keeps the operations going into 1939
    never = run(calendar__stop_decree__enabled=False)
    assert (never.summary()["by_year"]["1939"]["arrested"]
            > 3 * base.summary()["by_year"]["1939"]["arrested"])


def test_statuses_agree_with_outcomes():
    sim = ps.Sim(ps.load_scenario(scale=SCALE))
    result = sim.run()
    c = result.columns
    died = c["died_week"] >= 0
    camp_dead = died & (c["sentence"] == SENT["cat2"])
    assert np.all(sim.register.status[c["person"][camp_dead]] == DIED)
    assert "operations" in sim.loop_table() and "denunciation" in sim.loop_table()


def test_default_run_is_of_the_historical_order_of_magnitude():
    """Calibration comes later; here only the order of magnitude of 1937 and 1938."""
    s = ps.run("great-terror", scale=500).summary()
    from purgesim import datasets

    for year in ("1937", "1938"):
        arrested = s["by_year"][year]["arrested"]
        convicted = s["by_year"][year]["convicted"]
        real = datasets.figure(f"convicted_cr_total_{year}")
        assert real / 3 < convicted < real * 3, (year, convicted)
        assert 100_000 < arrested < 3_000_000


def test_the_investigator_adds_names_from_the_card_file():
    """The card-file top-up adds names to those a confessor gives (it used to replace some):
    with a top-up of one per name, confessors are recorded as naming more people (seen: 1.59
    against 1.22 at 1:500; many of the card file are already taken, and a name is kept only
    for someone still free)."""
    def names_per_confessor(topup: float) -> float:
        c = run(scale=500, interrogation__card_file_topup=topup).columns
        return float(c["named"][c["confessed"]].mean())

    assert names_per_confessor(1.0) > 1.15 * names_per_confessor(0.0)


def test_regions_ask_for_the_category_their_troika_lacked():
    """A troika whose category 1 limit ran out gave category 2 meanwhile; its region asks for
    category 1, as the troika would have sentenced without the limits, not for more of what
    the limits forced on it."""
    from purgesim.mechanisms.centre import Centre
    from purgesim.model.state import Limits

    centre = Centre(ps.load_scenario(scale=SCALE))
    centre.zeal = np.ones(1)
    limits = Limits(np.array([10.0]), np.array([30.0]))
    limits.arrested[:] = 40.0
    limits.used_cat1[:], limits.used_cat2[:] = 10.0, 30.0  # category 2 given for want of 1
    limits.wanted_cat1[:] = 30.0  # of the 40 sentenced
    limits.backlog[:] = True
    centre._requests(limits)
    assert limits.request_cat1[0] == pytest.approx(3 * limits.request_cat2[0])


def _rsfsr_zeal(zeal_of: str, seeds: range) -> np.ndarray:
    from purgesim.mechanisms.centre import Centre

    out = []
    for seed in seeds:
        sim = ps.Sim(ps.with_overrides(ps.load_scenario(scale=20_000, seed=seed),
                                       centre__zeal_of=zeal_of)).init()
        (centre,) = [m for m in sim.mechanisms if isinstance(m, Centre)]
        out.append(centre.zeal[sim.population.region_names.index("RSFSR")])
    return np.array(out)


def test_a_republic_of_many_oblasts_averages_its_chiefs_zeal():
    """With one chief per region the RSFSR's zeal is one log-normal draw, which moves whole
    seeds' ratchets; with one chief per annex entry it is the mean of some fifty, near the
    log-normal's mean exp(sigma^2 / 2) on every seed."""
    from purgesim import datasets
    from purgesim.mechanisms.centre import annex_entries

    sigma = ps.load_scenario().centre.zeal_sigma
    one, many = _rsfsr_zeal("region", range(1, 9)), _rsfsr_zeal("oblasts", range(1, 9))
    assert np.std(np.log(one)) > 3 * np.std(np.log(many))
    assert np.all(np.abs(many / np.exp(sigma ** 2 / 2) - 1) < 0.25)
    names = [r.name for r in datasets.regions()]
    entries = dict(zip(names, annex_entries(names, datasets.o00447_limits()), strict=True))
    assert entries["Gulag"] == 1 and min(entries.values()) >= 1
    assert entries["RSFSR"] > 40 and sum(entries.values()) < 70


def test_a_national_operation_sweeps_its_own_diaspora_and_its_other_target_groups():
    """The nationalities pick whose diaspora bit an operation sweeps; with
    ``nationalities_diaspora_only`` the Harbin operation's other group, people with foreign
    contacts ("Japanese spies"), counts whatever the nationality; without, only Harbinites."""
    from purgesim import datasets
    from purgesim.mechanisms.operations import Operations
    from purgesim.vocab import TAINT_BIT

    codes = {nat.name: nat.code for nat in datasets.diaspora()}
    for only in (False, True):
        sim = ps.Sim(ps.load_scenario(
            scale=2_000, seed=1,
            operations__harbin_00593__nationalities_diaspora_only=only)).init()
        (ops,) = [m for m in sim.mechanisms if isinstance(m, Operations)]
        pop = sim.population
        polish = np.concatenate(ops.lists["polish_00485"])
        assert len(polish) > 0 and np.all(pop.nation[polish] == codes["Polish"])
        harbin = np.concatenate(ops.lists["harbin_00593"])
        returnee = pop.nation[harbin] == codes["Harbin returnee"]
        contacts = (pop.taint[harbin] & TAINT_BIT["foreign_links"]) > 0
        assert returnee.any() and (~returnee).any() == only
        assert np.all(returnee | contacts)
