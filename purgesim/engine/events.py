"""An event table: one row per event, stored as growable columns of a schema the model gives.

Rows are appended when an event happens; later steps fill in the rest of a row by row index.
Columns listed as ``missing_as_minus_one`` start at -1 ("has not happened"); the others at zero.
"""

from __future__ import annotations

import numpy as np


class EventTable:
    """Columns of equal length ``len(self)``, grown by doubling."""

    def __init__(self, columns: dict[str, np.dtype], missing_as_minus_one: tuple[str, ...] = (),
                 capacity: int = 1024):
        self._n = 0
        self._cols = {name: np.empty(capacity, dtype=dt) for name, dt in columns.items()}
        self._minus_one = frozenset(missing_as_minus_one)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name][: self._n]

    def append(self, **values: np.ndarray) -> np.ndarray:
        """Append rows; columns not given are -1 (or 0 / False). Returns the new row indices."""
        k = len(next(iter(values.values())))
        need = self._n + k
        capacity = len(next(iter(self._cols.values())))
        if need > capacity:
            capacity = max(need, 2 * capacity)
            for name, col in self._cols.items():
                grown = np.empty(capacity, dtype=col.dtype)
                grown[: self._n] = col[: self._n]
                self._cols[name] = grown
        rows = np.arange(self._n, need)
        for name, col in self._cols.items():
            if name in values:
                col[self._n: need] = values[name]
            elif name in self._minus_one:
                col[self._n: need] = -1
            else:
                col[self._n: need] = 0
        self._n = need
        return rows

    def set(self, name: str, rows: np.ndarray, values: np.ndarray | int | bool) -> None:
        self._cols[name][rows] = values

    def columns(self) -> dict[str, np.ndarray]:
        return {name: self[name] for name in self._cols}
