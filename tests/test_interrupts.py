"""Ctrl-C (SIGINT to the command's whole process group, as a terminal sends it) on the long
commands: exit code 130, no traceback from the command or its worker processes, and one last
line saying what was kept and how to go on; rerunning the same command then goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from purgesim.catalog import Catalog

TINY_CALIBRATION = """
scenario = "great-terror"
scale = 5000
seeds = [1]
targets = ["convicted_cr_total_1937", "death_sentences_cr_1937"]
[parameters]
"nkvd.sweep_capacity_per_million" = [100.0, 450.0]
"operations.kulak_00447.cat1_share" = [0.3, 0.7]
[abc]
population_size = 4
generations = 3
seed = 1
"""


def interrupted(args: list[str], ready: Callable[[], bool], cwd: Path,
                timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Start ``purgesim ARGS`` in its own process group, wait until ``ready()``, then send
    SIGINT to the whole group, as Ctrl-C in a terminal does."""
    # A shell without job control starts background commands with SIGINT ignored, and the
    # command would inherit that through pytest (a suite run with `&` saw exit 0 everywhere).
    # A signal caught here is reset to its default at exec, as a terminal's foreground command
    # has it (not preexec_fn, which can deadlock when the test process has threads).
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = subprocess.Popen([sys.executable, "-m", "purgesim", *args], cwd=cwd,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert child.poll() is None, f"finished before the interrupt: {child.stderr.read()}"
            assert time.monotonic() < deadline, "never got ready"
            time.sleep(0.1)
        os.killpg(child.pid, signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def assert_one_line(done: subprocess.CompletedProcess[str], *parts: str) -> str:
    # 130, or killed by SIGINT itself (Python does so when a C extension saw the interrupt
    # first): a shell reports both as 130
    assert done.returncode in (130, -signal.SIGINT), done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, \
        done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and all(p in last for p in parts), last
    assert sum(line.startswith("interrupted:") for line in done.stderr.splitlines()) == 1
    return last


def running(catalog: Path) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return any(r["status"] == "running" for r in Catalog(catalog).runs())
        except Exception:  # the run holds the file this instant
            return False
    return check


def test_ctrl_c_on_a_run(catalog, tmp_path):
    done = interrupted(["run", "--scale", "300", "--out", "runs/x"], running(catalog), tmp_path)
    assert_one_line(done, "nothing was written", "rerun the same command")
    (row,) = Catalog(catalog).runs()
    assert row["status"] == "failed" and row["error"] == "interrupted"
    assert not (tmp_path / "runs" / "x" / "meta.json").exists()


@pytest.mark.parametrize("after", [0.1, 0.2, 0.3, 0.4, 0.5])
def test_ctrl_c_while_the_command_line_loads(catalog, tmp_path, after):
    # Loading the command line takes about half a second on the development machine; Ctrl-C
    # anywhere in it (importing, Typer building the commands) is one line too. (Before Python
    # has imported its own site packages, ~30 ms, nothing of purgesim runs yet.)
    start = time.monotonic()
    done = interrupted(["run", "--scale", "1000", "--out", "runs/x"],
                       lambda: time.monotonic() - start >= after, tmp_path)
    assert_one_line(done, "nothing was")
    assert not (tmp_path / "runs" / "x" / "meta.json").exists()


def test_ctrl_c_on_an_ensemble_keeps_finished_seeds_and_the_rerun_reuses_them(catalog,
                                                                             tmp_path):
    out = tmp_path / "ens"
    args = ["run", "--scale", "1000", "--reps", "4", "--workers", "2", "--out", str(out),
            "--json"]
    done = interrupted(args, lambda: (out / "seed-1" / "meta.json").exists(), tmp_path)
    assert_one_line(done, f"are kept in {out}/seed-N", "finished seeds are reused")
    kept = [p.name for p in out.iterdir() if (p / "meta.json").exists()]
    assert "seed-1" in kept
    again = subprocess.run([sys.executable, "-m", "purgesim", *args], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"reusing {len(kept)} seed" in again.stderr
    assert json.loads(again.stdout)["seeds"] == [1, 2, 3, 4]


@pytest.mark.parametrize("workers", ["2"])
def test_ctrl_c_on_a_calibration_on_dask_prints_no_worker_traceback(tmp_path, workers):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CALIBRATION, encoding="utf-8")
    out = tmp_path / "cal"
    started = {}

    def sampling() -> bool:  # the cluster is up and the first generation under way
        if (out / "calibration.db").exists():
            started.setdefault("at", time.monotonic())
        return "at" in started and time.monotonic() - started["at"] > 3

    done = interrupted(["calibrate", str(config), "--out", str(out), "--workers", workers],
                       sampling, tmp_path)
    assert_one_line(done, "kept in", "calibration.db", "rerun the same command to resume")
