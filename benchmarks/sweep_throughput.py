"""Throughput of a sweep on warm Dask workers against a plain loop of ``purgesim run``
processes, on the same runs at 1:1000; appends (or replaces) its section of
``benchmarks/results.md``.

    python benchmarks/sweep_throughput.py             # 10 points x 2 seeds = 20 runs
    python benchmarks/sweep_throughput.py --samples 4 --no-write   # a quick look

Measured, all in this one session:

1. ``purgesim sweep CONFIG --workers 2``: the whole command (cluster start, warm-up, runs,
   commits), and the steady rate between its first and last commit (warm workers);
2. the same runs as a loop of ``purgesim run FILE --json`` processes, one at a time, each
   with a scenario file holding the point's values;
3. the same loop two processes at a time (as many as the sweep's workers).

Every process of 2 and 3 must print the figures of the sweep's row for the same point and
seed (checked: the same runs), and the in-worker simulation time of each run (from the
sweep's log) shows how much of a process's time is start-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.md"
BEGIN, END = "<!-- sweep-throughput:begin -->", "<!-- sweep-throughput:end -->"
PURGESIM = [sys.executable, "-m", "purgesim"]

DESIGN = """\
description = "sweep throughput benchmark"
scale = 1000
seeds = [1, 2]
[design]
method = "lhs"
samples = {samples}
seed = 0
[parameters."interrogation.torture"]
levels = [true, false]
[parameters."economy.blame_probability"]
range = [0.0, 0.5]
[parameters."calendar.stop_decree.date"]
weeks = [60, 111]
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def scenario_file(folder: Path, row: dict[str, Any], names: list[str]) -> Path:
    """A scenario file with the point's values, as a user would write it."""
    data: dict[str, Any] = {"base": "great-terror", "scale": 1000, "seed": row["seed"]}
    for name in names:
        node = data
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = row[name]
    path = folder / f"point-{row['sample']}-seed-{row['seed']}.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def run_process(path: Path) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    done = subprocess.run([*PURGESIM, "run", str(path), "--json"], capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - t0, json.loads(done.stdout)


def loop(paths: list[Path], parallel: int) -> tuple[float, list[tuple[float, dict]]]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = list(pool.map(run_process, paths))
    return time.perf_counter() - t0, results


def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def measure(samples: int, workers: int) -> dict[str, Any]:
    from purgesim.files import git_commit
    from purgesim.sweeps import read_results

    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    os.environ["PURGESIM_CATALOG"] = str(tmp / "catalog.duckdb")
    config = tmp / "design.toml"
    config.write_text(DESIGN.format(samples=samples), encoding="utf-8")
    load_before = load_average()
    log(f"sweep of {samples * 2} runs on {workers} Dask workers")
    t0 = time.perf_counter()
    subprocess.run([*PURGESIM, "sweep", str(config), "--out", str(tmp / "sweep"), "--workers",
                    str(workers)], check=True, capture_output=True)
    sweep_wall = time.perf_counter() - t0
    entries = [json.loads(line) for line in (tmp / "sweep" / "log.jsonl").read_text().splitlines()]
    commits = sorted({e["committed"] for e in entries})
    first_batch = sum(1 for e in entries if e["committed"] == commits[0])
    steady = (len(entries) - first_batch) / (commits[-1] - commits[0]) if len(commits) > 1 else None
    rows = read_results(tmp / "sweep").to_pylist()
    names = ["interrogation.torture", "economy.blame_probability", "calendar.stop_decree.date"]
    paths = [scenario_file(tmp, row, names) for row in rows]
    log(f"loop of {len(paths)} purgesim run processes, one at a time")
    one_wall, one = loop(paths, 1)
    log(f"loop of {len(paths)} purgesim run processes, {workers} at a time")
    two_wall, two = loop(paths, workers)
    same = all(r[1]["totals"]["arrested"] == row["totals.arrested"]
               and r[1]["totals"]["cat1"] == row["totals.cat1"]
               for results in (one, two) for r, row in zip(results, rows, strict=True))
    n = len(rows)
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "runs": n,
        "workers": workers, "commit": (git_commit() or "?")[:7],
        "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
        "load_before": load_before, "load_after": load_average(), "same_runs": same,
        "sweep_wall": sweep_wall, "sweep_rate": n / sweep_wall, "steady_rate": steady,
        "sim_seconds": statistics.median(e["seconds"] for e in entries),
        "loop1_wall": one_wall, "loop1_rate": n / one_wall,
        "loop1_process": statistics.median(r[0] for r in one),
        "loop2_wall": two_wall, "loop2_rate": n / two_wall,
    }


def section(m: dict[str, Any]) -> str:
    steady = m["steady_rate"]
    lines = [
        BEGIN,
        "## Sweep throughput: warm Dask workers against a loop of `purgesim run` processes",
        "",
        f"Generated by `python benchmarks/sweep_throughput.py` on {m['date']} at commit "
        f"{m['commit']} ({m['cores']} cores; load average before {m['load_before']}, after "
        f"{m['load_after']}: the machine is shared, so expect noise). The same {m['runs']} "
        "runs at 1:1000 (a Latin hypercube of 10 points over torture, sabotage blame and the "
        "stop decree's week, times seeds 1 and 2) three ways; every process of the loops "
        f"printed the sweep's figures for its point and seed: "
        f"{'yes' if m['same_runs'] else 'NO'}.",
        "",
        "| how | wall | runs per second | against the loop, one at a time |",
        "|---|---|---|---|",
        f"| loop of `purgesim run FILE --json`, one at a time | {m['loop1_wall']:.1f} s | "
        f"{m['loop1_rate']:.2f} | 1.00x |",
        f"| the same loop, {m['workers']} processes at a time | {m['loop2_wall']:.1f} s | "
        f"{m['loop2_rate']:.2f} | {m['loop2_rate'] / m['loop1_rate']:.2f}x |",
        f"| `purgesim sweep --workers {m['workers']}`, whole command (cluster start, "
        f"warm-up, commits) | {m['sweep_wall']:.1f} s | {m['sweep_rate']:.2f} | "
        f"{m['sweep_rate'] / m['loop1_rate']:.2f}x |",
    ]
    if steady is not None:
        lines.append(
            f"| the same sweep, steady rate between its first and last commit (warm workers) "
            f"| | {steady:.2f} | {steady / m['loop1_rate']:.2f}x |")
    lines += [
        "",
        f"A run's simulation inside a warm worker took {m['sim_seconds']:.2f} s (median, "
        f"from the sweep's log); a `purgesim run` process took {m['loop1_process']:.2f} s "
        f"(median, one at a time), so {1 - m['sim_seconds'] / m['loop1_process']:.0%} of a "
        "process's time is start-up (interpreter, imports, kernels) and output, which warm "
        "workers pay once.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text + rest.split(END, 1)[1].lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    m = measure(args.samples, args.workers)
    text = section(m)
    print(text)
    print(json.dumps(m, indent=2), file=sys.stderr)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
