"""Common random numbers: one independent stream per (seed, mechanism, week, ...).

Each mechanism asks for its own generator keyed by its name and the week, so switching one
mechanism off, or changing how many numbers it draws, leaves every other mechanism's draws
unchanged (MODEL.md section 3b). Keys are hashed with CRC32, which is stable across processes
and Python versions (unlike ``hash()``).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A generator for ``name`` (a mechanism or build step) and integer ``keys`` (week, region)."""
    entropy = [int(seed), stream_key(name), *(int(k) for k in keys)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def sparse_bernoulli(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted ids in ``range(n)``, each included independently with probability ``p``.

    Geometric gaps between successes cost work in proportion to the successes, not to ``n``:
    at full scale a per-person draw would cost seconds for a one-in-ten-thousand attribute.
    """
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n, dtype=np.int64)
    chunks = []
    position = -1
    while True:
        expected = int((n - position) * p * 1.05) + 64
        ids = rng.geometric(p, size=expected)  # the gaps, turned into ids in place
        np.cumsum(ids, out=ids)
        ids += position
        chunks.append(ids[: np.searchsorted(ids, n)])  # ids increase
        if ids[-1] >= n:
            break
        position = int(ids[-1])
    ids = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return ids.astype(np.int64, copy=False)
