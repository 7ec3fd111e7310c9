"""The fast paths give exactly what the plain numpy expressions they replaced give."""

from __future__ import annotations

import numpy as np
import pytest

import purgesim as ps
from purgesim.engine.queues import first_and_inverse
from purgesim.engine.random import stream
from purgesim.mechanisms.remarks import _reported
from purgesim.population import uniform_in_blocks
from purgesim.vocab import FLAG, FREE


@pytest.mark.parametrize("size", [0, 1, 2, 7, 5000])
@pytest.mark.parametrize("high", [2, 1000, 200_000_000])
def test_first_and_inverse_is_numpys(size, high):
    person = stream(1, "test", size, high).integers(0, high, size)
    _, first, inverse = np.unique(person, return_index=True, return_inverse=True)
    mine = first_and_inverse(person)
    assert np.array_equal(mine[0], first) and np.array_equal(mine[1], inverse)
    negative = person - high // 2  # out of the packed range: numpy's own path
    _, first, inverse = np.unique(negative, return_index=True, return_inverse=True)
    mine = first_and_inverse(negative)
    assert np.array_equal(mine[0], first) and np.array_equal(mine[1], inverse)


def test_reported_remarks_match_the_array_version():
    pop = ps.build_population(ps.load_scenario(scale=2000))
    rng = stream(2, "test")
    status = (rng.random(pop.n) < 0.1).astype(np.uint8)  # some people not free
    speakers = np.unique(rng.integers(0, pop.n, 3000))
    own = pop.workplace_of(speakers)
    wp = np.unique(rng.choice(own, 300))
    counts = rng.integers(1, 30, len(wp))
    h, informant_report, fear_report = 3, 0.5, 0.05
    draws = stream(3, "test")
    u_hearer, u_report = draws.random(len(speakers) * h), draws.random(len(speakers) * h)

    # the array version (remarks.py before the kernel)
    again = stream(3, "test")
    heard_by = np.repeat(speakers, h)
    hearer = uniform_in_blocks(pop.workplace_offsets, np.repeat(own, h), again)
    listening = (hearer != heard_by) & (status[hearer] == FREE)
    informant = (pop.flags[hearer] & FLAG["informant"]) > 0
    k = np.minimum(np.searchsorted(wp, own), len(wp) - 1)
    recent = np.where(wp[k] == own, counts[k], 0).astype(float)
    afraid = np.minimum(1.0, fear_report * np.repeat(recent, h))
    p_report = 1.0 - (1.0 - informant_report * informant) * (1.0 - afraid)
    reports = listening & (again.random(len(hearer)) < p_report)
    expected = speakers[reports.reshape(-1, h).any(axis=1)]

    got = _reported(speakers, own, pop.workplace_offsets, status, pop.flags, FLAG["informant"],
                    FREE, wp, counts, h, u_hearer, u_report, informant_report, fear_report)
    assert len(expected) > 10
    assert np.array_equal(got, expected)


@pytest.mark.parametrize(("n", "p", "chunk"), [(0, 0.1, 8), (10, 0.5, 3), (5, 1.0, 2),
                                               (100_000, 0.06, 1000), (100_000, 0.4, 333),
                                               (1_000_000, 0.0001, 64)])
def test_sparse_bernoulli_chunks_are_the_same_draws(n, p, chunk):
    from purgesim.engine.random import sparse_bernoulli, sparse_bernoulli_chunks

    whole, chunked = stream(4, "test"), stream(4, "test")
    ids = sparse_bernoulli(n, p, whole)
    parts = list(sparse_bernoulli_chunks(n, p, chunked, chunk))
    assert np.array_equal(np.concatenate([np.empty(0, dtype=np.int64), *parts]), ids)
    assert whole.random() == chunked.random()  # the generators end in the same state
