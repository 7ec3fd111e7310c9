"""Mechanism 7, sentencing: troikas on the case file, or the counterfactual court on evidence.

Each case is decided in the week drawn at arrest (about a month for most cases, two weeks for
the troikas, longer for the national operations' albums). A troika convicts every confessor and
most of the rest; the category follows the operation's share shot (for ordinary cases, a higher
share while the mass operations run), with odds raised by the victim's profile; for a limited
operation the category 1 and 2 limits are ceilings, so a category whose limit is used up is not
given while the other has room. After the stop decree the troikas are gone: the cases pending
then are reviewed and some are released. The evidence-based court convicts on ground truth; a
coerced confession counts for little.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field

from purgesim.model.mechanism import Mechanism
from purgesim.model.state import Limits, Policy, Sentences
from purgesim.params import Odds, Probability, Section, Taint, Weeks
from purgesim.vocab import CAMP, OP, RELEASED, SENT, SHOT, SRC, TAINT_BIT

if TYPE_CHECKING:
    from purgesim.scenario import Scenario
    from purgesim.sim import Sim

SERIES = ("convicted_cat1", "convicted_cat2", "released", "innocent_convicted")
REVIEW = 1  # sub-stream: the review's delays

class SentencingParams(Section):
    """The ``[sentencing]`` table: who decides cases, and how."""

    court: Literal["troika", "evidence"]
    """'troika': the case file decides, a confession is enough. 'evidence': a court that
    convicts on real evidence, so the verdict follows ground truth (the counterfactual)."""
    evidence_convict_guilty: Probability
    evidence_convict_innocent: Probability
    evidence_confession_weight: Probability
    cat1_profile_odds: dict[Taint, Odds]
    after_stop_release: Probability
    """Share of the cases pending at the stop decree that the review releases."""
    album_lag_weeks: Annotated[Weeks, Field(ge=1.0)] = 10.0
    """Mean weeks from arrest to a decision for the operations judged by 'album' in Moscow: one
    commission (the NKVD chief and the Procurator) decided every national operation's lists."""
    album_cat1_share: Probability
    """How readily the album commission (and the special troikas after it) sentenced to death,
    before the victim's profile: the share shot of the operations it judged is an outcome."""
    collegium_cat1_share: Probability
    """The same for the Military Collegium, which judged the lists signed at the top."""
    after_stop_review_weeks: Weeks
    """Mean weeks the stop decree's review of a pending case adds before its court decides."""



class Sentencing(Mechanism):
    name = "sentencing"
    does = "cases due this week: troika or evidence court; category 1 or 2 under the limits"
    sections = {"sentencing": SentencingParams}
    needs = (Policy, Limits)
    provides = (Sentences,)

    def __init__(self, scenario: Scenario):
        self.p = scenario.sentencing
        ops = scenario.operations
        self.convict_no_confession = np.array(
            [ops[n].convict_without_confession if n in ops else 0.8 for n in OP])
        body = {"album": self.p.album_cat1_share, "collegium": self.p.collegium_cat1_share}
        self.cat1_share = np.array([
            (ops[n].cat1_share if ops[n].sentenced_by == "operation"
             else body[ops[n].sentenced_by]) if n in ops else 0.5 for n in OP])
        # (operation index, share, from, until) for operations whose share shot changes while
        # the mass operations run
        self.mass_shares = [(i, ops[n].mass_cat1_share, ops[n].mass_from, ops[n].mass_until)
                            for i, n in enumerate(OP)
                            if n in ops and ops[n].mass_cat1_share is not None]
        self.limited = np.array([ops[n].limited if n in ops else False for n in OP])
        # the operations whose cases the troikas (or the album commission and its special
        # troikas) decided: after the stop decree the courts decide them
        self.by_troikas = np.array([n in ops and n != "ordinary" and (
            ops[n].limited or ops[n].sentenced_by == "album") for n in OP])
        self.profile = np.ones(256)
        for bits in range(256):
            for name, odds in self.p.cat1_profile_odds.items():
                if bits & TAINT_BIT[name]:
                    self.profile[bits] *= odds

    def init(self, sim: Sim) -> None:
        self.policy = sim.get(Policy)
        self.limits = sim.get(Limits)
        self.sentences = Sentences()
        sim.provide(self.sentences)
        sim.define_series(*SERIES)

    def step(self, sim: Sim) -> None:
        self.sentences.clear()
        register = sim.register
        if sim.week == sim.event_week("stop_decree"):
            # the stop decree sends every pending case back for review: it is decided later,
            # by a court (many in 1939), or released
            pending = register.pending_rows()
            lag = self.p.after_stop_review_weeks
            register.put_off(pending, 1 + sim.rng(self.name, REVIEW).poisson(
                max(lag - 1.0, 0.0), len(pending)))
        rows = register.due_rows()
        if len(rows) == 0:
            return
        rng = sim.rng(self.name)
        ev = register.events
        op = ev["operation"][rows].astype(np.int64)
        confessed = ev["confessed"][rows]
        guilty = ev["guilty"][rows]
        u_convict, u_cat, u_review = rng.random((3, len(rows)))

        if self.p.court == "evidence":
            base = np.where(guilty, self.p.evidence_convict_guilty, self.p.evidence_convict_innocent)
            p_convict = base + confessed * self.p.evidence_confession_weight * (1.0 - base)
        else:
            p_convict = np.where(confessed, 1.0, self.convict_no_confession[op])
            # wives under Order 00486 were sentenced by the Special Board as a matter of course
            p_convict[ev["source"][rows] == SRC["family"]] = 1.0
        convicted = u_convict < p_convict
        if not self.policy.troikas:
            # the troikas' pending cases are reviewed after the stop decree; new cases are not
            pending = ev["week"][rows] < (sim.event_week("stop_decree") or 0)
            convicted &= ~pending | (u_review >= self.p.after_stop_release)

        # category: the operation's share shot, raised by the victim's profile; for a limited
        # operation the limits are ceilings: a category whose limit is used up is not given
        # while the other still has room (and the region asks the centre for more)
        share = self.cat1_share.copy()
        for i, mass_share, start, until in self.mass_shares:
            if (start is None or sim.active(start)) and not (until and sim.active(until)):
                share[i] = mass_share
        if not self.policy.troikas:
            # with the troikas and the special troikas gone, the courts decide their cases
            share[self.by_troikas] = share[OP["ordinary"]]
        odds = share[op] / np.maximum(1.0 - share[op], 1e-9)
        odds = odds * self.profile[ev["taint"][rows]]
        region = ev["region"][rows].astype(np.int64)
        limits = self.limits
        scale = sim.scenario.scale
        weight = ev["weight"][rows] / scale
        lim = self.limited[op]
        n = len(limits.cat1)
        if self.policy.limits:
            free = convicted & lim
            limits.wanted_cat1 += np.bincount(
                region[free], weights=weight[free] * odds[free] / (1.0 + odds[free]), minlength=n)
            room1 = (limits.cat1 - limits.used_cat1)[region] > 0
            room2 = (limits.cat2 - limits.used_cat2)[region] > 0
            odds = np.where(lim & ~room1 & room2, 0.0, odds)
            odds = np.where(lim & room1 & ~room2, np.inf, odds)
        odds[ev["source"][rows] == SRC["family"]] = 0.0  # wives: 5-8 years of camp, not death
        with np.errstate(invalid="ignore"):
            p_cat1 = np.where(np.isinf(odds), 1.0, odds / (1.0 + odds))
        cat1 = convicted & (u_cat < p_cat1)
        cat2 = convicted & ~cat1

        sentence = np.where(cat1, SENT["cat1"], np.where(cat2, SENT["cat2"], SENT["released"]))
        ev.set("sentence", rows, sentence)
        ev.set("sentence_week", rows, sim.week)
        released = rows[~convicted]
        ev.set("released_week", released, sim.week)
        person = ev["person"][rows]
        register.status[person[cat1]] = SHOT
        register.status[person[cat2]] = CAMP
        register.status[person[~convicted]] = RELEASED
        ev.set("died_week", rows[cat1], sim.week)

        limits.used_cat1 += np.bincount(region[cat1 & lim], weights=weight[cat1 & lim], minlength=n)
        limits.used_cat2 += np.bincount(region[cat2 & lim], weights=weight[cat2 & lim], minlength=n)

        register.record("convicted_cat1", rows[cat1])
        register.record("convicted_cat2", rows[cat2])
        register.record("released", released)
        register.record("innocent_convicted", rows[convicted & ~guilty])
        self.sentences.rows = rows
        self.sentences.camp = rows[cat2]
