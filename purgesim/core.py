"""Reference core model of the 1937-38 NKVD mass operations (MODEL.md section 6).

This is the small, fast, fixed-rule model that every richer mechanism is compared against and
that is benchmarked against a plain Mesa implementation.

Model (MODEL.md section 6)
--------------------------
* ``N`` agents sit in ``W = ceil(N / s)`` workplaces of size ``s = 100`` (agent ``i`` is in
  workplace ``i // s``; if ``N`` is not a multiple of ``s`` the last workplace is smaller).
  Workplace ``w`` lies in region ``min(w // max(W // R, 1), R - 1)`` of ``R = 10`` regions.
* Each agent is independently *tainted* with probability 0.05 and *guilty* with probability
  0.0001.  A region's tainted agents form its card file, shuffled once at the start and then
  consumed in that order.
* Each region has a FIFO suspect queue (a person may be queued more than once; the queue length
  counts entries) and a fixed weekly arrest limit ``floor(q * n_r / 1000)`` with ``q = 0.5``
  and ``n_r`` the number of agents in the region.
* Every week, regions are processed in index order.  In a region, queued suspects are arrested
  from the head of the queue up to the limit; an entry whose person is no longer free is
  dropped (without using up the limit).  The rest of the limit is filled from the card file in
  order, skipping anyone no longer free.  Only after all the week's arrests in the region are
  made is anyone interrogated, in order of arrest:

  - tortured with probability 0.7;
  - a tortured agent confesses with probability 0.9, an untortured one with probability 0.5
    if guilty and 0.1 if innocent;
  - a confessor names ``K ~ Poisson(3)`` coworkers, a uniform sample without replacement of
    the *free* coworkers (all of them if fewer than ``K``), who join the back of the region's
    queue; confessors are convicted, category 1 with probability 0.5, else category 2;
  - a non-confessor is convicted (category 2) with probability 0.3, else released.

  "Free" means never arrested, so released agents are never named, queued or arrested again.
* Recorded each week: ``arrests``, ``from_queue``, ``cat1``, ``cat2``, ``innocent_convicted``
  (convicted and not guilty), ``released`` and ``queue_length`` (entries left in all regions'
  queues at the end of the week).  The default run is ``T = 70`` weeks.

Resolutions of points the specification leaves open
---------------------------------------------------
* Stale queue entries (people no longer free) are dropped lazily, when they reach the head of
  the queue during the arrest step -- exactly what ``deque.popleft()`` in a plain
  implementation does.  Entries behind the point where the week's limit is reached stay in the
  queue and are counted in ``queue_length`` even if their person has been arrested meanwhile.
* A person queued twice and arrested from the first entry has the second entry dropped later.
* Coworkers arrested earlier in the same week (even in the same region, since all arrests
  precede interrogation) are not free and cannot be named; queued-but-unarrested people are
  free and may be named again.
* If ``W < R`` the formula is applied with ``W // R`` replaced by 1, so workplace ``w`` is in
  region ``w`` and regions ``W..R-1`` are empty (limit 0).  The number of regions reported is
  always ``R``; empty regions simply never arrest anyone.
* The limit is computed in floating point as ``math.floor(q * n_r / 1000)``, as a plain Python
  implementation would.

Implementation
--------------
The population is built with vectorised numpy from ``np.random.default_rng(seed)``: taint
draws, guilt draws, then one in-place shuffle of each region's slice of a single ``int32``
card-file array (agents of a region are contiguous, so ``np.flatnonzero`` already groups the
card file by region).  A 32-bit seed drawn from the same Generator then seeds numba's internal
generator inside the ``numba.njit(cache=True)`` weekly kernel, so results depend on ``seed``
only.  The kernel keeps a ``uint8`` status per agent and the regions' queues as segments of one
``int32`` buffer which is compacted or grown (doubling the full segment) as needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["WEEKLY_KEYS", "TOTAL_KEYS", "CoreParams", "CoreResult", "run_core"]

#: Keys of :attr:`CoreResult.weekly`, in the order of the kernel's output rows.
WEEKLY_KEYS: tuple[str, ...] = (
    "arrests",
    "from_queue",
    "cat1",
    "cat2",
    "innocent_convicted",
    "released",
    "queue_length",
)
#: Keys of :meth:`CoreResult.totals`.
TOTAL_KEYS: tuple[str, ...] = (
    "arrests",
    "from_queue",
    "cat1",
    "cat2",
    "innocent_convicted",
    "released",
)

_MAX_AGENTS = 2**31 - 1  # agent ids are stored as int32

# Agent status codes used by the kernel.
_FREE = 0
_CONVICTED = 1
_RELEASED = 2


@dataclass(frozen=True)
class CoreParams:
    """Parameters of the core model; the defaults are those of MODEL.md section 6."""

    workplace_size: int = 100
    regions: int = 10
    p_taint: float = 0.05
    p_guilty: float = 1e-4
    q: float = 0.5
    p_torture: float = 0.7
    p_confess_tortured: float = 0.9
    p_confess_guilty: float = 0.5
    p_confess_innocent: float = 0.1
    names_mean: float = 3.0
    p_cat1_confessor: float = 0.5
    p_convict_nonconfessor: float = 0.3

    def __post_init__(self) -> None:
        if isinstance(self.workplace_size, bool) or int(self.workplace_size) != self.workplace_size:
            raise ValueError(f"workplace_size must be an integer, got {self.workplace_size!r}")
        if self.workplace_size < 1:
            raise ValueError(f"workplace_size must be >= 1, got {self.workplace_size}")
        if isinstance(self.regions, bool) or int(self.regions) != self.regions:
            raise ValueError(f"regions must be an integer, got {self.regions!r}")
        if self.regions < 1:
            raise ValueError(f"regions must be >= 1, got {self.regions}")
        for name in (
            "p_taint",
            "p_guilty",
            "p_torture",
            "p_confess_tortured",
            "p_confess_guilty",
            "p_confess_innocent",
            "p_cat1_confessor",
            "p_convict_nonconfessor",
        ):
            value = getattr(self, name)
            if not (0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
        if not (math.isfinite(self.q) and self.q >= 0.0):
            raise ValueError(f"q must be finite and >= 0, got {self.q!r}")
        if not (math.isfinite(self.names_mean) and self.names_mean >= 0.0):
            raise ValueError(f"names_mean must be finite and >= 0, got {self.names_mean!r}")


@dataclass
class CoreResult:
    """Weekly series and totals of one run of the core model."""

    n: int
    weeks: int
    seed: int
    weekly: dict[str, np.ndarray]

    def totals(self) -> dict[str, int]:
        """Run totals of ``arrests, from_queue, cat1, cat2, innocent_convicted, released``."""
        return {key: int(self.weekly[key].sum()) for key in TOTAL_KEYS}


def region_bounds(n: int, params: CoreParams) -> np.ndarray:
    """First agent id of each region plus ``n`` at the end (length ``regions + 1``).

    Agents of one region are contiguous: region ``r`` holds agents
    ``bounds[r] <= i < bounds[r + 1]``.  Empty regions (possible when ``W < R``) have equal
    bounds.
    """
    s = int(params.workplace_size)
    n_regions = int(params.regions)
    n_workplaces = -(-n // s)
    per_region = max(n_workplaces // n_regions, 1)
    first_workplace = np.minimum(
        np.arange(n_regions + 1, dtype=np.int64) * per_region, n_workplaces
    )
    first_workplace[n_regions] = n_workplaces
    return np.minimum(first_workplace * s, n)


def region_limits(n: int, params: CoreParams) -> np.ndarray:
    """Weekly arrest limit ``floor(q * n_r / 1000)`` of each region (int64 array)."""
    sizes = np.diff(region_bounds(n, params))
    return np.array([math.floor(params.q * int(n_r) / 1000) for n_r in sizes], dtype=np.int64)


@numba.njit(cache=True)
def _make_room(
    qbuf: np.ndarray,
    qstart: np.ndarray,
    qhead: np.ndarray,
    qtail: np.ndarray,
    qcap: np.ndarray,
    r: int,
) -> np.ndarray:
    """Make room for at least one more entry at the tail of region ``r``'s queue segment."""
    start = qstart[r]
    head = qhead[r]
    live = qtail[r] - head
    if head - start >= qcap[r] // 2 and head > start:
        # At least half the segment is dead entries: compact it in place (dest < src).
        for k in range(live):
            qbuf[start + k] = qbuf[head + k]
        qhead[r] = start
        qtail[r] = start + live
        return qbuf
    # Otherwise double this region's segment and re-lay out every segment in a new buffer.
    qcap[r] = 2 * qcap[r]
    total = 0
    for j in range(qcap.shape[0]):
        total += qcap[j]
    new = np.empty(total, dtype=np.int32)
    pos = 0
    for j in range(qcap.shape[0]):
        n_live = qtail[j] - qhead[j]
        for k in range(n_live):
            new[pos + k] = qbuf[qhead[j] + k]
        qstart[j] = pos
        qhead[j] = pos
        qtail[j] = pos + n_live
        pos += qcap[j]
    return new


@numba.njit(cache=True)
def _simulate(
    n: int,
    workplace_size: int,
    weeks: int,
    limits: np.ndarray,
    card: np.ndarray,
    card_off: np.ndarray,
    guilty: np.ndarray,
    p_torture: float,
    p_confess_tortured: float,
    p_confess_guilty: float,
    p_confess_innocent: float,
    names_mean: float,
    p_cat1_confessor: float,
    p_convict_nonconfessor: float,
    rng_seed: int,
) -> np.ndarray:
    """Run the weekly loop; returns an int64 array of shape (7, weeks) in WEEKLY_KEYS order.

    Randomness comes from numba's internal generator (Mersenne Twister, reached through the
    legacy ``np.random`` functions inside njit code), seeded here from ``rng_seed``; hence the
    ``noqa: NPY002`` markers.
    """
    np.random.seed(rng_seed)  # noqa: NPY002
    n_regions = limits.shape[0]
    out = np.zeros((7, weeks), dtype=np.int64)
    status = np.zeros(n, dtype=np.uint8)

    # Queues: region r's live entries are qbuf[qhead[r]:qtail[r]] inside its segment
    # qbuf[qstart[r]:qstart[r] + qcap[r]].
    qcap = np.empty(n_regions, dtype=np.int64)
    qstart = np.empty(n_regions, dtype=np.int64)
    total_cap = 0
    max_limit = 0
    for r in range(n_regions):
        qcap[r] = max(16, 4 * limits[r])
        qstart[r] = total_cap
        total_cap += qcap[r]
        max_limit = max(max_limit, limits[r])
    qhead = qstart.copy()
    qtail = qstart.copy()
    qbuf = np.empty(total_cap, dtype=np.int32)

    card_ptr = card_off[:n_regions].copy()
    arrested = np.empty(max_limit, dtype=np.int32)
    free_buf = np.empty(workplace_size, dtype=np.int32)

    for t in range(weeks):
        for r in range(n_regions):
            limit = limits[r]
            n_arr = 0
            # 1. Arrest from the head of the queue; stale entries are dropped.
            head = qhead[r]
            tail = qtail[r]
            while n_arr < limit and head < tail:
                a = qbuf[head]
                head += 1
                if status[a] == _FREE:
                    status[a] = _CONVICTED  # provisional: anything but free
                    arrested[n_arr] = a
                    n_arr += 1
            qhead[r] = head
            n_from_queue = n_arr
            # 2. Fill the rest of the limit from the card file, skipping the non-free.
            ptr = card_ptr[r]
            end = card_off[r + 1]
            while n_arr < limit and ptr < end:
                a = card[ptr]
                ptr += 1
                if status[a] == _FREE:
                    status[a] = _CONVICTED
                    arrested[n_arr] = a
                    n_arr += 1
            card_ptr[r] = ptr

            # 3. Interrogate and sentence, in order of arrest.
            cat1 = 0
            cat2 = 0
            innocent = 0
            released = 0
            for k in range(n_arr):
                a = arrested[k]
                if np.random.random() < p_torture:  # noqa: NPY002
                    p_conf = p_confess_tortured
                elif guilty[a]:
                    p_conf = p_confess_guilty
                else:
                    p_conf = p_confess_innocent
                if np.random.random() < p_conf:  # noqa: NPY002
                    n_names = 0
                    if names_mean > 0.0:
                        n_names = np.random.poisson(names_mean)  # noqa: NPY002
                    if n_names > 0:
                        lo = (a // workplace_size) * workplace_size
                        hi = min(lo + workplace_size, n)
                        m = 0
                        for j in range(lo, hi):
                            if status[j] == _FREE:
                                free_buf[m] = j
                                m += 1
                        n_take = min(n_names, m)
                        for u in range(n_take):
                            v = u + np.random.randint(0, m - u)  # noqa: NPY002
                            named = free_buf[v]
                            free_buf[v] = free_buf[u]
                            free_buf[u] = named
                            if qtail[r] == qstart[r] + qcap[r]:
                                qbuf = _make_room(qbuf, qstart, qhead, qtail, qcap, r)
                            qbuf[qtail[r]] = named
                            qtail[r] += 1
                    if np.random.random() < p_cat1_confessor:  # noqa: NPY002
                        cat1 += 1
                    else:
                        cat2 += 1
                    if not guilty[a]:
                        innocent += 1
                elif np.random.random() < p_convict_nonconfessor:  # noqa: NPY002
                    cat2 += 1
                    if not guilty[a]:
                        innocent += 1
                else:
                    status[a] = _RELEASED
                    released += 1

            out[0, t] += n_arr
            out[1, t] += n_from_queue
            out[2, t] += cat1
            out[3, t] += cat2
            out[4, t] += innocent
            out[5, t] += released
        queued = 0
        for r in range(n_regions):
            queued += qtail[r] - qhead[r]
        out[6, t] = queued
    return out


def run_core(
    n: int, weeks: int = 70, seed: int = 0, params: CoreParams | None = None
) -> CoreResult:
    """Build a population of ``n`` agents and run the core model for ``weeks`` weeks.

    The same ``(n, weeks, seed, params)`` always gives identical results.

    Raises:
        ValueError: if ``n < 1``, ``n >= 2**31``, ``weeks < 0`` or ``seed < 0``.
    """
    if params is None:
        params = CoreParams()
    for name, value in (("n", n), ("weeks", weeks), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    n, weeks, seed = int(n), int(weeks), int(seed)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if n > _MAX_AGENTS:
        raise ValueError(f"n must be < 2**31, got {n}")
    if weeks < 0:
        raise ValueError(f"weeks must be >= 0, got {weeks}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")

    rng = np.random.default_rng(seed)
    bounds = region_bounds(n, params)
    limits = region_limits(n, params)

    # Population: taint, then guilt, each an independent Bernoulli draw per agent.
    card = np.flatnonzero(rng.random(n) < params.p_taint).astype(np.int32)
    guilty = rng.random(n) < params.p_guilty
    # Card file: tainted ids are sorted and regions are contiguous id ranges, so each region's
    # card file is one slice; shuffle each slice once.
    card_off = np.searchsorted(card, bounds).astype(np.int64)
    for r in range(int(params.regions)):
        rng.shuffle(card[card_off[r] : card_off[r + 1]])
    kernel_seed = int(rng.integers(0, 2**32))

    out = _simulate(
        n,
        int(params.workplace_size),
        weeks,
        limits,
        card,
        card_off,
        guilty,
        float(params.p_torture),
        float(params.p_confess_tortured),
        float(params.p_confess_guilty),
        float(params.p_confess_innocent),
        float(params.names_mean),
        float(params.p_cat1_confessor),
        float(params.p_convict_nonconfessor),
        kernel_seed,
    )
    weekly = {key: out[i].copy() for i, key in enumerate(WEEKLY_KEYS)}
    return CoreResult(n=n, weeks=weeks, seed=seed, weekly=weekly)
