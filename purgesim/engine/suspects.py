"""Per-region suspect queues: first in, first out, held as arrays (never Python lists).

An entry is a person named (or otherwise brought to the NKVD's attention) with who named them,
their generation in the cascade, the operation and source the case belongs to, the week the
entry was made and the evidence it carries. A person may be queued more than once (the queue
length counts entries) and the evidence of their entries adds up.
"""

from __future__ import annotations

import numpy as np

FIELDS = ("person", "parent", "generation", "operation", "source", "week", "evidence")
DTYPES = (np.int64, np.int64, np.int16, np.int8, np.int8, np.int16, np.float32)


class SuspectQueues:
    def __init__(self, n_regions: int):
        self._chunks: list[list[dict[str, np.ndarray]]] = [[] for _ in range(n_regions)]

    def push(self, region: np.ndarray, **entry: np.ndarray) -> None:
        """Append entries (arrays of equal length) to the back of their regions' queues."""
        if len(region) == 0:
            return
        order = np.argsort(region, kind="stable")
        region = region[order]
        bounds = np.flatnonzero(np.diff(region)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(region)]])
        for lo, hi in zip(starts, stops, strict=True):
            r = int(region[lo])
            self._chunks[r].append(
                {f: np.asarray(entry[f])[order[lo:hi]].astype(dt) for f, dt in zip(FIELDS, DTYPES,
                                                                                   strict=True)}
            )

    def _merged(self, r: int) -> dict[str, np.ndarray]:
        chunks = self._chunks[r]
        if not chunks:
            return {f: np.empty(0, dtype=dt) for f, dt in zip(FIELDS, DTYPES, strict=True)}
        if len(chunks) > 1:
            chunks[:] = [{f: np.concatenate([c[f] for c in chunks]) for f in FIELDS}]
        return chunks[0]

    def pop(self, r: int, k: int, status: np.ndarray, week: int, patience: float,
            threshold: float = 0.0) -> dict[str, np.ndarray]:
        """Remove and return up to ``k`` suspects who are still free and whose accusations
        together carry at least ``threshold`` evidence, in order of their first accusation.

        A returned entry is the suspect's first accusation (its parent, generation, operation
        and source describe the case). Entries for people no longer free, and entries older than
        ``patience`` weeks, are dropped; entries of suspects below the threshold wait.
        """
        q = self._merged(r)
        n = len(q["person"])
        if n == 0:
            return q
        valid = np.flatnonzero((status[q["person"]] == 0) & (week - q["week"] <= patience))
        first, inverse = _first_and_inverse(q["person"][valid])
        evidence = np.bincount(inverse, weights=q["evidence"][valid], minlength=len(first))
        ready = np.flatnonzero(evidence >= threshold - 1e-9)  # suspects, by person
        # the k whose first accusation came first (first entries are distinct: any sort will do)
        taken_suspects = ready[np.argsort(first[ready])[:k]]
        out = {f: q[f][valid[first[taken_suspects]]] for f in FIELDS}
        taken = np.zeros(len(first), dtype=bool)
        taken[taken_suspects] = True
        keep = valid[~taken[inverse]]  # every entry of a suspect taken goes
        self._chunks[r] = [{f: q[f][keep] for f in FIELDS}]
        return out

    def length(self, r: int) -> int:
        return sum(len(c["person"]) for c in self._chunks[r])

    def lengths(self) -> np.ndarray:
        return np.array([self.length(r) for r in range(len(self._chunks))], dtype=np.int64)

    def waiting(self, r: int, operation: int) -> int:
        return int(sum(np.count_nonzero(c["operation"] == operation) for c in self._chunks[r]))


def _first_and_inverse(person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(person, return_index=True, return_inverse=True)[1:]``: for each distinct
    person (in increasing order) the position of their first entry, and for each entry its
    person's rank.

    numpy finds these with a stable argsort, several times slower than its plain sort; here
    the plain sort orders keys that pack each entry's position under its person's id, so
    they are distinct and come out in the stable order.
    """
    n = len(person)
    if n == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    bits = max(int(n - 1).bit_length(), 1)
    if int(person.min()) < 0 or int(person.max()) >= 1 << (63 - bits):
        _, first, inverse = np.unique(person, return_index=True, return_inverse=True)
        return first, inverse
    keys = np.sort((person.astype(np.int64) << bits) | np.arange(n, dtype=np.int64))
    order = keys & ((1 << bits) - 1)  # positions, by person and then position
    keys >>= bits  # persons, sorted
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    first = order[new]
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return first, inverse
