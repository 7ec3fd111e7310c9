"""Verdicts and guilt: the evidence-based court convicts the guilty far more readily than the
innocent; the troikas, who convict on the case file, hardly tell them apart. Measured by the
summary's ``discrimination`` (conviction rate of the guilty over that of the innocent, among
decided cases) with real guilt assumed at 1% so that the guilty are many enough to count."""

from __future__ import annotations

import purgesim as ps

SCALE = 2000
SEEDS = (1, 2)
PREVALENCE = {"population__guilty_prevalence": 0.01}


def discrimination(scenario: str, **overrides: object) -> list[float]:
    values = [ps.run(scenario, scale=SCALE, seed=s, **PREVALENCE, **overrides)
              .summary()["discrimination"] for s in SEEDS]
    assert all(v is not None for v in values)
    return values


def discriminates(values: list[float]) -> bool:
    """The claim under test: every seed's court convicts the guilty at least ten times as
    readily as the innocent (seen: 16 to 24 for the evidence-based court)."""
    return min(values) > 10.0


def test_evidence_courts_discriminate_and_troikas_do_not():
    assert discriminates(discrimination("courts"))
    troikas = discrimination("great-terror")
    assert not discriminates(troikas)
    assert max(troikas) < 2.0  # seen: about 1.1 (a guilty man confesses a little more readily)


def test_a_court_blind_to_guilt_fails_the_claim():
    """The same court convicting guilty and innocent alike on the evidence (it still weighs
    a confession, which the guilty give a little more readily): seen 0.7 to 4.7."""
    blind = discrimination("courts", sentencing__evidence_convict_guilty=0.05,
                           sentencing__evidence_convict_innocent=0.05)
    assert not discriminates(blind)
