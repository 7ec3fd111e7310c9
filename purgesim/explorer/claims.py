"""The founding essay's claims, each with its passage, the counterfactual that tests it and
the figures that answer it.

The passages are quoted from the essay the project started from (its own founding
document), shortened. A claim is tested by setting the historical scenario (``great-terror``)
against a counterfactual on the same seeds: a shipped scenario, or fields changed from
``great-terror``. The answer is what the model computes, with its interval over seeds; it is
never written here, so it moves when the model is recalibrated. The model reports; it does
not judge whether the essay is right.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from purgesim.ensemble import spread
from purgesim.explorer.state import apply_changes, digest
from purgesim.explorer.store import code_version
from purgesim.explorer.upload import differences
from purgesim.explorer.words import FIGURES, change, figures_of
from purgesim.scenario import Scenario, load_scenario, validate

HISTORY = "great-terror"
Changes = list[tuple[str, Any]]


@dataclass(frozen=True)
class Counterfactual:
    """A counterfactual and the figures that tell what it changes."""

    id: str
    label: str
    figures: tuple[str, ...]
    scenario: str | None = None
    """A shipped counterfactual, or None for ``great-terror`` with ``changes``."""
    changes: Callable[[Scenario], Changes] = field(default=lambda base: [])
    """The fields changed from ``great-terror`` (given it, so they follow the schema)."""


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    passage: str
    tests: tuple[Counterfactual, ...]


def _card_file_empty(base: Scenario) -> Changes:
    return [(f"population.card_file.{k}", 0.0) for k in base.population.card_file]


def _set(*changes: tuple[str, Any]) -> Callable[[Scenario], Changes]:
    return lambda base: list(changes)


def _shipped(name: str, label: str, *figures: str) -> Counterfactual:
    return Counterfactual(name, label, figures, scenario=name)


def _changed(id: str, label: str, figures: tuple[str, ...],
             changes: Callable[[Scenario], Changes]) -> Counterfactual:
    return Counterfactual(id, label, figures, changes=changes)


CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("quotas", "Quotas made innocents inevitable",
          "There were in the 1930s quotas for arrests ... the cops in a particular locality "
          "were required to produce so many spies and reactionaries. Imagine what that "
          "produced?",
          (_shipped("no-quotas", "no limits from the centre: arrests only on suspicion",
                    "innocent_convicted", "arrested", "convicted"),)),
    Claim("torture", "Torture fed the machinery",
          "There was permission to torture signed at the highest level. Imagine what that "
          "meant for the emergence of \u201cconfessions\u201d and new denunciations of new "
          "suspects for the machinery.",
          (_shipped("no-torture", "physical methods never used in interrogation",
                    "from_named", "peak_r", "arrested"),)),
    Claim("punish-ten", "\u201cPunish ten\u201d",
          "There was explicitly a policy (high in Stalin\u2019s government) of \u201cpunishing "
          "ten to make sure one doesn\u2019t go free.\u201d",
          (_changed("steady-bar", "the evidence bar does not fall under the pressure of the "
                    "limits", ("innocent_convicted", "from_named", "from_denunciation",
                               "arrested"),
                    _set(("evidence.pressure_sensitivity", 0.0),
                         ("evidence.vigilance_pressure", 0.0))),)),
    Claim("card-files", "The card files: \u201cmopping up\u201d the tainted",
          "a conscious policy of \u201cmopping up\u201d \u2014 i.e. assuming that the time "
          "had come to remove everyone who had ever been suspect, or a problem, or had gotten "
          "some taint on their record",
          (_changed("no-card-file", "the NKVD's card file registers nobody",
                    ("from_card_file", "arrested", "innocent_convicted"), _card_file_empty),)),
    Claim("sabotage", "Sabotage blame",
          "a policy of blanket blaming all kinds of industrial breakdowns, snafus, accidents, "
          "shortfalls ... on conscious sabotage \u2014 to deflect anger and impatience from "
          "those in power.",
          (_shipped("no-sabotage-blame", "industrial failures never blamed on sabotage",
                    "from_sabotage", "output_loss", "arrested"),)),
    Claim("hostages", "Hostages",
          "Molotov\u2019s own wife was imprisoned after World War 2, held as a kind of "
          "hostage to his continued service.",
          (_shipped("no-families", "no family repression: no Order 00486, no hostages",
                    "from_family", "arrested", "convicted"),)),
    Claim("overlay", "The four purposes of the overlay",
          "The purges involved an overlay of several things: a) a determined terrorizing of "
          "the \u201cmiddle management\u201d ... b) ... police killing or disappearing those "
          "raising political disagreements. c) a runaway process of mutual denunciation and "
          "witchhunting that raged far outside any single central control ... d) an acute "
          "high level line struggle",
          (_changed("no-tails", "a) no 'tails': an arrested official's clients are not "
                    "pulled in with him", ("officials_arrested", "arrested"),
                    _set(("top.tail_probability", 0.0))),
           _changed("no-dissent-arrests", "b) a disagreement voiced in the party is never "
                    "reported", ("arrested", "officials_arrested", "cat1"),
                    _set(("top.dissent_rate", 0.0))),
           _shipped("top-down-only", "c) no denunciation from below",
                    "from_denunciation", "peak_r", "arrested"),
           _shipped("bottom-up-only", "c) no limits and no card-file sweeps: only what comes "
                    "from below and the cascade", "arrested", "peak_r"),
           _changed("no-faction-accusations", "d) no accusations of factionalism in the "
                    "Central Committee", ("central_committee_shot",),
                    _set(("top.faction_accusations_per_week", 0.0))))),
    Claim("ratchet", "The ratchet of harshness",
          "There was a terrible ratcheting up of harshness",
          (_changed("no-raises", "the centre never grants a request for more (nor the "
                    "Politburo's dated raises)", ("arrested", "cat1", "innocent_convicted"),
                    _set(("centre.approval_probability", 0.0),
                         ("centre.late_approval_probability", 0.0),
                         ("centre.raises", []))),
           _shipped("early-stop", "the stop decree comes at the end of 1937",
                    "arrested", "cat1"))),
    Claim("remarks", "A casual remark",
          "the punishment for a casual remark could be denunciation, imprisonment and worse.",
          (_shipped("speech-tolerated", "critical remarks and dissent are no ground for "
                    "arrest", "from_remark", "arrested"),)),
    Claim("trials", "Without trial, without evidence",
          "the state execution of hundreds of thousands of people (without trial and often, "
          "it must be said, without evidence)",
          (_shipped("courts", "evidence-based courts instead of troikas",
                    "convicted", "cat1", "innocent_convicted"),)),
)}
"""The claims in the order the page lists them."""


def changes_of(test: Counterfactual, base: Scenario) -> Changes:
    """The fields ``test`` changes from ``base`` (great-terror at some scale and seed)."""
    if test.scenario is None:
        return list(test.changes(base))
    shipped = load_scenario(test.scenario, scale=base.scale, seed=base.seed)
    skip = {"name", "description"}
    return differences({k: v for k, v in base.model_dump().items() if k not in skip},
                       {k: v for k, v in shipped.model_dump().items() if k not in skip})


def baseline(scale: int, seed: int) -> Scenario:
    return load_scenario(HISTORY, scale=scale, seed=seed)


def counterfactual_scenario(test: Counterfactual, base: Scenario) -> Scenario:
    """``base`` with what ``test`` changes, named after the test."""
    data = apply_changes(base.model_dump(), changes_of(test, base), test.id)
    data["name"] = test.scenario or test.id
    return validate(data, test.id, ())


@functools.cache
def definition(claim_id: str) -> dict[str, Any]:
    """What a claim's answer depends on (its tests and their changes), as plain data. The
    changes depend on the code only (not on the scale or the seed), so this is computed
    once per process."""
    base = baseline(100, 1)
    return {"id": claim_id, "tests": [
        {"id": t.id, "figures": list(t.figures), "changes": changes_of(t, base)}
        for t in CLAIMS[claim_id].tests]}


def claim_key(claim_id: str, scale: int, seed: int, seeds: int) -> str:
    """The key of a claim's answer: the code, the claim's tests, the scale and the seeds."""
    return digest({**code_version(), "claim": definition(claim_id), "scale": scale,
                   "seed": seed, "seeds": seeds})


def answer(test: Counterfactual, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
           ) -> dict[str, Any]:
    """The model's answer to one test: for each of its figures, the value over the seeds in
    the history and in the counterfactual (mean and 90% interval) and the paired change,
    from the runs' summaries (``before`` and ``after`` on the same seeds, in order)."""
    fb = [figures_of(s) for s in before]
    fa = [figures_of(s) for s in after]
    rows = []
    for key in test.figures:
        values_b = [f[key] for f in fb]
        values_a = [f[key] for f in fa]
        rows.append({**change(key, values_b, values_a), "history": spread(values_b),
                     "counterfactual": spread(values_a), "label": FIGURES[key].phrase})
    return {"id": test.id, "label": test.label, "scenario": test.scenario, "rows": rows}


def listing() -> list[dict[str, Any]]:
    """The claims as the page lists them, with each test's changes (for its link)."""
    return [{"id": c.id, "title": c.title, "passage": c.passage,
             "tests": [{"id": t.id, "label": t.label, "scenario": t.scenario,
                        "figures": [FIGURES[k].phrase for k in t.figures],
                        "changes": definition(c.id)["tests"][i]["changes"]}
                       for i, t in enumerate(c.tests)]}
            for c in CLAIMS.values()]
