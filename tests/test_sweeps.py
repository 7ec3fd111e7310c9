"""Sweeps (:mod:`purgesim.sweeps`): design configs refused before anything runs, the design's
points, and exact resumption: a sweep killed with SIGKILL (the client and its Dask workers)
and rerun gives the same rows as an uninterrupted one.

Designs are tiny and coarse (1 agent per 10,000 people, a few points) to stay fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from purgesim.cli import app
from purgesim.scenario import ScenarioError
from purgesim.sweeps import figures, load_config, read_results, store, sweep
from purgesim.sweeps.design import codes

runner = CliRunner()

TINY = """\
scale = 10000
seeds = [1, 2]
[design]
method = "sobol"
samples = 2
[parameters."interrogation.torture"]
levels = [true, false]
[parameters."calendar.stop_decree.date"]
weeks = [45, 111]
"""


def write(tmp_path: Path, text: str, name: str = "design.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def purgesim(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "purgesim", *args], capture_output=True,
                          text=True, timeout=300, **kwargs)


# --------------------------------------------------------------------------------------------
# configs

@pytest.mark.parametrize(("change", "expected"), [
    ('[parameters."interrogation.tortur"]\nlevels = [true, false]\n',
     "parameters.interrogation.tortur = true: "),
    ('[parameters."economy.blame_probability"]\nrange = [0.0, 1.5]\n',
     "parameters.economy.blame_probability = 1.5: "),
    ('[parameters."economy.blame_probability"]\nweeks = [1, 5]\n',
     "economy.blame_probability is not a date"),
    ('[parameters."calendar.order_00447.date"]\nweeks = [10, 500]\n',
     "allowed: weeks from 0 to 168"),
    ('[parameters."sentencing.court"]\nlevels = ["troika", "jury"]\n',
     "parameters.sentencing.court = \"jury\": "),
    ('[parameters."sentencing.court"]\nlevels = ["troika", 1]\n', "allowed: levels of one type"),
    ('[parameters."seed"]\nrange = [1, 5]\n', "parameters.seed: allowed: a scenario path"),
])
def test_a_bad_parameter_is_refused_in_one_line_before_anything_runs(tmp_path, change, expected):
    path = write(tmp_path, TINY + change)
    out = tmp_path / "out"
    result = purgesim("sweep", str(path), "--out", str(out), "--workers", "1")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(path) in lines[0] and expected in lines[0], lines[0]
    assert not out.exists()


def test_design_problems_name_the_field(tmp_path):
    text = TINY.replace("samples = 2", "samples = 6")
    with pytest.raises(ScenarioError) as exc:
        load_config(write(tmp_path, text))
    assert exc.value.problems == [
        f"{tmp_path / 'design.toml'}: design: samples = 6: allowed: a power of 2 of at least 2 "
        "(such as 8, 64, 256) for sobol"]
    grid = TINY.replace('method = "sobol"\nsamples = 2', 'method = "grid"')
    with pytest.raises(ScenarioError, match="a grid needs steps"):
        load_config(write(tmp_path, grid))


def test_shipped_designs_are_valid_and_listed():
    result = runner.invoke(app, ["sweeps"])
    assert result.exit_code == 0
    for name in ("smoke", "safeguards"):
        assert name in result.stdout
        label, config, base, specs = load_config(name)
        assert config.design.method == "sobol" and len(specs) == len(config.parameters)


def test_sobol_points_keep_every_level_in_range_and_are_reproducible(tmp_path):
    _, config, base, specs = load_config("safeguards", samples=8)
    first, again = codes(config, specs), codes(config, specs)
    n = 8 * (len(specs) + 2)
    for spec in specs:
        values = first[spec.name]
        assert len(values) == n and np.array_equal(values, again[spec.name])
        if spec.kind == "levels":
            assert set(values) == set(range(spec.count))
        else:
            assert spec.low <= values.min() and values.max() <= spec.high
    # in each block of D + 2 rows, the rows A_B(i) differ from A in column i alone
    a, block = 0, len(specs) + 2
    for i in range(len(specs)):
        others = [s.name for j, s in enumerate(specs) if j != i]
        assert all(first[o][a] == first[o][a + 1 + i] for o in others)
    assert block == 11


def test_grid_has_every_combination(tmp_path):
    text = TINY.replace('method = "sobol"\nsamples = 2', 'method = "grid"').replace(
        "weeks = [45, 111]", "weeks = [45, 111]\nsteps = 3")
    _, config, _, specs = load_config(write(tmp_path, text))
    design = codes(config, specs)
    pairs = set(zip(design["interrogation.torture"], design["calendar.stop_decree.date"],
                    strict=True))
    assert pairs == {(t, w) for t in (0, 1) for w in (45, 78, 111)}


def test_figures_keep_nulls_and_drop_lists_strings_and_the_seed():
    flat = figures({"scenario": "x", "seed": 3, "scale": 10, "totals": {"arrested": 5},
                    "reproduction": {"r": [0.1], "peak": None, "peak_date": "1937-01-04"},
                    "innocent_share": 0.5})
    assert flat == {"scale": 10, "totals.arrested": 5, "reproduction.peak": None,
                    "innocent_share": 0.5}


# --------------------------------------------------------------------------------------------
# resumption

@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The tiny design run to the end in this process."""
    folder = tmp_path_factory.mktemp("sweep") / "A"
    path = write(folder.parent, TINY)
    label, config, base, specs = load_config(path)
    outcome = sweep(config, base, specs, folder, label=label, workers=1)
    assert outcome.complete and outcome.ran == 16
    return path, folder


def test_rows_are_keyed_with_parameters_and_figures(uninterrupted):
    _, folder = uninterrupted
    rows = read_results(folder)
    keys = list(zip(rows["sample"].to_pylist(), rows["seed"].to_pylist(), strict=True))
    assert keys == [(s, seed) for s in range(8) for seed in (1, 2)]
    for name in ("interrogation.torture", "calendar.stop_decree.date", "totals.arrested",
                 "totals.cat1", "innocent_share", "reproduction.peak", "economy.output_loss"):
        assert name in rows.column_names
    assert not {"seconds", "host", "pid"} & set(rows.column_names)
    torture = rows["interrogation.torture"].to_pylist()
    assert set(torture) == {True, False}
    assert len((folder / store.LOG).read_text().splitlines()) == 16


def test_killed_sweep_resumes_to_the_same_rows(uninterrupted, tmp_path):
    """SIGKILL to the whole process group (the client, its local scheduler, its Dask
    workers) once the first rows are committed; a leftover temporary file; then the same
    command again."""
    path, folder = uninterrupted
    target = tmp_path / "B"
    args = [sys.executable, "-m", "purgesim", "sweep", str(path), "--out", str(target),
            "--workers", "2"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while not store.parts(target) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    committed = len(store.done_keys(target))
    assert 0 < committed < 16, f"{committed} rows committed before the kill"
    (target / store.RESULTS / ".part-000099.parquet.half").write_bytes(b"PAR1 half a file")

    resumed = purgesim("sweep", str(path), "--out", str(target), "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{committed} rows were there, {16 - committed} runs now" in resumed.stdout
    assert not list((target / store.RESULTS).glob(".*"))
    assert read_results(target).equals(read_results(folder))
    again = purgesim("sweep", str(path), "--out", str(target), "--workers", "1")
    assert "0 runs now; 16 of 16 rows" in again.stdout


def test_another_config_on_the_same_folder_is_refused(uninterrupted, tmp_path):
    path, folder = uninterrupted
    before = sorted(p.name for p in store.parts(folder))
    changed = write(tmp_path, TINY.replace("seeds = [1, 2]", "seeds = [1, 3]"))
    result = purgesim("sweep", str(changed), "--out", str(folder), "--workers", "1")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds a sweep of another config" in lines[0], result.stderr
    assert sorted(p.name for p in store.parts(folder)) == before


def test_every_part_file_is_complete_parquet(uninterrupted):
    _, folder = uninterrupted
    for part in store.parts(folder):
        assert pq.read_metadata(part).num_rows > 0
