"""Common random numbers: one independent stream per (seed, mechanism, week, ...).

Each mechanism asks for its own generator keyed by its name and the week, so switching one
mechanism off, or changing how many numbers it draws, leaves every other mechanism's draws
unchanged (MODEL.md section 3b). Keys are hashed with CRC32, which is stable across processes
and Python versions (unlike ``hash()``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

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


def sparse_bernoulli_chunks(n: int, p: float, rng: np.random.Generator,
                            chunk: int = 1 << 20) -> Iterator[np.ndarray]:
    """The ids of :func:`sparse_bernoulli` (same draws, same order), a chunk at a time.

    For callers that use each id once (to set a bit, say): no array of all the ids, and the
    gaps come in small batches whose memory is reused instead of faulted in afresh. Gaps drawn
    beyond ``n`` are drawn all the same, so the generator ends in the same state.
    """
    if n <= 0 or p <= 0.0:
        return
    if p >= 1.0:
        yield np.arange(n, dtype=np.int64)
        return
    position = -1
    while True:
        expected = int((n - position) * p * 1.05) + 64
        last = position
        for start in range(0, expected, chunk):
            ids = rng.geometric(p, size=min(chunk, expected - start))
            if last >= n:
                continue  # past the end: drawn only to keep the stream in step
            np.cumsum(ids, out=ids)
            ids += last
            yield ids[: np.searchsorted(ids, n)]
            last = int(ids[-1])
        if last >= n:
            return
        position = last
