"""The event table: one row per arrest, stored as growable columns.

Rows are appended when a mechanism arrests someone; later mechanisms fill in the rest of the
row (torture, confession, sentence, death, release) by row index. Missing values are coded -1
in the arrays and become nulls when exported.
"""

from __future__ import annotations

import numpy as np

COLUMNS: dict[str, np.dtype] = {
    "person": np.dtype(np.int64),
    "week": np.dtype(np.int16),
    "region": np.dtype(np.int8),
    "occupation": np.dtype(np.uint8),
    "taint": np.dtype(np.uint8),
    "operation": np.dtype(np.int8),
    "source": np.dtype(np.int8),
    "parent": np.dtype(np.int64),
    "generation": np.dtype(np.int16),
    "tortured": np.dtype(np.bool_),
    "confessed": np.dtype(np.bool_),
    "named": np.dtype(np.int16),
    "sentence": np.dtype(np.int8),
    "sentence_week": np.dtype(np.int16),
    "due_week": np.dtype(np.int16),
    "guilty": np.dtype(np.bool_),
    "died_week": np.dtype(np.int16),
    "released_week": np.dtype(np.int16),
    "weight": np.dtype(np.int32),
}
MISSING_AS_MINUS_ONE = ("parent", "sentence", "sentence_week", "died_week", "released_week")


class EventTable:
    """Columns of equal length ``len(self)``, grown by doubling."""

    def __init__(self, capacity: int = 1024):
        self._n = 0
        self._cols = {name: np.empty(capacity, dtype=dt) for name, dt in COLUMNS.items()}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name][: self._n]

    def append(self, **values: np.ndarray) -> np.ndarray:
        """Append rows; columns not given are -1 (or 0 / False). Returns the new row indices."""
        k = len(values["person"])
        need = self._n + k
        capacity = len(self._cols["person"])
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
            elif name in MISSING_AS_MINUS_ONE:
                col[self._n: need] = -1
            else:
                col[self._n: need] = 0
        self._n = need
        return rows

    def set(self, name: str, rows: np.ndarray, values: np.ndarray | int | bool) -> None:
        self._cols[name][rows] = values

    def columns(self) -> dict[str, np.ndarray]:
        return {name: self[name] for name in self._cols}
