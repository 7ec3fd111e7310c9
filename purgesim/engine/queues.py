"""Per-group queues, first in, first out, held as arrays (never Python lists).

An entry is a set of named fields (arrays of equal length), one of them the id of whom it is
about (``key``), one a score that adds up over that id's entries (``score``), and one the time
the entry was made (``time``). An id may be queued more than once; the queue length counts
entries. A model gives the fields: purgesim's suspect queues hold who was named, by whom, in
which generation, operation and source, when, and with what evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


class GroupQueues:
    def __init__(self, n_groups: int, fields: Mapping[str, np.dtype | type], *, key: str,
                 score: str, time: str):
        self._chunks: list[list[dict[str, np.ndarray]]] = [[] for _ in range(n_groups)]
        self._fields = {name: np.dtype(dt) for name, dt in fields.items()}
        self._key, self._score, self._time = key, score, time

    def push(self, group: np.ndarray, **entry: np.ndarray) -> None:
        """Append entries (arrays of equal length) to the back of their groups' queues."""
        if len(group) == 0:
            return
        order = np.argsort(group, kind="stable")
        group = group[order]
        bounds = np.flatnonzero(np.diff(group)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(group)]])
        for lo, hi in zip(starts, stops, strict=True):
            r = int(group[lo])
            self._chunks[r].append(
                {f: np.asarray(entry[f])[order[lo:hi]].astype(dt)
                 for f, dt in self._fields.items()})

    def _merged(self, r: int) -> dict[str, np.ndarray]:
        chunks = self._chunks[r]
        if not chunks:
            return {f: np.empty(0, dtype=dt) for f, dt in self._fields.items()}
        if len(chunks) > 1:
            chunks[:] = [{f: np.concatenate([c[f] for c in chunks]) for f in self._fields}]
        return chunks[0]

    def pop(self, r: int, k: int, available: Callable[[np.ndarray], np.ndarray], now: int,
            patience: float, threshold: float = 0.0,
            only: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Remove and return up to ``k`` ids that are still ``available`` (a mask of ids) and
        whose entries together score at least ``threshold``, in order of their first entry;
        with ``only`` (a mask of ids), only such ids (the others wait).

        A returned entry is the id's first entry. Entries of ids no longer available, and
        entries older than ``patience``, are dropped; entries of ids below the threshold wait.
        With ``only``, the pop looks at the allowed ids' entries alone and drops nothing else
        (a pop without it, later, does): a narrow pop costs what the allowed ids cost.
        """
        q = self._merged(r)
        key = q[self._key]
        if len(key) == 0:
            return q
        if only is None:
            valid = np.flatnonzero(available(key) & (now - q[self._time] <= patience))
            cand = valid
        else:  # look at the entries of the ids ``only`` allows, and leave the rest as it is
            allowed = np.flatnonzero(only(key))
            cand = allowed[available(key[allowed]) & (now - q[self._time][allowed] <= patience)]
        first, inverse = first_and_inverse(key[cand])
        score = np.bincount(inverse, weights=q[self._score][cand], minlength=len(first))
        ready = np.flatnonzero(score >= threshold - 1e-9)  # ids, in increasing order
        # the k whose first entry came first (first entries are distinct: any sort will do)
        taken_ids = ready[np.argsort(first[ready])[:k]]
        out = {f: q[f][cand[first[taken_ids]]] for f in self._fields}
        taken = np.zeros(len(first), dtype=bool)
        taken[taken_ids] = True
        if only is None:
            keep = valid[~taken[inverse]]  # every entry of an id taken goes
        else:
            kept = np.ones(len(key), dtype=bool)
            kept[cand[taken[inverse]]] = False
            keep = np.flatnonzero(kept)
        if len(keep) < len(key):
            self._chunks[r] = [{f: q[f][keep] for f in self._fields}]
        return out

    def length(self, r: int) -> int:
        return sum(len(c[self._key]) for c in self._chunks[r])

    def lengths(self) -> np.ndarray:
        return np.array([self.length(r) for r in range(len(self._chunks))], dtype=np.int64)

    def count(self, r: int, field: str, value: int) -> int:
        """Entries of group ``r`` whose ``field`` equals ``value``."""
        return int(sum(np.count_nonzero(c[field] == value) for c in self._chunks[r]))


def first_and_inverse(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_index=True, return_inverse=True)[1:]``: for each distinct
    id (in increasing order) the position of their first entry, and for each entry its
    id's rank.

    numpy finds these with a stable argsort, several times slower than its plain sort; here
    the plain sort orders keys that pack each entry's position under its id, so
    they are distinct and come out in the stable order.
    """
    n = len(ids)
    if n == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    bits = max(int(n - 1).bit_length(), 1)
    if int(ids.min()) < 0 or int(ids.max()) >= 1 << (63 - bits):
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        return first, inverse
    keys = np.sort((ids.astype(np.int64) << bits) | np.arange(n, dtype=np.int64))
    order = keys & ((1 << bits) - 1)  # positions, by id and then position
    keys >>= bits  # ids, sorted
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    first = order[new]
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return first, inverse
