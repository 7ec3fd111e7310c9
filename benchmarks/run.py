"""Run every purgesim benchmark and write ``benchmarks/results.md`` (and ``results.json``).

    python benchmarks/run.py            # everything (about 4 minutes on 2 cores)
    python benchmarks/run.py --quick    # smoke check: N = 100,000, scales 1000 and 100;
                                        # writes benchmarks/results-quick.md

Sections (see benchmarks/README.md):

1. The reference core model (MODEL.md section 6) in purgesim against the plain Mesa 3 model of
   ``benchmarks/mesa_core.py`` at N = 100,000 and 1,000,000, T = 70: in-process time (build
   plus the weeks, after imports) and whole-process time, and the statistical agreement of
   their totals.
2. The full model's scaling curve: ``purgesim run --scale S --json --profile`` as a cold
   process (new interpreter, empty numba cache) for wall time and peak resident memory.
3. The per-phase profile of the full-scale runs of section 2.
4. The default scale (1:100) simulation time in-process (``Sim(...).init()`` plus ``run()``).

Every figure is a median of several runs; ratios compare figures measured in the same run of
this script.  The machine's load and any other busy process are recorded before each section,
because the development machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
MESA_SCRIPT = HERE / "mesa_core.py"
GIB = 1024**3
MIB = 1024**2

CHECK_KEYS = ("from_queue", "cat1", "cat2", "released")  # the agreement check of the issue
SHOW_KEYS = ("arrests", "from_queue", "cat1", "cat2", "innocent_convicted", "released")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- processes
@dataclass
class Proc:
    wall: float
    peak_rss: int  # bytes
    stdout: str
    stderr: str


TIME = Path("/usr/bin/time")


def run_process(cmd: list[str], env: dict[str, str] | None = None) -> Proc:
    """Run ``cmd`` as a fresh process: its wall time and its own peak RSS.

    The peak comes from GNU ``/usr/bin/time`` (``%M``), which forks the command from its own
    small process.  ``wait4`` on a child of this (large) process would not do: Linux carries
    the parent's resident size over into the child's ``ru_maxrss`` across fork and exec.
    Without ``/usr/bin/time`` the peak is reported as 0 (unknown).
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [str(TIME), "-f", "%M", "-o", str(rss_file), *cmd] if TIME.exists() else cmd
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            t0 = time.perf_counter()
            proc = subprocess.run(full, stdout=out, stderr=err, env=env, cwd=ROOT, check=False)
            wall = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode(errors="replace")
            stderr = err.read().decode(errors="replace")
        peak = 0
        if rss_file.exists():
            lines = rss_file.read_text().split()
            peak = int(lines[-1]) * 1024 if lines and lines[-1].isdigit() else 0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-3000:]}")
    return Proc(wall, peak, stdout, stderr)


def purgesim_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "purgesim"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("purgesim")
    return [found] if found else [sys.executable, "-m", "purgesim"]


def cold_env(tmp: Path) -> dict[str, str]:
    """Environment with a new, empty numba cache, so any JIT compilation is paid again."""
    cache = Path(tempfile.mkdtemp(prefix="numba-cache-", dir=tmp))
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache)}


# ---------------------------------------------------------------------- machine and load
def _cmd(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine_info() -> dict[str, object]:
    cpu = ""
    for line in _cmd(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    mem = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    commit = _cmd(["git", "rev-parse", "--short", "HEAD"])
    if _cmd(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "numba": version("numba"),
        "mesa": version("mesa"),
        "purgesim": version("purgesim"),
        "commit": commit,
    }


def _cpu_ticks() -> dict[int, tuple[str, int, int]]:
    """pid -> (command, parent pid, user+system ticks) for every process."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                raw = fh.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        ticks[int(entry)] = (name, int(rest[1]), int(rest[11]) + int(rest[12]))
    return ticks


class LoadMonitor:
    """Samples every process twice a second in a background thread and adds up the CPU time
    of processes that are not this script or its descendants, section by section.

    A section's ``other_cores`` is the average number of cores those other processes kept
    busy while it ran (0 on a quiet machine, up to the number of cores).
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.hz = os.sysconf("SC_CLK_TCK")
        self.sections: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._label: str | None = None
        self._first: dict[int, int] = {}
        self._last: dict[int, tuple[str, int]] = {}
        self._t0 = 0.0
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        ticks = _cpu_ticks()
        mine = {os.getpid()}
        changed = True
        while changed:  # this script's descendants do not count
            changed = False
            for pid, (_, ppid, _) in ticks.items():
                if ppid in mine and pid not in mine:
                    mine.add(pid)
                    changed = True
        with self._lock:
            if self._label is None:
                return
            for pid, (name, _, t) in ticks.items():
                if pid in mine:
                    continue
                # a process first seen mid-section started during it: count all its time
                self._first.setdefault(pid, t if self._fresh else 0)
                self._last[pid] = (name, t)
            self._fresh = False

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self, label: str) -> None:
        self.stop()
        with self._lock:
            self._label = label
            self._first, self._last = {}, {}
            self._fresh = True
            self._t0 = time.perf_counter()
        self._sample()

    def stop(self) -> None:
        if self._label is None:
            return
        self._sample()
        with self._lock:
            seconds = time.perf_counter() - self._t0
            busy = {}
            for pid, (name, t) in self._last.items():
                used = (t - self._first.get(pid, t)) / self.hz
                if used > 0:
                    busy[name] = busy.get(name, 0.0) + used
            total = sum(busy.values())
            top = sorted(busy.items(), key=lambda kv: -kv[1])[:3]
            self.sections.append({
                "section": self._label, "seconds": seconds,
                "other_cores": total / seconds if seconds > 0 else 0.0,
                "top": [f"{name} {used / seconds:.2f}" for name, used in top
                        if used / seconds >= 0.05],
                "loadavg_end": os.getloadavg()[0],
            })
            sec = self.sections[-1]
            self._label = None
        log(f"section {sec['section']}: other processes kept {sec['other_cores']:.2f} cores "
            f"busy on average ({', '.join(sec['top']) or 'none'})")

    def close(self) -> None:
        self.stop()
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------- statistics
def median(xs: list[float]) -> float:
    return statistics.median(xs)


def mean_se(xs: list[float]) -> tuple[float, float]:
    m = statistics.fmean(xs)
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
    return m, se


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sxx


# ---------------------------------------------------------------------- 1. core vs Mesa
def bench_core(n: int, p_seeds: int, m_seeds: int, whole_runs: int, tmp: Path,
               weeks: int = 70) -> dict[str, object]:
    from purgesim.core import run_core

    log(f"core model, N = {n:,}: purgesim in-process, {p_seeds} seeds")
    t0 = time.perf_counter()
    run_core(1000, 2, 0)  # loads numba's cached machine code (or compiles it)
    warm = time.perf_counter() - t0
    p_times, p_totals = [], []
    for seed in range(p_seeds):
        t0 = time.perf_counter()
        totals = run_core(n, weeks, seed).totals()
        p_times.append(time.perf_counter() - t0)
        p_totals.append(totals)

    log(f"core model, N = {n:,}: Mesa, {m_seeds} seeds, one process each")
    m_times, m_walls, m_rss, m_totals = [], [], [], []
    for seed in range(m_seeds):
        proc = run_process([sys.executable, str(MESA_SCRIPT), "--n", str(n), "--weeks",
                            str(weeks), "--seed", str(seed)])
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        m_times.append(out.pop("seconds"))
        m_walls.append(proc.wall)
        m_rss.append(proc.peak_rss)
        m_totals.append(out)
        log(f"  Mesa seed {seed}: {m_times[-1]:.2f} s in-process, {proc.wall:.2f} s whole")

    log(f"core model, N = {n:,}: `purgesim core` whole process, {whole_runs} runs")
    p_walls, p_rss = [], []
    for seed in range(whole_runs):
        proc = run_process([*purgesim_cmd(), "core", "--n", str(n), "--weeks", str(weeks),
                            "--seed", str(seed), "--json"])
        p_walls.append(proc.wall)
        p_rss.append(proc.peak_rss)
    first = run_process([*purgesim_cmd(), "core", "--n", str(n), "--weeks", str(weeks),
                         "--json"], env=cold_env(tmp))

    agreement = {}
    for key in SHOW_KEYS:
        pm, pse = mean_se([t[key] for t in p_totals])
        mm, mse = mean_se([t[key] for t in m_totals])
        ref = (pm + mm) / 2
        rel = abs(pm - mm) / ref if ref else 0.0
        se = math.hypot(pse, mse)
        z = abs(pm - mm) / se if se > 0 else (0.0 if pm == mm else math.inf)
        agreement[key] = {"purgesim_mean": pm, "purgesim_se": pse, "mesa_mean": mm,
                          "mesa_se": mse, "rel_diff": rel, "z": z}
    return {
        "n": n, "weeks": weeks, "warmup_seconds": warm,
        "purgesim_seconds": p_times, "mesa_seconds": m_times,
        "purgesim_wall": p_walls, "mesa_wall": m_walls,
        "purgesim_first_wall": first.wall, "purgesim_first_rss": first.peak_rss,
        "purgesim_rss": p_rss, "mesa_rss": m_rss,
        "purgesim_totals": p_totals, "mesa_totals": m_totals,
        "agreement": agreement,
        "ratio_inprocess": median(m_times) / median(p_times),
        "ratio_whole": median(m_walls) / median(p_walls),
    }


def agreement_verdict(res: dict[str, object]) -> tuple[str, bool]:
    """The issue's criterion: within 3% at N >= 1,000,000, else within 4 standard errors."""
    agr = res["agreement"]
    if res["n"] >= 1_000_000:
        ok = all(agr[k]["rel_diff"] <= 0.03 for k in CHECK_KEYS)
        return "means within 3%", ok
    ok = all(agr[k]["z"] <= 4.0 for k in CHECK_KEYS)
    return "means within 4 standard errors of the difference", ok


# ---------------------------------------------------------------------- 2-3. full model
def parse_profile(stdout: str) -> tuple[dict[str, float], float | None]:
    """Seconds per phase and the simulation's wall time, from the object that
    ``purgesim run --json --profile`` prints (its ``profile`` key)."""
    profile = json.loads(stdout).get("profile") or {}
    return dict(profile.get("phases", {})), profile.get("wall_seconds")


def bench_scale(scale: int, runs: int, tmp: Path) -> dict[str, object]:
    walls, rss, sim_walls, profiles = [], [], [], []
    agents = weeks = None
    for i in range(runs):
        proc = run_process([*purgesim_cmd(), "run", "--scale", str(scale), "--json",
                            "--profile"], env=cold_env(tmp))
        summary = json.loads(proc.stdout)
        agents, weeks = summary["agents"], summary["weeks"]
        phases, sim_wall = parse_profile(proc.stdout)
        walls.append(proc.wall)
        rss.append(proc.peak_rss)
        sim_walls.append(sim_wall if sim_wall is not None else float("nan"))
        profiles.append(phases)
        log(f"  scale {scale} run {i + 1}/{runs}: {proc.wall:.2f} s whole process, "
            f"{sim_walls[-1]:.2f} s simulation, peak {proc.peak_rss / GIB:.2f} GiB")
    return {"scale": scale, "agents": agents, "weeks": weeks, "wall": walls, "peak_rss": rss,
            "sim_wall": sim_walls, "profiles": profiles}


def median_profile(res: dict[str, object]) -> list[tuple[str, float]]:
    """Median seconds per phase over the runs, plus the unattributed remainders."""
    profiles = res["profiles"]
    names = list(profiles[0])
    rows = [(name, median([p.get(name, 0.0) for p in profiles])) for name in names]
    sim = median(res["sim_wall"])
    rest = median([s - sum(p.values()) for s, p in zip(res["sim_wall"], profiles,
                                                        strict=True)])
    rows.append(("other: weekly recording, finalize, building the Result", max(rest, 0.0)))
    rows.append(("outside the simulation: interpreter start, imports, scenario, summary, "
                 "exit", max(median(res["wall"]) - sim, 0.0)))
    return rows


def line_profile(func, *args):
    """Call ``func(*args)`` and time each line of ``func``'s own body (calls made from a line
    count for that line); returns (result, {line number: seconds})."""
    code = func.__code__
    times: dict[int, float] = {}
    state: list = [None, 0.0]

    def local(frame, event, arg):
        now = time.perf_counter()
        if state[0] is not None:
            times[state[0]] = times.get(state[0], 0.0) + now - state[1]
        state[0] = frame.f_lineno if event == "line" else None
        state[1] = time.perf_counter()
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is code else None

    sys.settrace(tracer)
    try:
        result = func(*args)
    finally:
        sys.settrace(None)
    return result, times


def profile_build(scale: int) -> dict[str, object]:
    """Line-by-line time of ``build_population`` at ``scale`` (run in its own process)."""
    import inspect

    from purgesim import load_scenario
    from purgesim.population import build_population

    sc = load_scenario(scale=scale)
    build_population(load_scenario(scale=1000))  # warm imports and data files
    t0 = time.perf_counter()
    pop, times = line_profile(build_population, sc)
    total = time.perf_counter() - t0
    source, first = inspect.getsourcelines(build_population)
    rows = sorted(times.items(), key=lambda kv: -kv[1])[:10]
    return {
        "scale": scale, "agents": pop.n, "seconds": total,
        "stored_bytes_per_agent": pop.nbytes() / pop.n,
        "file": build_population.__module__.replace(".", "/") + ".py",
        "lines": [{"line": line, "seconds": sec,
                   "source": source[line - first].strip() if 0 <= line - first < len(source)
                   else "?"} for line, sec in rows],
    }


# ---------------------------------------------------------------------- 4. default scale
def bench_default(runs: int) -> dict[str, object]:
    from purgesim import Sim, load_scenario

    sc = load_scenario()
    times, phases = [], []
    for i in range(runs + 1):  # the first run warms up imports and caches; not counted
        t0 = time.perf_counter()
        sim = Sim(sc)
        sim.init()
        sim.run()
        seconds = time.perf_counter() - t0
        if i > 0:
            times.append(seconds)
            phases.append(dict(sim.timings))
        agents = sim.population.n
        del sim
    return {"scale": sc.scale, "agents": agents, "weeks": sc.weeks, "seconds": times,
            "phases": {k: median([p[k] for p in phases]) for k in phases[0]}}


# ---------------------------------------------------------------------- report
def fmt_s(x: float) -> str:
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s"


def fmt_b(x: float) -> str:
    return f"{x / GIB:.2f} GiB" if x >= GIB else f"{x / MIB:.0f} MiB"


def ascii_loglog(points: list[tuple[float, float]], width: int = 56, height: int = 14) -> str:
    """A small log-log scatter of (agents, seconds), with the slope-1 line through the
    largest point for reference."""
    xs = [math.log10(x) for x, _ in points]
    ys = [math.log10(y) for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys) - 0.1, max(ys) + 0.1
    # reference line of slope 1 through the largest point
    y_top = ys[xs.index(x1)]

    def ref(lx: float) -> float:
        return y_top + (lx - x1)

    y0 = min(y0, ref(x0))
    grid = [[" "] * width for _ in range(height)]

    def cell(lx: float, ly: float) -> tuple[int, int]:
        c = round((lx - x0) / (x1 - x0 or 1) * (width - 1))
        r = height - 1 - round((ly - y0) / (y1 - y0 or 1) * (height - 1))
        return r, c

    for c in range(width):
        lx = x0 + c / (width - 1) * (x1 - x0)
        r, _ = cell(lx, ref(lx))
        if 0 <= r < height:
            grid[r][c] = "."
    for lx, ly in zip(xs, ys, strict=True):
        r, c = cell(lx, ly)
        grid[r][c] = "o"
    lines = []
    for i, row in enumerate(grid):
        ly = y1 - i / (height - 1) * (y1 - y0)
        label = f"{10 ** ly:8.2f} s |" if i % 3 == 0 else "           |"
        lines.append(label + "".join(row))
    lines.append("           +" + "-" * width)
    lines.append(f"            {10 ** x0:,.0f} agents" + " " * max(width - 40, 1)
                 + f"{10 ** x1:,.0f} agents")
    lines.append("            o = whole-process wall time, . = slope 1 (linear) through the "
                 "largest run")
    return "\n".join(lines)


def report(data: dict[str, object]) -> str:
    m = data["machine"]
    quick = data["quick"]
    out: list[str] = []
    w = out.append
    w("# purgesim benchmarks" + (" (quick smoke check)" if quick else ""))
    w("")
    w(f"Generated by `python benchmarks/run.py{' --quick' if quick else ''}` on {m['date']}, "
      f"purgesim {m['purgesim']} at commit {m['commit']}. Do not edit by hand: run it again.")
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| CPU | {m['cpu']}, {m['cores']} cores |")
    w(f"| memory | {m['memory_bytes'] / GIB:.1f} GiB |")
    w(f"| system | {m['os']} |")
    w(f"| versions | Python {m['python']}, numpy {m['numpy']}, numba {m['numba']}, "
      f"mesa {m['mesa']} |")
    w("")
    w("### Other processes while the benchmarks ran")
    w("")
    w("The machine is shared with other work. A background thread sampled every process "
      "twice a second; this is the CPU time of processes other than the benchmark and its "
      "children, as the average number of cores they kept busy during each section (of "
      f"{m['cores']}).")
    w("")
    w("| section | duration | other processes, cores busy | busiest |")
    w("|---|---|---|---|")
    for sec in data["load"]:
        w(f"| {sec['section']} | {sec['seconds']:.0f} s | {sec['other_cores']:.2f} | "
          f"{', '.join(sec['top']) or '-'} |")
    w("")
    shared = [sec["section"] for sec in data["load"] if sec["other_cores"] >= 0.1]
    if shared:
        w("**The machine was shared while these figures were taken**: other processes kept at "
          "least a tenth of a core busy during " + ", ".join(shared) + ", so those times may "
          "be inflated.")
    else:
        w("The machine was quiet: no section saw other processes use a tenth of a core.")
    w("")

    # ---------------- targets
    w("## Targets")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    full = data["scaling"]
    biggest = min(full, key=lambda r: r["scale"])
    if biggest["scale"] == 1:
        wall = median(biggest["wall"])
        rss = median(biggest["peak_rss"])
        w(f"| `purgesim run --scale 1`: under 60 s wall as one cold process (aim 30 s) | "
          f"{wall:.1f} s (median of {len(biggest['wall'])}) | "
          f"{'yes' if wall < 60 else 'NO'}; aim {'met' if wall < 30 else f'missed by {wall - 30:.1f} s'} |")
        w(f"| `purgesim run --scale 1`: under 8 GiB peak resident (aim 6 GiB) | "
          f"{fmt_b(rss)} | {'yes' if rss < 8 * GIB else 'NO'}; aim "
          f"{'met' if rss < 6 * GIB else 'missed'} |")
    else:
        w("| `purgesim run --scale 1` | not run (--quick) | - |")
    d = data["default"]
    ds = median(d["seconds"])
    w(f"| default scale (1:{d['scale']}, {d['agents']:,} agents): simulation under 2 s | "
      f"{ds:.2f} s (median of {len(d['seconds'])}) | {'yes' if ds < 2 else 'NO'} |")
    for res in data["core"]:
        label, ok = agreement_verdict(res)
        need = " (target: at least 50x)" if res["n"] == 1_000_000 else ""
        met = ("yes" if res["ratio_inprocess"] >= 50 else "NO") if need else "-"
        w(f"| core model at N = {res['n']:,}, T = {res['weeks']}: purgesim vs Mesa, "
          f"in-process{need} | {res['ratio_inprocess']:,.0f}x faster | {met} |")
        w(f"| core model at N = {res['n']:,}: statistical agreement ({label}) | "
          f"{'PASS' if ok else 'FAIL'} | {'yes' if ok else 'NO'} |")
    sl = data["slopes"]
    slope = sl["sim_wall_top"]
    verdict = ("yes" if slope <= 1.0 else "yes, within 10% of linear" if slope <= 1.1
               else "NO")
    w(f"| cost grows linearly or better with agents (criterion used here: log-log slope of "
      f"the simulation time over the {sl['top_n']} largest runs at most 1.1) | slope "
      f"{slope:.2f} over the {sl['top_n']} largest runs, {sl['sim_wall']:.2f} over all "
      f"(peak memory {sl['peak_rss_top']:.2f} and {sl['peak_rss']:.2f}) | {verdict} |")
    w("")

    # ---------------- core vs Mesa
    w("## 1. Reference core model: purgesim against plain Mesa")
    w("")
    w("The model of MODEL.md section 6, T = 70 weeks, implemented in `purgesim/core.py` "
      "(numpy + numba) and in `benchmarks/mesa_core.py` (plain Mesa 3: one `mesa.Agent` per "
      "person, `collections.deque` queues, the model's own random generators, a "
      "`DataCollector`).")
    w("")
    w("- **In-process** = population build plus the 70 weeks, timed inside the process after "
      "all imports. purgesim is timed in this script's process after one small warm-up call, "
      "which loads numba's compiled kernel from its on-disk cache (that first call cost "
      f"{fmt_s(data['core'][0]['warmup_seconds'])}); each Mesa run is a fresh process that "
      "times itself the same way (Mesa has nothing to warm up).")
    w("- **Whole process** = wall time of a new process from start to exit: "
      "`purgesim core --n N --json` and `python benchmarks/mesa_core.py --n N`. purgesim's "
      "numba kernel is loaded from its on-disk cache; the *first ever* column is the same "
      "command with an empty numba cache, so it includes compiling the kernel.")
    w("- Different seeds in each run: the work is the same model on the same N, so the "
      "medians are comparable; the same runs give the agreement check below.")
    w("")
    w("| N | purgesim in-process | Mesa in-process | ratio | purgesim whole process | "
      "purgesim first ever | Mesa whole process | ratio | peak RSS purgesim / Mesa |")
    w("|---|---|---|---|---|---|---|---|---|")
    for r in data["core"]:
        w(f"| {r['n']:,} | {fmt_s(median(r['purgesim_seconds']))} (median of "
          f"{len(r['purgesim_seconds'])}) | {fmt_s(median(r['mesa_seconds']))} (median of "
          f"{len(r['mesa_seconds'])}) | **{r['ratio_inprocess']:,.0f}x** | "
          f"{fmt_s(median(r['purgesim_wall']))} (median of {len(r['purgesim_wall'])}) | "
          f"{fmt_s(r['purgesim_first_wall'])} | {fmt_s(median(r['mesa_wall']))} | "
          f"**{r['ratio_whole']:,.1f}x** | {fmt_b(median(r['purgesim_rss']))} / "
          f"{fmt_b(median(r['mesa_rss']))} |")
    w("")
    w("### Agreement")
    w("")
    w("Means of the run totals over seeds 0, 1, ... on each side, with standard errors. "
      "The check (issue criterion) covers `from_queue`, `cat1`, `cat2` and `released`: at "
      "N = 1,000,000 the difference of the means must be within 3% of their average, at "
      "N = 100,000 within 4 standard errors of the difference. `arrests` (always the full "
      "limit) and `innocent_convicted` are shown for information.")
    w("")
    for r in data["core"]:
        label, ok = agreement_verdict(r)
        w(f"**N = {r['n']:,}** ({len(r['purgesim_totals'])} purgesim seeds, "
          f"{len(r['mesa_totals'])} Mesa seeds; criterion: {label}): "
          f"**{'PASS' if ok else 'FAIL'}**")
        w("")
        w("| total | purgesim mean (se) | Mesa mean (se) | difference | in standard errors | "
          "checked |")
        w("|---|---|---|---|---|---|")
        for key in SHOW_KEYS:
            a = r["agreement"][key]
            if key in CHECK_KEYS:
                passed = a["rel_diff"] <= 0.03 if r["n"] >= 1_000_000 else a["z"] <= 4
                check = "pass" if passed else "FAIL"
            else:
                check = "-"
            w(f"| {key} | {a['purgesim_mean']:,.1f} ({a['purgesim_se']:,.1f}) | "
              f"{a['mesa_mean']:,.1f} ({a['mesa_se']:,.1f}) | {a['rel_diff']:.2%} | "
              f"{a['z']:.2f} | {check} |")
        w("")

    # ---------------- scaling
    w("## 2. Full model: scaling with the number of agents")
    w("")
    w("`purgesim run --scale S --json --profile` (great-terror, all mechanisms, "
      f"{full[0]['weeks']} weeks), each run a new process with an empty numba cache "
      "(`NUMBA_CACHE_DIR` set to a new folder), so start-up and any JIT compilation are "
      "included; files may be in the OS page cache. Wall time from start to exit; peak "
      "resident memory of that process (GNU `/usr/bin/time`, `%M`). "
      "Simulation = the CLI's own timer (build, mechanisms, recording; not start-up).")
    w("")
    w("| scale | agents | runs | whole process | simulation | peak RSS | bytes per agent | "
      "simulation ns per agent | agents per second (whole process) |")
    w("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(full, key=lambda r: -r["scale"]):
        wall, sim, rss = median(r["wall"]), median(r["sim_wall"]), median(r["peak_rss"])
        w(f"| 1:{r['scale']} | {r['agents']:,} | {len(r['wall'])} | {wall:.2f} s | "
          f"{sim:.2f} s | {fmt_b(rss)} | {rss / r['agents']:.1f} | "
          f"{sim / r['agents'] * 1e9:.0f} | {r['agents'] / wall:,.0f} |")
    w("")
    w(f"Log-log slopes against the number of agents (1 = linear). Over the {sl['top_n']} "
      f"largest runs, where fixed costs no longer matter: simulation time "
      f"**{sl['sim_wall_top']:.2f}**, whole process {sl['wall_top']:.2f}, peak memory "
      f"{sl['peak_rss_top']:.2f}. Over all scales: simulation time {sl['sim_wall']:.2f}, "
      f"whole process {sl['wall']:.2f}, peak memory {sl['peak_rss']:.2f}, below 1 because "
      "fixed costs (interpreter start-up and imports, the elite who are one agent at every "
      "scale, per-region and per-week work) dominate the small runs.")
    w("")
    w("```")
    w(ascii_loglog([(r["agents"], median(r["wall"])) for r in full]))
    w("```")
    w("")

    # ---------------- profile
    prof = data["profile"]
    w(f"## 3. Where a 1:{prof['scale']} run spends its time")
    w("")
    w(f"Median over the {prof['runs']} run(s) at 1:{prof['scale']} of section 2, from the "
      "`--profile` table (each mechanism's row includes its set-up in `init`).")
    w("")
    w("| phase | seconds | share of the whole process |")
    w("|---|---|---|")
    total = sum(s for _, s in prof["rows"])
    for name, sec in sorted(prof["rows"], key=lambda x: -x[1]):
        w(f"| {name} | {sec:.2f} | {sec / total:.1%} |")
    w(f"| **whole process** | **{total:.2f}** | 100% |")
    w("")
    bp = data["build_profile"]
    w(f"### Inside the population build (1:{bp['scale']}, one run)")
    w("")
    w(f"`build_population` timed line by line in its own process ({bp['seconds']:.2f} s "
      "with the tracer; a line's time includes the functions it calls). The ten costliest "
      f"lines of `{bp['file']}`:")
    w("")
    w("| line | seconds | share | code |")
    w("|---|---|---|---|")
    for row in bp["lines"]:
        code = row["source"].replace("|", "\\|")
        w(f"| {row['line']} | {row['seconds']:.3f} | {row['seconds'] / bp['seconds']:.0%} | "
          f"`{code}` |")
    w("")
    w("### What to optimise next")
    w("")
    for line in advice(prof, data):
        w(f"- {line}")
    w("")

    # ---------------- default scale
    w("## 4. Default scale simulation")
    w("")
    w(f"`Sim(load_scenario())` at 1:{d['scale']} ({d['agents']:,} agents, {d['weeks']} "
      f"weeks): `init()` plus `run()` in-process, after one untimed warm-up run: median "
      f"**{ds:.2f} s** of {len(d['seconds'])} "
      f"(all: {', '.join(f'{s:.2f}' for s in d['seconds'])} s).")
    w("")
    w("| phase | median seconds |")
    w("|---|---|")
    for name, sec in sorted(d["phases"].items(), key=lambda x: -x[1]):
        w(f"| {name} | {sec:.3f} |")
    w("")
    return "\n".join(out)


def advice(prof: dict[str, object], data: dict[str, object]) -> list[str]:
    rows = sorted(prof["rows"], key=lambda x: -x[1])
    total = sum(s for _, s in rows)
    lines = []
    top = rows[:3]
    lines.append("Largest phases: " + "; ".join(
        f"{name} {sec:.1f} s ({sec / total:.0%})" for name, sec in top) + ".")
    names = dict(rows)
    build = names.get("build population")
    if build is not None and build / total > 0.2:
        lines.append(f"The population build ({build:.1f} s) is the first target: it is "
                     "O(population) once, so it should cost a few passes over 163 million "
                     "bytes (about 1.7 s per 162 million random draws here, MODEL.md 3b); "
                     "look for per-person float64 draws, sorts and temporaries that can be "
                     "made per block (workplace, household) or smaller dtypes.")
        bp = data["build_profile"]
        if bp["lines"]:
            worst = bp["lines"][0]
            lines.append(f"Within it, line {worst['line']} of {bp['file']} "
                         f"(`{worst['source']}`) alone takes {worst['seconds']:.1f} s of "
                         f"{bp['seconds']:.1f} s at 1:{bp['scale']}; see the table above.")
    mech = [(n, s) for n, s in rows if n != "build population" and not n.startswith(("other",
                                                                                     "outside"))]
    if mech:
        name, sec = mech[0]
        lines.append(f"The costliest mechanism is `{name}` ({sec:.1f} s over the run): check "
                     "that its weekly work scales with events, not with the population "
                     "(its `init` is included here).")
    big, small = sorted(data["scaling"], key=lambda r: r["scale"])[:2]
    marginal = ((median(big["peak_rss"]) - median(small["peak_rss"]))
                / (big["agents"] - small["agents"]))
    stored = data["build_profile"]["stored_bytes_per_agent"]
    lines.append(f"Memory: each extra agent adds {marginal:.1f} bytes to the peak (between 1:"
                 f"{small['scale']} and 1:{big['scale']}) while the population stores "
                 f"{stored:.1f} bytes per agent (plus 1 byte of status): the rest is working "
                 "memory (build temporaries, the event table, weekly arrays), so shrinking "
                 "the build's temporaries lowers the peak most.")
    outside = [s for n, s in rows if n.startswith("outside")]
    if outside and outside[0] / total > 0.1:
        lines.append(f"{outside[0]:.1f} s is spent outside the simulation proper (start-up, "
                     "imports, summary): check `python -X importtime` and the summary.")
    return lines


# ---------------------------------------------------------------------- main

KEPT = re.compile(r"\n<!-- ([a-z-]+): ?begin -->.*?<!-- \1: ?end -->", re.S)
"""The sections other benchmarks write into the report (sweep throughput, explorer load)."""


def kept_sections(out: Path) -> str:
    """Other benchmarks' sections of the existing report, so that this run does not drop them."""
    if not out.exists():
        return ""
    return "\n".join(m.group(0) for m in KEPT.finditer(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the purgesim benchmarks.")
    parser.add_argument("--quick", action="store_true",
                        help="small smoke check: N = 100,000 only, scales 1000 and 100")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default benchmarks/results.md, or "
                        "results-quick.md with --quick); results.json goes beside it")
    parser.add_argument("--full-runs", type=int, default=2,
                        help="runs at scale 1 (about 45 s each)")
    parser.add_argument("--profile-build", type=int, metavar="SCALE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile_build is not None:  # internal: one process per build profile
        print(json.dumps(profile_build(args.profile_build)))
        return 0
    quick = args.quick
    out = args.out or HERE / ("results-quick.md" if quick else "results.md")

    data: dict[str, object] = {"quick": quick, "machine": machine_info()}
    monitor = LoadMonitor()
    log(f"machine: {data['machine']['cpu']}, {data['machine']['cores']} cores")
    with tempfile.TemporaryDirectory(prefix="purgesim-bench-") as tmpdir:
        tmp = Path(tmpdir)
        # 1. core vs Mesa
        plan = [(100_000, 10, 5, 3)] if quick else [(100_000, 20, 10, 5),
                                                    (1_000_000, 20, 5, 5)]
        data["core"] = []
        for n, p_seeds, m_seeds, whole in plan:
            monitor.start(f"core model N = {n:,}")
            data["core"].append(bench_core(n, p_seeds, m_seeds, whole, tmp))
            r = data["core"][-1]
            label, ok = agreement_verdict(r)
            log(f"N = {n:,}: {r['ratio_inprocess']:.0f}x in-process, "
                f"{r['ratio_whole']:.1f}x whole process; agreement {'PASS' if ok else 'FAIL'}")

        # 2. scaling (smallest first), 3. profile of the largest
        scales = [(1000, 3), (100, 3)] if quick else [
            (1000, 5), (100, 5), (30, 3), (10, 3), (3, 2), (1, args.full_runs)]
        data["scaling"] = []
        for scale, runs in scales:
            monitor.start(f"full model 1:{scale}")
            log(f"full model at 1:{scale}, {runs} cold runs")
            data["scaling"].append(bench_scale(scale, runs, tmp))

    full = data["scaling"]
    agents = [r["agents"] for r in full]
    top = sorted(full, key=lambda r: -r["agents"])[: 2 if quick else 3]
    top_agents = [r["agents"] for r in top]
    data["slopes"] = {"top_n": len(top)}
    for key in ("wall", "sim_wall", "peak_rss"):
        data["slopes"][key] = loglog_slope(agents, [median(r[key]) for r in full])
        data["slopes"][key + "_top"] = loglog_slope(top_agents, [median(r[key]) for r in top])
    biggest = top[0]
    data["profile"] = {"scale": biggest["scale"], "runs": len(biggest["wall"]),
                       "rows": median_profile(biggest)}
    monitor.start(f"population build profile 1:{biggest['scale']}")
    log(f"population build, line by line, at 1:{biggest['scale']}")
    proc = run_process([sys.executable, str(Path(__file__).resolve()), "--profile-build",
                        str(biggest["scale"])])
    data["build_profile"] = json.loads(proc.stdout.strip().splitlines()[-1])

    # 4. default scale
    monitor.start("default scale")
    log("default scale in-process")
    data["default"] = bench_default(3 if quick else 5)
    monitor.close()
    data["load"] = monitor.sections

    text = report(data) + kept_sections(out)
    from purgesim.files import atomic_write_text

    atomic_write_text(out, text + "\n")
    atomic_write_text(out.with_suffix(".json"), json.dumps(data, indent=1) + "\n")
    log(f"wrote {out} and {out.with_suffix('.json')}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
