"""The population's compiled kernels: single passes over the population.

They replace chains of whole-population numpy temporaries in the build and the lookups. Each
reproduces the numpy expression it replaced exactly (same draws, same float32/float64
comparisons, ids in increasing order), so the population does not depend on which is used.

Every kernel here is standalone (none calls another), so all of them can use the lazy
:func:`purgesim.engine.kernels.njit`: importing the population never loads numba, and the first
call compiles the kernel or reads it from numba's cache.
"""

from __future__ import annotations

import numpy as np

from purgesim.engine.kernels import njit


@njit(cache=True, nogil=True)
def fill_block_index(offsets: np.ndarray, shift: int, index: np.ndarray) -> None:
    """``index[b] = np.searchsorted(offsets, b << shift, side="right") - 1``, walking the
    offsets once (a binary search per mark would miss the cache at every step)."""
    w = -1  # the last offset at or before the mark
    for b in range(index.shape[0]):
        mark = b << shift
        while w + 1 < offsets.shape[0] and offsets[w + 1] <= mark:
            w += 1
        index[b] = w


@njit(cache=True, nogil=True)
def find_blocks(offsets: np.ndarray, index: np.ndarray, shift: int,
                ids: np.ndarray) -> np.ndarray:
    """``np.searchsorted(offsets, ids, side="right") - 1``: the block of each id (-1 before
    the first, the number of blocks from the end on); ``index[b]`` is the block holding id
    ``b << shift``, so the answer lies between ``index[b]`` and ``index[b + 1]``."""
    out = np.empty(ids.shape[0], dtype=np.int64)
    last = offsets.shape[0] - 1
    end = offsets[last]
    for j in range(ids.shape[0]):
        x = ids[j]
        if x < 0:
            out[j] = -1
        elif x >= end:
            out[j] = last
        else:
            b = x >> shift
            lo = np.int64(index[b])
            hi = np.int64(index[b + 1])
            while lo < hi:  # the last block starting at or before x
                mid = (lo + hi + 1) >> 1
                if offsets[mid] <= x:
                    lo = mid
                else:
                    hi = mid - 1
            out[j] = lo
    return out


@njit(cache=True, nogil=True)
def ids_where(occupation: np.ndarray, wanted: np.ndarray, flags: np.ndarray,
              mask: int) -> np.ndarray:
    """Sorted ids with ``wanted[occupation]`` or ``flags & mask``."""
    count = 0
    for i in range(occupation.shape[0]):
        if wanted[occupation[i]] or (mask != 0 and flags[i] & mask):
            count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(occupation.shape[0]):
        if wanted[occupation[i]] or (mask != 0 and flags[i] & mask):
            out[k] = i
            k += 1
    return out


@njit(cache=True, nogil=True)
def assign_occupations(occupation: np.ndarray, start: int, u: np.ndarray, w: int,
                       workplace_offsets: np.ndarray, workplace_kind: np.ndarray,
                       head: np.ndarray, staff: np.ndarray, rank: np.ndarray,
                       staff_share: np.ndarray, keep_below: np.ndarray, other: int) -> None:
    """Occupations of ids ``start, start + 1, ...`` (from workplace ``w`` on) from their
    uniforms ``u``: the head of a workplace; else a dependent (``u >= keep_below``); else staff
    (``u < staff_share``); else rank and file, each by the kind of workplace."""
    end = start + u.shape[0]
    i = start
    while i < end:
        hi = min(workplace_offsets[w + 1], end)
        k = workplace_kind[w]
        is_staff, is_rank, below, share = staff[k], rank[k], keep_below[k], staff_share[k]
        for j in range(i - start, hi - start):
            x = u[j]
            o = is_staff if x < share else is_rank
            occupation[start + j] = other if x >= below else o
        if i == workplace_offsets[w]:
            occupation[i] = head[k]
        i = hi
        w += 1


@njit(cache=True, nogil=True)
def flag_adults(target: np.ndarray, bit: int, ids: np.ndarray, w: int, allowed: np.ndarray,
                occupation: np.ndarray, workplace_offsets: np.ndarray,
                workplace_kind: np.ndarray, other: int, kolkhoz: int) -> None:
    """``target[i] |= bit`` for the ``ids`` who are adults (in work, or outside a kolkhoz)
    with an ``allowed`` occupation. Walks the workplaces along the ids, which come sorted,
    from ``w``, the workplace of the first."""
    for j in range(ids.shape[0]):
        i = ids[j]
        if j > 0 and i < ids[j - 1]:  # (never, but in case: start the walk again)
            w = 0
        while workplace_offsets[w + 1] <= i:
            w += 1
        o = occupation[i]
        if allowed[o] and (workplace_kind[w] != kolkhoz or o != other):
            target[i] |= bit


@njit(cache=True, nogil=True)
def finish_taint(taint: np.ndarray, nation: np.ndarray, occupation: np.ndarray,
                 workplace_offsets: np.ndarray, workplace_kind: np.ndarray, diaspora_bit: int,
                 clergy: int, believer_bit: int, other: int, kolkhoz: int) -> int:
    """Add the diaspora bit to nationals and the believer bit to clergy; return how many
    adults are tainted."""
    count = 0
    for w in range(workplace_kind.shape[0]):
        outside = workplace_kind[w] != kolkhoz
        for i in range(workplace_offsets[w], workplace_offsets[w + 1]):
            t = taint[i]
            if nation[i] > 0:
                t |= diaspora_bit
            if occupation[i] == clergy:
                t |= believer_bit
            taint[i] = t
            if t != 0 and (outside or occupation[i] != other):
                count += 1
    return count


@njit(cache=True, nogil=True)
def register_card_file(out: np.ndarray, m: int, taint: np.ndarray, occupation: np.ndarray,
                       workplace_offsets: np.ndarray, workplace_kind: np.ndarray, other: int,
                       kolkhoz: int, start: int, w: int, u: np.ndarray, bits: np.ndarray,
                       keep: np.ndarray) -> tuple[int, int]:
    """The next ``len(u)`` tainted adults from id ``start`` (in workplace ``w``) on, one
    uniform each: registered when ``u >= miss``, the product of ``keep`` over their bits
    (multiplied in the order of ``bits``), and written to ``out`` from ``m`` on. Returns the
    new end of ``out`` and the id to go on from."""
    j = 0
    i = start
    while j < u.shape[0] and w < workplace_kind.shape[0]:
        hi = workplace_offsets[w + 1]
        outside = workplace_kind[w] != kolkhoz
        while i < hi and j < u.shape[0]:
            t = taint[i]
            if t != 0 and (outside or occupation[i] != other):
                miss = 1.0
                for b in range(bits.shape[0]):
                    if t & bits[b]:
                        miss *= keep[b]
                if u[j] >= miss:
                    out[m] = i
                    m += 1
                j += 1
            i += 1
        if i >= hi:
            w += 1
    return m, i


@njit(cache=True, nogil=True)
def ids_by_slot(occupation: np.ndarray, slot: np.ndarray, n_slots: int, flags: np.ndarray,
                skip: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids grouped by ``slot[occupation]`` (``-1``: left out), increasing within each group,
    leaving out people with any of the ``skip`` flags; returns the ids and the groups'
    offsets."""
    offsets = np.zeros(n_slots + 1, dtype=np.int64)
    for i in range(occupation.shape[0]):
        s = slot[occupation[i]]
        if s >= 0 and not flags[i] & skip:
            offsets[s + 1] += 1
    for s in range(n_slots):
        offsets[s + 1] += offsets[s]
    fill = offsets[:-1].copy()
    ids = np.empty(offsets[-1], dtype=np.int64)
    for i in range(occupation.shape[0]):
        s = slot[occupation[i]]
        if s >= 0 and not flags[i] & skip:
            ids[fill[s]] = i
            fill[s] += 1
    return ids, offsets


@njit(cache=True, nogil=True)
def count_party_and_rank(flags: np.ndarray, occupation: np.ndarray, party: int,
                         is_rank: np.ndarray) -> tuple[int, int]:
    """Party members, and the rank and file (``is_rank[occupation]``)."""
    members = 0
    rank = 0
    for i in range(flags.shape[0]):
        if flags[i] & party:
            members += 1
        if is_rank[occupation[i]]:
            rank += 1
    return members, rank


@njit(cache=True, nogil=True)
def join_rank_and_file(flags: np.ndarray, occupation: np.ndarray, chosen: np.ndarray,
                       party: int, is_rank: np.ndarray) -> None:
    """The rank and file (``is_rank[occupation]``) at the sorted, distinct ranks ``chosen``
    among them join the party."""
    k = 0
    rank = 0
    for i in range(flags.shape[0]):
        if k == chosen.shape[0]:
            break
        if is_rank[occupation[i]]:
            if rank == chosen[k]:
                flags[i] |= party
                k += 1
            rank += 1


@njit(cache=True, nogil=True)
def poisson_sizes(cdf: np.ndarray, u: np.ndarray, total: int,
                  have: int) -> tuple[np.ndarray, int]:
    """Sizes ``1 + np.searchsorted(cdf, u)`` (a scan from the left, as most are small; at most
    ``len(cdf) + 1``) while they add up to less than ``total``, the one reaching it trimmed;
    returns them and their running sum (from ``have``)."""
    out = np.empty(u.shape[0], dtype=np.uint8)
    m = cdf.shape[0]
    for j in range(u.shape[0]):
        x = np.float64(u[j])
        s = 0
        while s < m and cdf[s] < x:
            s += 1
        size = 1 + s
        if have + size >= total:
            out[j] = total - have
            return out[: j + 1].copy(), total
        out[j] = size
        have += size
    return out, have
