"""Sizes of the blocks the population is cut into (workplaces, households), drawn so that they
add up exactly to a region's agents, and the other integer splits of the build."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from purgesim.population.kernels import poisson_sizes

# Per-person random numbers are drawn this many at a time (the same numbers as one big draw).
CHUNK = 1 << 20


def split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer parts of ``total`` in proportion to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[: total - parts.sum()]] += 1
    return parts


def block_sizes(total: int, median: float, sigma: float, size_max: int,
                rng: np.random.Generator) -> np.ndarray:
    """Log-normal block sizes (at least 1) adding up exactly to ``total``."""
    mean = median * math.exp(sigma * sigma / 2)
    return sizes_adding_to(total, mean, lambda k: np.clip(
        np.rint(rng.lognormal(math.log(median), sigma, k)), 1, size_max))


def household_sizes(total: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    """1 + Poisson(mean - 1) sizes (uint8) adding up exactly to ``total``, drawn by inverting
    the distribution function: a uniform and a short search each, several times cheaper than
    numpy's Poisson sampler at 40 million households (the tail beyond 40 members, far below
    one in a billion, is cut).

    The same draws as :func:`sizes_adding_to` would make (batches of uniforms until the sizes
    cover ``total``, the last size trimmed), but the uniforms come a chunk at a time and those
    beyond ``total`` are drawn only to keep the stream in step, never turned into sizes."""
    k = np.arange(40)
    pmf = np.exp(-(mean - 1.0) + k * math.log(max(mean - 1.0, 1e-300)) - np.array(
        [math.lgamma(x + 1) for x in k]))
    cdf = np.cumsum(pmf) / pmf.sum()
    if total <= 0:
        return np.empty(0, dtype=np.uint8)
    pieces, have = [], 0
    u = np.empty(CHUNK, dtype=np.float32)
    while have < total:
        batch = int((total - have) / max(mean, 1.0) * 1.2) + 8
        for start in range(0, batch, CHUNK):
            chunk = rng.random(min(CHUNK, batch - start), dtype=np.float32,
                               out=u[: batch - start])
            if have < total:
                sizes, have = poisson_sizes(cdf, chunk, total, have)
                pieces.append(sizes)
    return np.concatenate(pieces)


def sizes_adding_to(total: int, mean: float, draw: Callable[[int], np.ndarray]) -> np.ndarray:
    """Draw block sizes in batches until they cover ``total``; trim the last to fit exactly."""
    if total <= 0:
        return np.empty(0, dtype=np.int64)
    chunks, have = [], 0
    while have < total:
        sizes = draw(int((total - have) / max(mean, 1.0) * 1.2) + 8).astype(np.int64)
        chunks.append(sizes)
        have += int(sizes.sum())
    sizes = np.concatenate(chunks)
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, total))
    sizes = sizes[: last + 1]
    sizes[-1] -= int(cum[last] - total)
    return sizes[sizes > 0]


def coprime_multiplier(n: int, rng: np.random.Generator) -> int:
    """An odd multiplier ``a`` coprime with ``n`` from the middle third of ``range(n)``, so that
    ``i -> (a * i + b) mod n`` is a permutation that sends neighbouring ids (coworkers) apart."""
    if n <= 2:
        return 1
    a = int(rng.integers(n // 3, max(n // 3 + 1, 2 * n // 3))) | 1
    while math.gcd(a, n) != 1:
        a += 2
    return a % n or 1
