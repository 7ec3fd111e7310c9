"""Blocks of contiguous ids (regions, workplaces, households), each level an offsets array:
which block an id is in, a block's members, and a uniform draw within blocks."""

from __future__ import annotations

import numpy as np

from purgesim.population.kernels import fill_block_index, find_blocks

# Ids per entry of a coarse block index (a power of two): 1/16 byte per id, and a few offsets
# to look at per lookup for workplaces (median 100 ids) and households (4).
INDEX_SHIFT = 6


def block_index(offsets: np.ndarray) -> np.ndarray:
    """For every ``2**INDEX_SHIFT``-th id (and one past the last), the block holding it."""
    n = int(offsets[-1])
    marks = ((n - 1) >> INDEX_SHIFT) + 2 if n > 0 else 1
    index = np.empty(marks, dtype=np.int32 if len(offsets) < 2**31 else np.int64)
    fill_block_index(offsets, INDEX_SHIFT, index)
    return index


def find_block(offsets: np.ndarray, index: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.searchsorted(offsets, ids, side="right") - 1`` (the block of each id), using the
    coarse ``index`` of :func:`block_index` for integer ids."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind != "i":
        return np.searchsorted(offsets, ids, side="right") - 1
    return find_blocks(offsets, index, INDEX_SHIFT, ids.astype(np.int64, copy=False))


def uniform_in_blocks(offsets: np.ndarray, blocks: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """One uniformly chosen position in each of ``blocks`` (an offsets array's blocks)."""
    lo = offsets[blocks]
    return lo + (rng.random(len(blocks)) * (offsets[blocks + 1] - lo)).astype(np.int64)


def block_members(offsets: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """All ids of the given blocks (e.g. every member of a set of workplaces)."""
    if len(blocks) == 0:
        return np.empty(0, dtype=np.int64)
    lo = offsets[blocks]
    sizes = offsets[blocks + 1] - lo
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(int(sizes.sum()), dtype=np.int64)
