"""Memory honesty: refuse up front a run that would not fit, instead of being killed halfway.

>>> from purgesim.memory import agents_for_scale, check_fits
>>> check_fits(agents_for_scale(1))          # raises WontFit if 1:1 would not fit here

The estimate is a straight line above measured peaks: the whole-process peak resident set size
of ``purgesim run --scale S --json`` (GNU ``/usr/bin/time``), great-terror, all mechanisms, 169
weeks, on the 2-core development machine on 2026-11-27, after the single-pass population build.
The peak is set by the population build, which every scenario shares (on 2026-11-26 every
shipped scenario peaked within 1 MiB of great-terror at 1:10):

==========  ============  ==========  ==========
scale       agents        measured    estimate
==========  ============  ==========  ==========
1:1000      165,200       255 MiB     274 MiB
1:100       1,634,304     270 MiB     291 MiB
1:30        5,443,094     313 MiB     334 MiB
1:10        16,325,353    430 MiB     459 MiB
1:3         54,413,258    827 MiB     895 MiB
1:1         163,235,839   1.93 GiB    2.09 GiB
==========  ============  ==========  ==========

i.e. about :data:`BYTES_PER_AGENT` bytes per agent (the population's 7 bytes per person, the
one-byte status, and the transient arrays of the population build) on top of
:data:`FIXED_BYTES` for the interpreter, numpy, numba, the other imports and the compiled
kernels.  Both constants are rounded up, so the estimate errs on the side of refusing; re-fit
them when the population layout or the build changes (``tests/test_memory.py`` holds the
measured peaks).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = [
    "BYTES_PER_AGENT",
    "FIXED_BYTES",
    "WontFit",
    "agents_for_scale",
    "available_bytes",
    "check_fits",
    "estimate_bytes",
    "smallest_fitting_scale",
]

GIB = 1024**3
MIB = 1024**2

#: Peak resident bytes per agent of a full run (fitted slope, rounded up).
BYTES_PER_AGENT = 12
#: Peak resident bytes of a run with (almost) no agents: interpreter and imports (rounded up).
FIXED_BYTES = 272 * MIB

# A cgroup "limit" at or above this is no limit (cgroup v1 reports 2**63 rounded to pages).
_NO_LIMIT = 2**60


class WontFit(MemoryError):
    """A run that would need more memory than is available."""

    def __init__(self, message: str, *, n_agents: int, needed: int, available: int,
                 smallest_scale: int | None) -> None:
        super().__init__(message)
        self.n_agents = n_agents
        self.needed = needed
        self.available = available
        self.smallest_scale = smallest_scale


def estimate_bytes(n_agents: int) -> int:
    """Estimated whole-process peak resident bytes of a full run with ``n_agents`` agents."""
    if n_agents < 0:
        raise ValueError(f"n_agents must be >= 0, got {n_agents}")
    return FIXED_BYTES + BYTES_PER_AGENT * int(n_agents)


def agents_for_scale(scale: int) -> int:
    """Approximately how many agents the 1937 population has at ``1:scale``.

    Mirrors ``purgesim.population.build_population``: the Congress delegates (the Central
    Committee in the RSFSR, the others spread over the republics by population) are one agent
    each at every scale, and each region has ``max(round((real - delegates) / scale), 1)``
    ordinary agents.  The delegates' split is not rounded exactly as there, so the count can
    be a few agents off ``build_population(...).n`` (about ``163,235,839 / scale + 1,966``).
    """
    if isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
    from purgesim import datasets

    n_delegates = int(datasets.figure("congress17_delegates"))
    n_cc = int(datasets.figure("cc17_members") + datasets.figure("cc17_candidates"))
    regions = datasets.regions()
    republic_people = sum(r.population for r in regions if r.name != "Gulag")
    total = n_delegates
    for r in regions:
        delegates = 0.0
        if r.name != "Gulag":
            delegates = (n_delegates - n_cc) * r.population / republic_people
        if r.name == "RSFSR":
            delegates += n_cc
        total += max(round((r.population - delegates) / scale), 1)
    return total


def smallest_fitting_scale(budget: int) -> int | None:
    """The smallest scale (most agents) whose estimated peak is at most ``budget`` bytes, or
    None if not even the smallest population fits."""
    lo, hi = 1, 10**9
    if estimate_bytes(agents_for_scale(hi)) > budget:
        return None
    if estimate_bytes(agents_for_scale(lo)) <= budget:
        return lo
    while hi - lo > 1:  # invariant: lo does not fit, hi fits
        mid = (lo + hi) // 2
        if estimate_bytes(agents_for_scale(mid)) <= budget:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------------- available memory
def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _stat_value(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _own_cgroup_paths(proc_cgroup: Path) -> tuple[str | None, str | None]:
    """This process's cgroup v2 path and cgroup v1 memory-controller path."""
    v2 = v1 = None
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None, None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return v2, v1


def cgroup_available(root: Path = Path("/sys/fs/cgroup"),
                     proc_cgroup: Path = Path("/proc/self/cgroup")) -> int | None:
    """Bytes left under this process's cgroup memory limit (limit minus usage, not counting
    reclaimable inactive file cache), or None if there is no limit.

    Reads cgroup v2 (``memory.max``, ``memory.current``) and v1 (``memory.limit_in_bytes``,
    ``memory.usage_in_bytes``), at the mount root (what a container sees) and at this
    process's own cgroup path; the tightest limit wins.
    """
    v2_path, v1_path = _own_cgroup_paths(proc_cgroup)
    candidates: list[tuple[Path, str, str, str]] = []
    for path in {"", (v2_path or "").strip("/")}:
        candidates.append((root / path, "memory.max", "memory.current", "inactive_file"))
    for path in {"", (v1_path or "").strip("/")}:
        candidates.append((root / "memory" / path, "memory.limit_in_bytes",
                           "memory.usage_in_bytes", "total_inactive_file"))
    best: int | None = None
    for folder, limit_name, usage_name, inactive_key in candidates:
        limit = _read_int(folder / limit_name)
        if limit is None or limit >= _NO_LIMIT:
            continue
        usage = _read_int(folder / usage_name) or 0
        usage -= min(usage, _stat_value(folder / "memory.stat", inactive_key))
        left = max(limit - usage, 0)
        best = left if best is None else min(best, left)
    return best


def _meminfo_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                fields = line.split()
                factor = 1024 if len(fields) > 2 and fields[2].lower() == "kb" else 1
                return int(fields[1]) * factor
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_bytes() -> int:
    """Bytes of memory a new run can use now: ``MemAvailable`` from ``/proc/meminfo`` (else
    free pages from ``os.sysconf``), capped by what is left under a cgroup memory limit."""
    avail = _meminfo_available()
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    cgroup = cgroup_available()
    if cgroup is not None:
        avail = cgroup if avail is None else min(avail, cgroup)
    if avail is None:  # nothing known: do not refuse
        return _NO_LIMIT
    return int(avail)


# ---------------------------------------------------------------------- the check
def _gib(n: int) -> str:
    return f"{n / GIB:.2f} GiB"


def check_fits(n_agents: int, available: int | None = None, margin: float = 0.8, *,
               scale: int | None = None) -> int:
    """Refuse a run of ``n_agents`` agents whose estimated peak memory is more than ``margin``
    times the memory ``available`` (default: :func:`available_bytes` now).

    Returns the estimated peak in bytes when it fits.  ``scale``, if given, is named in the
    message.

    Raises:
        WontFit: with a message giving the number of agents, the estimated peak, what is
            available, and the smallest scale of the 1937 population that would fit.
    """
    if not (0.0 < margin <= 1.0) or math.isnan(margin):
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    needed = estimate_bytes(n_agents)
    if available is None:
        available = available_bytes()
    budget = int(available * margin)
    if needed <= budget:
        return needed
    smallest = smallest_fitting_scale(budget)
    what = f"1:{scale} ({n_agents:,} agents)" if scale is not None else f"{n_agents:,} agents"
    if smallest is None:
        advice = (f"no scale fits: even the smallest population needs about "
                  f"{_gib(estimate_bytes(agents_for_scale(10**9)))}")
    else:
        advice = (f"the smallest scale that would fit is --scale {smallest} "
                  f"({agents_for_scale(smallest):,} agents, about "
                  f"{_gib(estimate_bytes(agents_for_scale(smallest)))})")
    message = (f"not enough memory for a run of {what}: its peak is estimated at "
               f"{_gib(needed)}, but only {_gib(available)} is available and runs use at most "
               f"{margin:.0%} of that ({_gib(budget)}); {advice}")
    raise WontFit(message, n_agents=int(n_agents), needed=needed, available=int(available),
                  smallest_scale=smallest)
