"""Load test of ``purgesim serve``: simulated users on loopback, latency, errors, memory.

A classroom: each user opens the page (plotly.js once, as a browser caches it), follows the
teacher's link, then moves one of a few safeguards to one of a few values and runs, reads
the view and the report's charts, and thinks for one to three seconds before the next move.
Many users ask for the same links, so most answers come from the cache; the first asker of
each link waits for its runs (1:2000, one seed).

Two phases on one server (the default 2 workers): a baseline with one user, then the load
(20 users for 60 s), each with links of its own seeds so that both phases compute as well
as read. Every request is timed; any status other than 200, any error event and any
exception counts as an error. The resident memory of the server and its workers is sampled
every second. The figures are appended to ``benchmarks/results.md`` (its section replaced if
there), with the load's latencies as ratios to the baseline's.

    python benchmarks/explorer_load.py                 # 20 users for 60 s
    python benchmarks/explorer_load.py --users 5 --seconds 10 --no-write   # a smoke check
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
BEGIN, END = "<!-- explorer-load: begin -->", "<!-- explorer-load: end -->"
SCALE = 2000
MOVES = [("interrogation.torture", ["false"]),
         ("evidence.pressure_sensitivity", ["0", "0.5"]),
         ("centre.approval_probability", ["0", "0.6"]),
         ("remarks.speech_tolerated", ["true"]),
         ("economy.blame_probability", ["0"])]
PAGE_ASSETS = ["/", "/static/style.css", "/static/common.js", "/static/explorer.js",
               "/static/favicon.svg", "/api/meta", "/api/scenario/great-terror"]


# ------------------------------------------------------------------------------ the server
def start_server(folder: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "purgesim", "serve", "--no-browser", "--port", "0",
         "--data", str(folder / "data"), "--catalog", str(folder / "catalog.duckdb")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            port = int(found.group(1))
            break
    else:
        raise RuntimeError("purgesim serve did not start")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if request(port, "/healthz")[0] == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("purgesim serve never became ready")


def request(port: int, path: str) -> tuple[int, bytes]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        con.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = con.getresponse()
        return response.status, response.read()
    finally:
        con.close()


def follow(port: int, path: str) -> dict[str, Any]:
    """A job's stream to its end: the final event (or the refusal)."""
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        con.request("GET", path)
        response = con.getresponse()
        if response.status != 200:
            return {"event": "refused", "status": response.status}
        first = True
        for raw in response:
            line = raw.decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["event"] in ("done", "error"):
                    return {**event, "cached": first}
                first = False
        return {"event": "error", "problems": ["stream closed early"]}
    finally:
        con.close()


def tree_rss(pid: int) -> int:
    """Resident bytes of the server and its worker processes."""
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


# ------------------------------------------------------------------------------ users
class Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def time(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def link(seed: int, move: tuple[str, str] | None) -> str:
    query = f"base=great-terror&scale={SCALE}&seed={seed}&seeds=1"
    return query if move is None else f"{query}&{move[0]}={move[1]}"


def user(port: int, seeds: list[int], stop: float, log: Log, rng: random.Random) -> None:
    def timed(kind: str, path: str) -> bytes | None:
        t0 = time.perf_counter()
        status, body = request(port, path)
        log.time(kind, time.perf_counter() - t0)
        if status != 200:
            log.error(f"{status} {path[:80]}")
            return None
        return body

    def view(query: str) -> None:
        for kind, api, stored in (("view", "/api/view", "views"),
                                  ("charts", "/api/charts", "charts")):
            t0 = time.perf_counter()
            final = follow(port, f"{api}?{query}")
            if final["event"] != "done":
                log.error(f"{api}: {final}")
                return
            how = "from the cache" if final["cached"] else "computed, or joined a job"
            log.time(f"{kind} ({how})", time.perf_counter() - t0)
            timed(f"{kind} result", f"/api/result/{stored}/{final['result']}")

    try:
        t0 = time.perf_counter()
        timed("plotly.js (first visit)", "/static/plotly.min.js")
        for path in PAGE_ASSETS:
            timed("page asset", path)
        log.time("page open", time.perf_counter() - t0)
        view(link(seeds[0], None))
        while time.perf_counter() < stop:
            path, values = rng.choice(MOVES)
            view(link(rng.choice(seeds), (path, rng.choice(values))))
            time.sleep(rng.uniform(1.0, 3.0))
    except Exception as exc:  # any failure of a user is an error of the server's
        log.error(f"{type(exc).__name__}: {exc}")


def phase(port: int, pid: int, users: int, seconds: float, seeds: list[int],
          seed: int) -> dict[str, Any]:
    log = Log()
    memory: list[tuple[float, int]] = []
    done = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not done.wait(1.0):
            memory.append((time.perf_counter() - t0, tree_rss(pid)))

    threading.Thread(target=sample, daemon=True).start()
    stop = t0 + seconds
    threads = [threading.Thread(target=user, args=(port, seeds, stop, log,
                                                   random.Random(seed * 1000 + i)))
               for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    status = json.loads(request(port, "/api/status")[1])
    return {"users": users, "seconds": round(time.perf_counter() - t0, 1), "times": log.times,
            "errors": log.errors, "memory": memory, "status": status}


# ------------------------------------------------------------------------------ report
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def section(base: dict[str, Any], load: dict[str, Any], runs: int, machine: str,
            loads: tuple[float, float]) -> str:
    lines = [BEGIN, "## Explorer load test (`purgesim serve`)", "",
             f"Generated by `python benchmarks/explorer_load.py` on "
             f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({machine}). One server with its "
             "default 2 worker processes on loopback; the simulated users run in the same "
             f"machine ({load['users']} threads of one Python process), so they take CPU from "
             "the server too. Each user opens the page (plotly.js once), follows the teacher's link, then "
             "moves one of five safeguards to one of a few values at 1:2000, runs, fetches the "
             "view and the report's charts, and waits 1 to 3 s. A *view* or *charts* time is "
             "from the request to the end of its stream: from the cache (the answer was "
             "stored), or computed (the job's wait in the queue and its runs; a user asking "
             "for a link another user's job is computing joins that job).", "",
             f"Load average of the machine (1 minute) before and after: {loads[0]:.1f} and "
             f"{loads[1]:.1f} on {psutil.cpu_count()} cores: other work shared it.", "",
             f"Runs computed in the two phases: {runs}. Baseline: {base['users']} user for "
             f"{base['seconds']} s; load: {load['users']} users for {load['seconds']} s.", "",
             "| request | baseline: n, p50, p95 | load: n, p50, p95 | load p50 / baseline p50 |",
             "|---|---|---|---|"]
    for kind in sorted(load["times"]):
        b, x = base["times"].get(kind, []), load["times"][kind]
        cell_b = f"{len(b)}, {pct(b, 50):.3f} s, {pct(b, 95):.3f} s" if b else "-"
        ratio = f"{pct(x, 50) / pct(b, 50):.1f}x" if b and pct(b, 50) > 0 else "-"
        lines.append(f"| {kind} | {cell_b} | {len(x)}, {pct(x, 50):.3f} s, "
                     f"{pct(x, 95):.3f} s | {ratio} |")
    errors = base["errors"] + load["errors"]
    mem = load["memory"]
    early = [m for t, m in mem if t <= 20] or [0]
    late = [m for t, m in mem if t >= load["seconds"] - 20] or [0]
    gib = 1024 ** 3
    lines += ["", f"Errors (any status but 200, an error event, an exception): {len(errors)}"
              + (": " + "; ".join(errors[:5]) if errors else "."),
              f"Memory of the server and its workers (resident, sampled each second under "
              f"load): {min(m for _, m in mem) / gib:.2f} to {max(m for _, m in mem) / gib:.2f} "
              f"GiB; mean {statistics.mean(early) / gib:.2f} GiB over the first 20 s and "
              f"{statistics.mean(late) / gib:.2f} GiB over the last 20 s.",
              f"Jobs cancelled: {load['status']['cancelled']}; workers replaced: "
              f"{load['status']['workers_replaced']}.", END]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + text.rstrip("\n") + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="print, do not append")
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp))
        try:
            base = phase(port, proc.pid, 1, args.baseline_seconds, [101, 102], 1)
            load = phase(port, proc.pid, args.users, args.seconds, [1, 2], 2)
            import duckdb

            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            with duckdb.connect(str(Path(tmp) / "catalog.duckdb"), read_only=True) as con:
                runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            if proc.poll() is None:
                proc.kill()
    cpu = f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 1024 ** 3:.1f} GiB"
    text = section(base, load, runs, cpu, (before, os.getloadavg()[0]))
    print(text)
    if not args.no_write:
        write_section(text)
    return 1 if base["errors"] or load["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
