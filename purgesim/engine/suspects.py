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
        people, first, inverse = np.unique(q["person"][valid], return_index=True,
                                           return_inverse=True)
        evidence = np.bincount(inverse, weights=q["evidence"][valid], minlength=len(people))
        chosen = first[evidence >= threshold - 1e-9]
        chosen.sort()
        taken = valid[chosen[:k]]
        out = {f: q[f][taken] for f in FIELDS}
        keep = valid[~np.isin(q["person"][valid], out["person"])]
        self._chunks[r] = [{f: q[f][keep] for f in FIELDS}]
        return out

    def length(self, r: int) -> int:
        return sum(len(c["person"]) for c in self._chunks[r])

    def lengths(self) -> np.ndarray:
        return np.array([self.length(r) for r in range(len(self._chunks))], dtype=np.int64)

    def waiting(self, r: int, operation: int) -> int:
        return int(sum(np.count_nonzero(c["operation"] == operation) for c in self._chunks[r]))
