"""Set operations on id arrays, faster than numpy's for the sizes the mechanisms use."""

from __future__ import annotations

import numpy as np


def unique(ids: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``ids``: ``np.unique(ids)`` for a 1-d integer array.

    numpy 2.3+ finds unique values through a hash table before sorting them, several times
    slower for ids than sorting first (0.5 ms against 15 ms for 100,000 ids).
    """
    out = np.sort(np.asarray(ids).ravel())
    if len(out) > 1:
        keep = np.empty(len(out), dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out
