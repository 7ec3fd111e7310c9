"""Tests of :mod:`purgesim.memory`: the peak-memory estimate and the up-front refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from purgesim import build_population, load_scenario
from purgesim.memory import (
    BYTES_PER_AGENT,
    FIXED_BYTES,
    GIB,
    MIB,
    WontFit,
    agents_for_scale,
    available_bytes,
    cgroup_available,
    check_fits,
    estimate_bytes,
    smallest_fitting_scale,
)


def test_estimate_is_linear_and_monotone():
    sizes = [0, 1, 1000, 10**6, 16_325_353, 163_235_839]
    values = [estimate_bytes(n) for n in sizes]
    assert values == sorted(values)
    assert len(set(values)) == len(values)
    assert estimate_bytes(0) == FIXED_BYTES
    # equal steps in agents add equal bytes
    assert estimate_bytes(2_000_000) - estimate_bytes(1_000_000) == (
        estimate_bytes(3_000_000) - estimate_bytes(2_000_000)) == 1_000_000 * BYTES_PER_AGENT
    with pytest.raises(ValueError):
        estimate_bytes(-1)


def test_estimate_covers_the_measured_peaks():
    """Measured whole-process peaks (benchmarks/results.md) must not exceed the estimate by
    more than a little, and the estimate must not be wildly pessimistic."""
    measured = {  # agents: peak resident bytes of `purgesim run --scale S --json`, 2026-11-27
        165_200: 255 * MIB,
        1_634_304: 270 * MIB,
        5_443_094: 313 * MIB,
        16_325_353: 430 * MIB,
        54_413_258: 827 * MIB,
        163_235_839: int(1.93 * GIB),
    }
    for n, peak in measured.items():
        assert peak <= estimate_bytes(n) <= 1.3 * peak, n


def test_agents_for_scale_matches_the_built_population():
    real = build_population(load_scenario(scale=1000)).n
    assert abs(agents_for_scale(1000) - real) <= 10
    assert agents_for_scale(1) > agents_for_scale(2) > agents_for_scale(10) > agents_for_scale(1000)
    assert 163_000_000 < agents_for_scale(1) < 163_500_000
    with pytest.raises(ValueError):
        agents_for_scale(0)


def test_check_fits_refuses_with_the_numbers():
    n = agents_for_scale(1)
    with pytest.raises(WontFit) as info:
        check_fits(n, available=2 * GIB, scale=1)
    err = info.value
    assert isinstance(err, MemoryError)
    message = str(err)
    assert f"{n:,}" in message  # how many agents
    assert f"{estimate_bytes(n) / GIB:.2f} GiB" in message  # the estimated peak
    assert "2.00 GiB" in message  # what is available
    assert "1:1" in message
    # the smallest scale that fits is named, and it does fit while the one below does not
    assert err.smallest_scale is not None and err.smallest_scale > 1
    assert f"--scale {err.smallest_scale}" in message
    budget = int(2 * GIB * 0.8)
    assert estimate_bytes(agents_for_scale(err.smallest_scale)) <= budget
    assert estimate_bytes(agents_for_scale(err.smallest_scale - 1)) > budget
    assert err.needed == estimate_bytes(n) and err.available == 2 * GIB


def test_check_fits_when_nothing_fits():
    with pytest.raises(WontFit) as info:
        check_fits(1000, available=10 * MIB)
    assert info.value.smallest_scale is None
    assert re.search(r"no scale fits", str(info.value))


def test_check_fits_passes_when_ample():
    n = agents_for_scale(1)
    assert check_fits(n, available=64 * GIB) == estimate_bytes(n)
    # the margin is honoured: exactly at the budget passes, one byte less refuses
    needed = estimate_bytes(n)
    assert check_fits(n, available=needed * 2, margin=0.5) == needed
    with pytest.raises(WontFit):
        check_fits(n, available=needed * 2 - 2, margin=0.5)
    with pytest.raises(ValueError):
        check_fits(n, available=64 * GIB, margin=0)


def test_smallest_fitting_scale():
    assert smallest_fitting_scale(10**15) == 1
    assert smallest_fitting_scale(0) is None
    s = smallest_fitting_scale(GIB)
    assert estimate_bytes(agents_for_scale(s)) <= GIB < estimate_bytes(agents_for_scale(s - 1))


def test_available_bytes_is_positive():
    assert available_bytes() > 0


def _fake_cgroup(tmp_path: Path, files: dict[str, str], proc: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    proc_file = tmp_path / "proc_cgroup"
    proc_file.write_text(proc)
    return root, proc_file


def test_cgroup_v2_limit(tmp_path):
    root, proc = _fake_cgroup(tmp_path, {
        "job/memory.max": str(4 * GIB),
        "job/memory.current": str(GIB + 100 * MIB),
        "job/memory.stat": f"anon 123\ninactive_file {100 * MIB}\n",
    }, "0::/job\n")
    assert cgroup_available(root, proc) == 3 * GIB


def test_cgroup_v2_without_limit(tmp_path):
    root, proc = _fake_cgroup(tmp_path, {"memory.max": "max\n", "memory.current": "5"},
                              "0::/\n")
    assert cgroup_available(root, proc) is None


def test_cgroup_v1_limit_and_tightest_wins(tmp_path):
    root, proc = _fake_cgroup(tmp_path, {
        "memory/memory.limit_in_bytes": str(2**63 - 4096),  # the root: no limit
        "memory/box/memory.limit_in_bytes": str(8 * GIB),
        "memory/box/memory.usage_in_bytes": str(2 * GIB),
        "memory/box/memory.stat": "total_inactive_file 0\n",
        "sub/memory.max": str(5 * GIB),  # a v2 limit too: the tighter one counts
        "sub/memory.current": "0",
    }, "4:memory:/box\n0::/sub\n")
    assert cgroup_available(root, proc) == 5 * GIB


def test_no_cgroup_files(tmp_path):
    assert cgroup_available(tmp_path / "nothing", tmp_path / "missing") is None
