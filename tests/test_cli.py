"""Tests of the ``purgesim`` command line (:mod:`purgesim.cli`).

Runs whose stdout must be exactly one JSON object, and refusals that must show no traceback, go
through a real process (``python -m purgesim``) so that stdout and stderr are the real streams;
the rest use Typer's CliRunner, which keeps stdout and stderr apart in this Typer version.
Runs use a coarse scale (1 agent per 5000 people) to stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from purgesim.cli import app
from purgesim.scenario import load_scenario

SCALE = "5000"
YEARS = ["1936", "1937", "1938", "1939"]
TOTALS = {"arrested", "convicted", "cat1", "cat2", "released", "innocent_convicted",
          "died_in_camp", "pending"}
SOURCES = {"named", "denunciation", "remark", "sabotage", "card_file", "family", "elite"}
OPERATIONS = {"ordinary", "kulak_00447", "german_00439", "polish_00485", "harbin_00593",
              "latvian", "other_national", "elite"}
SENTENCES = {"cat1", "cat2", "released"}
EVENT_COLUMNS = ["person", "week", "date", "region", "occupation", "operation", "source",
                 "parent", "generation", "tortured", "confessed", "named", "sentence",
                 "sentence_date", "guilty", "died_date", "released_date", "weight"]
CORE_KEYS = ["arrests", "from_queue", "cat1", "cat2", "innocent_convicted", "released"]

runner = CliRunner()


def purgesim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line in its own process; stdout and stderr captured apart."""
    return subprocess.run([sys.executable, "-m", "purgesim", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def invoke(*args: str):
    return runner.invoke(app, list(args))


def one_json_object(stdout: str) -> dict:
    """stdout holds exactly one JSON object (and a final newline) and nothing else."""
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(stdout)
    assert stdout[end:] in ("", "\n"), f"more than one JSON object on stdout: {stdout[end:]!r}"
    assert isinstance(value, dict)
    return value


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    """One run with --json and --out, shared by the tests of its output."""
    out = tmp_path_factory.mktemp("run") / "results"
    result = purgesim("run", "--scale", SCALE, "--seed", "1", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    return result, out


@pytest.fixture(scope="module")
def summary(run_out):
    return one_json_object(run_out[0].stdout)


# --------------------------------------------------------------------------------------------
# run --json


def test_run_json_is_one_object_with_the_keys(summary):
    assert {"scenario", "scale", "seed", "agents", "weeks", "totals", "by_year", "by_source",
            "innocent_share"} <= summary.keys()
    assert summary["scenario"] == "great-terror"
    assert summary["scale"] == int(SCALE) and summary["seed"] == 1
    assert summary["weeks"] == 169
    assert is_count(summary["agents"]) and summary["agents"] > 0
    assert summary["totals"].keys() >= TOTALS
    assert list(summary["by_year"]) == YEARS
    for year in YEARS:
        assert {"arrested", "convicted", "cat1", "cat2"} <= summary["by_year"][year].keys()
    assert set(summary["by_source"]) == SOURCES


def test_run_json_invariants(summary):
    totals = summary["totals"]
    assert all(is_count(v) for v in totals.values()), totals
    assert totals["arrested"] > 0
    assert totals["convicted"] == totals["cat1"] + totals["cat2"]
    # every arrest ends in a conviction, a release, or is still pending
    assert totals["arrested"] == totals["convicted"] + totals["released"] + totals["pending"]
    assert totals["innocent_convicted"] <= totals["convicted"]
    assert totals["died_in_camp"] <= totals["cat2"]
    assert all(is_count(v) for v in summary["by_source"].values())
    assert sum(summary["by_source"].values()) == totals["arrested"]
    for year in YEARS:
        row = summary["by_year"][year]
        assert all(is_count(v) for v in row.values()), row
        assert row["convicted"] == row["cat1"] + row["cat2"]
    # every arrest falls in one of the years of the run
    assert sum(summary["by_year"][y]["arrested"] for y in YEARS) == totals["arrested"]
    assert sum(summary["by_year"][y]["convicted"] for y in YEARS) <= totals["convicted"]
    assert summary["by_year"]["1938"]["arrested"] > summary["by_year"]["1936"]["arrested"]
    share = summary["innocent_share"]
    assert share is None or (isinstance(share, float | int) and 0.0 <= share <= 1.0)
    if totals["convicted"]:
        assert share == pytest.approx(totals["innocent_convicted"] / totals["convicted"],
                                      abs=1e-6)


def test_run_json_same_seed_is_byte_identical_and_another_seed_differs(run_out):
    first = run_out[0].stdout
    again = purgesim("run", "--scale", SCALE, "--seed", "1", "--json")  # and without --out
    assert again.returncode == 0, again.stderr
    assert again.stdout == first
    other = purgesim("run", "--scale", SCALE, "--seed", "2", "--json")
    assert other.returncode == 0, other.stderr
    data = one_json_object(other.stdout)
    assert data["seed"] == 2
    assert other.stdout != first
    assert data["totals"] != one_json_object(first)["totals"]


def test_run_profile_json_adds_the_phases_and_nothing_else(run_out):
    result = purgesim("run", "--scale", SCALE, "--seed", "1", "--json", "--profile")
    assert result.returncode == 0, result.stderr
    data = one_json_object(result.stdout)
    profile = data.pop("profile")
    assert json.dumps(data) + "\n" == run_out[0].stdout  # the rest is plain --json, byte for byte
    assert list(profile) == ["wall_seconds", "phases"]
    phases = profile["phases"]
    assert list(phases)[0] == "build population" and "sentencing" in phases
    assert all(isinstance(v, float) and v >= 0 for v in phases.values())
    assert sum(phases.values()) <= profile["wall_seconds"]
    assert "time per phase" in result.stderr  # the table is still shown, on stderr
    reps = invoke("run", "--scale", SCALE, "--reps", "2", "--workers", "1", "--json",
                  "--profile")
    assert reps.exit_code == 0, reps.output
    profile = one_json_object(reps.stdout)["profile"]
    assert (profile["workers"], profile["reps"]) == (1, 2) and "build population" in profile[
        "phases"]


def test_run_scenario_file_changes_the_outcome(tmp_path, summary):
    path = tmp_path / "no-stop.toml"
    path.write_text('base = "great-terror"\n[camps]\nenabled = false\n'
                    "[calendar.stop_decree]\nenabled = false\n")
    result = purgesim("run", str(path), "--scale", SCALE, "--seed", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = one_json_object(result.stdout)
    assert data["scenario"] == "no-stop"
    assert data["totals"]["died_in_camp"] == 0
    # without the stop decree the mass operations go on through 1939
    assert data["by_year"]["1939"]["arrested"] > 2 * summary["by_year"]["1939"]["arrested"]


# --------------------------------------------------------------------------------------------
# run (human summary) and run --out


def test_run_human_summary():
    result = invoke("run", "--scale", SCALE, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "great-terror" in result.stdout
    assert "innocent share" in result.stdout
    for year in YEARS:
        assert year in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_run_out_writes_five_files(run_out):
    out = run_out[1]
    assert {p.name for p in out.iterdir()} == {
        "events.parquet", "weekly.parquet", "scenario.toml", "summary.json", "meta.json"}


def test_run_out_summary_is_the_json_summary(run_out, summary):
    assert json.loads((run_out[1] / "summary.json").read_text()) == summary


def test_run_out_events_table(run_out, summary):
    events = pq.read_table(run_out[1] / "events.parquet")
    assert set(EVENT_COLUMNS) <= set(events.column_names)
    assert events.num_rows > 0
    col = {name: events.column(name).to_pylist() for name in EVENT_COLUMNS}
    assert set(col["sentence"]) <= SENTENCES | {None}
    assert set(col["operation"]) <= OPERATIONS
    assert set(col["source"]) <= SOURCES
    assert None not in col["operation"] and None not in col["source"]
    assert sum(col["weight"]) == summary["totals"]["arrested"]
    pending = [w for s, w in zip(col["sentence"], col["weight"], strict=True) if s is None]
    assert sum(pending) == summary["totals"]["pending"]
    start = dt.date(1936, 10, 5)
    for week, date in zip(col["week"], col["date"], strict=True):
        assert date == start + dt.timedelta(weeks=week)
    rows = zip(col["sentence"], col["sentence_date"], col["died_date"], col["released_date"],
               strict=True)
    for sentence, sentenced, died, released in rows:
        assert (sentenced is None) == (sentence is None)
        assert died is None or sentence in ("cat1", "cat2")
        assert sentence != "cat1" or died is not None  # shot
        assert released is None or sentence in ("cat2", "released")


def test_run_out_weekly_table(run_out):
    weekly = pq.read_table(run_out[1] / "weekly.parquet")
    assert {"week", "date", "region"} <= set(weekly.column_names)
    weeks = weekly.column("week").to_pylist()
    assert min(weeks) == 0 and max(weeks) == 168
    regions = set(weekly.column("region").to_pylist())
    assert weekly.num_rows == 169 * len(regions)


def test_run_out_meta(run_out):
    meta = json.loads((run_out[1] / "meta.json").read_text())
    from purgesim import __version__

    assert meta["version"] == __version__
    assert meta["seed"] == 1 and meta["scale"] == int(SCALE)
    assert "git_commit" in meta
    assert meta["wall_seconds"] >= 0


def test_run_out_scenario_round_trips(run_out):
    path = run_out[1] / "scenario.toml"
    assert load_scenario(path) == load_scenario("great-terror", scale=int(SCALE), seed=1)
    result = invoke("check", str(path))
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_run_out_of_a_child_scenario_round_trips(tmp_path):
    path = tmp_path / "child.toml"
    path.write_text('base = "great-terror"\nname = "child"\n[calendar.order_00689]\n'
                    'enabled = false\n[operations.ordinary]\ntargets = ["kulak"]\n')
    out = tmp_path / "out"
    result = invoke("run", str(path), "--scale", SCALE, "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"results written to {out}" in " ".join(result.stdout.split())
    assert load_scenario(out / "scenario.toml") == load_scenario(path, scale=int(SCALE), seed=3)


def test_run_out_onto_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    result = purgesim("run", "--scale", SCALE, "--out", str(target), "--json")
    assert result.returncode != 0
    assert result.stdout == ""
    assert str(target) in result.stderr
    assert_no_traceback(result)


# --------------------------------------------------------------------------------------------
# Bad scenarios are refused before anything runs


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('base = "great-terror"\nscale = 0\n[camps]\nannual_mortality = 1.5\n'
                    '[calendar.coronation]\ndate = 1937-05-12\nbogus = "[/x]"\n')
    return path


def assert_refused(result, path: Path, *expected: tuple[str, ...]) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert_no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "the refusal must say why"
    assert all(str(path) in line for line in lines), lines
    for parts in expected:
        assert any(all(p in line for p in parts) for line in lines), (parts, lines)


def test_run_bad_file_is_refused(bad_file):
    result = purgesim("run", str(bad_file), "--json")
    assert_refused(result, bad_file,
                   ("scale = 0", "greater than or equal to 1"),
                   ("camps.annual_mortality = 1.5", "less than or equal to 1"),
                   ("calendar.coronation", "'coronation'", "stop_decree"),
                   ("calendar.coronation.bogus = '[/x]'", "unknown key"))


def test_check_bad_file_is_refused(bad_file):
    result = purgesim("check", str(bad_file))
    assert_refused(result, bad_file, ("scale = 0",), ("camps.annual_mortality = 1.5",))


@pytest.mark.parametrize("text, expected", [
    ("base = \"great-terror\"\nscale = = 3\n", ("not valid TOML",)),
    ("base = \"missing.toml\"\n", ("base = 'missing.toml'", "no such file")),
    ("base = \"bad.toml\"\n", ("base = 'bad.toml'", "loops back")),
    ("base = \"great-terror\"\nend = 1936-01-05\n", ("end = 1936-01-05", "start")),
    ("base = \"great-terror\"\n[operations.swedish]\nrate = 1.0\n",
     ("operations.swedish", "kulak_00447")),
])
def test_run_refuses_each_kind_of_bad_file(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = invoke("run", str(path), "--scale", SCALE, "--json")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert str(path) in result.stderr
    assert any(all(p in line for p in expected) for line in result.stderr.splitlines()), \
        result.stderr


def test_run_unknown_scenario_name():
    result = invoke("run", "grate-terror", "--json")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "grate-terror" in result.stderr and "great-terror" in result.stderr


def test_run_bad_options_are_refused():
    result = invoke("run", "--scale", "0", "--seed", "-1", "--json")
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "scale = 0" in result.stderr
    assert "seed = -1" in result.stderr


# --------------------------------------------------------------------------------------------
# check, scenarios, core, order


def test_check_shipped_and_file(tmp_path):
    result = invoke("check", "great-terror")
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout and "great-terror" in result.stdout
    path = tmp_path / "mine.toml"
    path.write_text('base = "great-terror"\nscale = 250\n')
    result = invoke("check", str(path))
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout and "1:250" in result.stdout
    assert result.stderr == ""


def test_check_without_argument_is_a_usage_error():
    result = invoke("check")
    assert result.exit_code != 0


def test_scenarios_lists_the_shipped_ones():
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    assert "great-terror" in result.stdout


def test_core_json():
    args = ("core", "--n", "100000", "--weeks", "20", "--seed", "0", "--json")
    result = purgesim(*args)
    assert result.returncode == 0, result.stderr
    data = one_json_object(result.stdout)
    assert list(data) == CORE_KEYS
    assert all(is_count(v) for v in data.values()), data
    assert data["arrests"] > 0
    assert data["from_queue"] <= data["arrests"]
    assert data["cat1"] + data["cat2"] + data["released"] <= data["arrests"]
    assert data["innocent_convicted"] <= data["cat1"] + data["cat2"]
    assert invoke(*args).stdout == result.stdout  # same seed, same bytes


def test_core_table():
    result = invoke("core", "--n", "20000", "--weeks", "5")
    assert result.exit_code == 0, result.output
    assert "arrests" in result.stdout


def test_order_prints_the_weekly_loop():
    result = invoke("order")
    assert result.exit_code == 0, result.output
    text = result.stdout
    steps = ["centre", "operations", "interrogation", "sentencing", "camps", "aftermath"]
    positions = [text.find(step) for step in steps]
    assert all(p >= 0 for p in positions), text
    assert positions == sorted(positions), text


def test_no_arguments_shows_help():
    result = invoke()
    assert "run" in result.output and "check" in result.output


# --------------------------------------------------------------------------------------------
# a quick command loads nothing heavy

CHECK_AND_LIST_MODULES = """
import sys
from purgesim.cli import main
sys.argv = ["purgesim", "check", "great-terror"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print("modules:", ",".join(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def check_modules() -> set[str]:
    """The modules loaded by a process that ran `purgesim check` and nothing else."""
    done = subprocess.run([sys.executable, "-c", CHECK_AND_LIST_MODULES], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ok: great-terror is a valid scenario" in done.stdout
    return set(done.stdout.strip().splitlines()[-1].removeprefix("modules: ").split(","))


def test_check_loads_no_plotly_and_no_pyarrow(check_modules):
    assert not {m for m in check_modules if m.split(".")[0] in ("plotly", "kaleido")}
    assert not {m for m in check_modules if m.split(".")[0] in ("pyarrow", "duckdb")}


def test_check_loads_no_numba(check_modules):
    assert not {m for m in check_modules if m.split(".")[0] in ("numba", "llvmlite")}
