"""The engine's per-group queues: first in, first out, scores that add up, narrow pops."""

from __future__ import annotations

import numpy as np

from purgesim.engine.queues import GroupQueues


def queue() -> GroupQueues:
    q = GroupQueues(2, {"who": np.int64, "score": np.float64, "when": np.int64},
                    key="who", score="score", time="when")
    q.push(np.array([0, 0, 0, 0, 1]), who=np.array([5, 3, 5, 7, 9]),
           score=np.array([0.5, 1.0, 0.5, 1.0, 1.0]), when=np.array([0, 1, 2, 3, 3]))
    return q


def everyone(ids: np.ndarray) -> np.ndarray:
    return np.ones(len(ids), dtype=bool)


def test_pop_takes_the_first_accused_first_and_adds_up_scores():
    q = queue()
    out = q.pop(0, 2, everyone, now=3, patience=10, threshold=1.0)
    assert out["who"].tolist() == [5, 3]  # 5's two entries add up to 1 and came first
    assert q.length(0) == 1 and q.length(1) == 1


def test_a_narrow_pop_takes_only_the_allowed_and_leaves_the_rest_as_it_was():
    q = queue()
    out = q.pop(0, 5, everyone, now=3, patience=10, only=lambda ids: ids == 7)
    assert out["who"].tolist() == [7]
    assert q.length(0) == 3  # the others wait, in their order
    assert q.pop(0, 5, everyone, now=3, patience=10)["who"].tolist() == [5, 3]


def test_stale_and_unavailable_entries_are_dropped_by_a_full_pop():
    q = queue()
    out = q.pop(0, 5, lambda ids: ids != 3, now=3, patience=0)
    assert out["who"].tolist() == [7]  # 5's entries at weeks 0 and 2 are too old, 3 is gone
    assert q.length(0) == 0
