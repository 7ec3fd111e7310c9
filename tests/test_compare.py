"""Common random numbers across scenarios, and `purgesim compare`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import purgesim as ps
from purgesim.compare import METRICS, compare

SCALE = 2000


def same_events(a: ps.Result, b: ps.Result) -> bool:
    return all(np.array_equal(a.columns[k], b.columns[k]) for k in a.columns)


@pytest.mark.parametrize("off, silent", [
    ({"families__enabled": False},
     {"families__wife_arrest_probability": 0.0, "families__hostage_rate": 0.0}),
    ({"camps__enabled": False}, {"camps__annual_mortality": 0.0}),
    ({"purgers__enabled": False}, {"purgers__weekly_share": 0.0,
                                   "purgers__weekly_share_after": 0.0}),
])
def test_a_mechanism_switched_off_or_never_firing_changes_no_other_draw(off, silent):
    """Switching a mechanism off, and leaving it on with nothing to do, give identical event
    tables: neither changes any other mechanism's random numbers."""
    for seed in (1, 2):
        a = ps.run("great-terror", scale=SCALE, seed=seed, **off)
        b = ps.run("great-terror", scale=SCALE, seed=seed, **silent)
        assert same_events(a, b)


def test_compare_runs_each_scenario_on_the_same_seeds():
    result = compare(["great-terror", "courts"], seeds=[1, 2], scale=SCALE)
    assert result["seeds"] == [1, 2]
    gt, courts = result["scenarios"]["great-terror"], result["scenarios"]["courts"]
    assert len(gt["runs"]) == 2 and set(gt["mean"]) == {k for k, _ in METRICS}
    # the same seeds: identical arrests up to the first sentence, so the same early arrests
    assert gt["mean"]["convicted"] > 3 * courts["mean"]["convicted"]
    # a mean is the mean of its runs
    assert gt["mean"]["arrested"] == pytest.approx(np.mean([r["arrested"] for r in gt["runs"]]))


def test_compare_gives_the_same_result_on_two_processes():
    one = compare(["great-terror", "no-torture"], seeds=[1, 2], scale=SCALE, workers=1)
    two = compare(["great-terror", "no-torture"], seeds=[1, 2], scale=SCALE, workers=2)
    assert one == two


def test_compare_command_prints_one_json_object():
    done = subprocess.run(
        [sys.executable, "-m", "purgesim", "compare", "great-terror", "no-torture",
         "--scale", str(SCALE), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["scenarios"]) == {"great-terror", "no-torture"}


def test_compare_refuses_a_bad_scenario_before_running(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "great-terror"\nscale = 0\n')
    done = subprocess.run([sys.executable, "-m", "purgesim", "compare", "great-terror", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "scale" in done.stderr and "Traceback" not in done.stderr


def test_every_shipped_counterfactual_differs_from_great_terror_only_where_named():
    import tomllib
    from importlib import resources

    for entry in resources.files("purgesim.scenarios").iterdir():
        if not entry.name.endswith(".toml") or entry.name == "great-terror.toml":
            continue
        data = tomllib.loads(entry.read_text())
        assert data.pop("base") == "great-terror"
        data.pop("name"), data.pop("description")
        # one to three sections change; bottom-up-only is every channel from the top off
        # (MODEL.md section 5: limits and sweeps, the lists at the top, the hostage policy, the
        # sabotage campaign), so it names each of them
        most = 6 if entry.name == "bottom-up-only.toml" else 3
        assert 1 <= len(data) <= most, entry.name
        ps.load_scenario(entry.name[:-5])
