"""Ensembles (:mod:`purgesim.ensemble`) and `purgesim run --reps`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import purgesim as ps
from purgesim.catalog import Catalog
from purgesim.cli import app
from purgesim.ensemble import aggregate, run_ensemble, seeds_for, spread

SCALE = 5000
runner = CliRunner()


def one_json(stdout: str) -> dict:
    value, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:] in ("", "\n")
    return value


# --------------------------------------------------------------------------------------------
# aggregation


def test_spread_is_mean_and_90_percent_interval():
    values = list(range(1, 101))
    s = spread(values)
    assert s["mean"] == pytest.approx(50.5)
    assert s["p05"] == pytest.approx(np.percentile(values, 5))
    assert s["p95"] == pytest.approx(np.percentile(values, 95))
    assert spread([None, 2, None, 4]) == {"mean": 3.0, "p05": 2.1, "p95": 3.9}
    assert spread([None, None]) == {"mean": None, "p05": None, "p95": None}


def test_aggregate_keeps_the_shape_of_a_summary():
    runs = [
        {"scenario": "x", "scale": 100, "seed": 1, "weeks": 3, "totals": {"a": 1, "b": None},
         "r": [0.1, None], "dates": ["1937-01-04", "1937-02-01"], "peak_date": "1937-01-04",
         "flag": True},
        {"scenario": "x", "scale": 100, "seed": 2, "weeks": 3, "totals": {"a": 3, "b": None},
         "r": [0.3, 0.2], "dates": ["1937-01-04", "1937-02-01"], "peak_date": "1937-02-01",
         "flag": True},
    ]
    agg = aggregate(runs)
    assert list(agg) == ["scenario", "scale", "seeds", "reps", "weeks", "totals", "r", "dates",
                         "peak_date", "flag"]
    assert (agg["scenario"], agg["scale"], agg["weeks"]) == ("x", 100, 3)
    assert agg["seeds"] == [1, 2] and agg["reps"] == 2
    assert agg["totals"]["a"] == {"mean": 2.0, "p05": 1.1, "p95": 2.9}
    assert agg["totals"]["b"] == {"mean": None, "p05": None, "p95": None}
    assert agg["r"][0]["mean"] == pytest.approx(0.2) and agg["r"][1]["mean"] == 0.2
    assert agg["dates"] == ["1937-01-04", "1937-02-01"]
    assert agg["peak_date"] == {"values": ["1937-01-04", "1937-02-01"]}
    assert agg["flag"] is True


def test_seeds_follow_the_first():
    assert seeds_for(7, 3) == [7, 8, 9]


# --------------------------------------------------------------------------------------------
# running


@pytest.fixture(scope="module")
def scenario():
    return ps.load_scenario("great-terror", scale=SCALE)


@pytest.fixture(scope="module")
def one_process(scenario):
    return run_ensemble(scenario, [1, 2, 3], workers=1)


def test_each_rep_is_the_run_of_its_seed(scenario, one_process):
    assert one_process.seeds == [1, 2, 3]
    for rep in one_process.reps:
        assert rep.summary == ps.run(scenario, seed=rep.seed).summary()
    arrested = [r.summary["totals"]["arrested"] for r in one_process.reps]
    assert one_process.summary["totals"]["arrested"] == spread(arrested)


def test_the_result_does_not_depend_on_the_number_of_workers(scenario, one_process):
    started, finished = [], []
    two = run_ensemble(scenario, [1, 2, 3], workers=2,
                       on_start=lambda seed, where: started.append(seed),
                       on_done=lambda rep: finished.append(rep.seed))
    assert json.dumps(two.summary) == json.dumps(one_process.summary)
    assert started == [1, 2, 3] and sorted(finished) == [1, 2, 3]


def test_a_failing_rep_stops_the_ensemble(scenario, monkeypatch):
    from purgesim import ensemble

    def boom(sc, seed, out_dir=None, meta=None):
        if seed == 2:
            raise RuntimeError("boom")
        return real(sc, seed, out_dir, meta)

    real = ensemble.run_rep
    monkeypatch.setattr(ensemble, "run_rep", boom)
    failed = []
    with pytest.raises(ensemble.RepFailed, match="seed 2: RuntimeError: boom"):
        run_ensemble(scenario, [1, 2, 3], workers=1,
                     on_failed=lambda seed, exc: failed.append(seed))
    assert failed == [2]


# --------------------------------------------------------------------------------------------
# the command line


def test_run_reps_json_out_and_catalog(catalog, tmp_path, one_process):
    out = tmp_path / "ens"
    done = subprocess.run(
        [sys.executable, "-m", "purgesim", "run", "--scale", str(SCALE), "--seed", "1",
         "--reps", "3", "--workers", "2", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = one_json(done.stdout)
    assert data == json.loads(json.dumps(one_process.summary))
    assert data["seeds"] == [1, 2, 3] and data["reps"] == 3
    assert set(data["totals"]["arrested"]) == {"mean", "p05", "p95"}
    # one folder per seed, as `run --out` writes it, and the ensemble's summary
    assert {p.name for p in out.iterdir()} == {"seed-1", "seed-2", "seed-3", "summary.json",
                                               "meta.json"}
    assert (out / "summary.json").read_text() == done.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seeds"] == [1, 2, 3] and meta["workers"] == 2
    for seed in (1, 2, 3):
        rep = out / f"seed-{seed}"
        assert {p.name for p in rep.iterdir()} == {"events.parquet", "weekly.parquet",
                                                   "scenario.toml", "meta.json", "summary.json"}
        assert json.loads((rep / "meta.json").read_text())["run_id"] == meta["run_ids"][str(seed)]
        assert ps.load_scenario(rep / "scenario.toml").seed == seed
    # the catalog: one complete row per rep, written by the parent, sharing the ensemble id
    rows = sorted(Catalog().runs(), key=lambda r: r["seed"])
    assert [r["seed"] for r in rows] == [1, 2, 3]
    assert {r["status"] for r in rows} == {"complete"}
    assert {r["ensemble"] for r in rows} == {meta["ensemble"]}
    assert [r["out_dir"] for r in rows] == [str((out / f"seed-{s}").resolve()) for s in (1, 2, 3)]
    assert [r["run_id"] for r in rows] == [meta["run_ids"][str(s)] for s in (1, 2, 3)]
    assert [r["summary"] for r in rows] == [r.summary for r in one_process.reps]


def test_run_reps_human_summary_shows_intervals(one_process):
    result = runner.invoke(app, ["run", "--scale", str(SCALE), "--seed", "1", "--reps", "3",
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "mean (90% interval) over 3 seeds (1..3)" in text
    arrested = one_process.summary["totals"]["arrested"]
    assert f"{arrested['mean']:,.0f} (" in text
    assert "innocent share of the convicted" in text


def test_run_reps_one_is_a_plain_run():
    a = runner.invoke(app, ["run", "--scale", str(SCALE), "--seed", "2", "--reps", "1",
                            "--json"])
    b = runner.invoke(app, ["run", "--scale", str(SCALE), "--seed", "2", "--json"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert one_json(a.stdout)["seed"] == 2
