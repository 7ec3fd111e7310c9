"""Small pieces of casework that several mechanisms share: drawing free people from a list,
and the operation and pace of cases on the lists signed at the top."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from purgesim.vocab import FREE, OP, OPERATIONS

if TYPE_CHECKING:
    from purgesim.sim import Sim

PICK_ROUNDS = 4  # tries at drawing free people from a sparse set
DEFAULT_LAG_WEEKS = 4.0  # the pace of a case whose operation the scenario does not define


def pick_free(ids: np.ndarray, k: int, status: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` distinct free people drawn uniformly from ``ids``, in O(k) (a few rounds of
    draws with replacement; short only when nearly everyone is gone)."""
    chosen = np.empty(0, dtype=np.int64)
    if k <= 0 or len(ids) == 0:
        return chosen
    for _ in range(PICK_ROUNDS):
        need = k - len(chosen)
        draw = ids[rng.integers(0, len(ids), 2 * need + 4)]
        draw = draw[status[draw] == FREE]
        draw = draw[~np.isin(draw, chosen)]
        _, first = np.unique(draw, return_index=True)
        chosen = np.concatenate([chosen, draw[np.sort(first)][:need]])
        if len(chosen) >= k:
            break
    return chosen


def elite_operation(sim: Sim) -> int:
    """The elite operation (the Military Collegium's lists) while it runs, else ordinary work
    (as operations do)."""
    op = sim.scenario.operations.get("elite")
    running = (op is not None and op.enabled
               and (op.start is None or sim.active(op.start))
               and not (op.end is not None and sim.active(op.end)))
    return OP["elite"] if running else OP["ordinary"]


def sentence_lag(sim: Sim, operation: int) -> float:
    """Mean weeks from arrest to sentence in ``operation``."""
    op = sim.scenario.operations.get(OPERATIONS[operation])
    return op.sentence_lag_weeks if op is not None else DEFAULT_LAG_WEEKS
