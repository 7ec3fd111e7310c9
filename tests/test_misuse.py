"""What a careless or hostile user can do with the command line, and what must not follow
(issue 18): `sql` writes nothing; one run per output folder; no command writes over a run's own
files; stale temporary files go; a usage error is one line with the bad value; printed names
cannot carry terminal controls; narrow terminals cut no numbers.

Runs use a coarse scale; every test uses its own catalog (conftest's ``catalog``)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from purgesim.catalog import Catalog
from purgesim.cli import app
from purgesim.files import atomic_write_text, remove_stale_temporaries, temporary_prefix

SCALE = "5000"
runner = CliRunner()


def purgesim(*args: str, cwd: Path | None = None, env: dict | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "purgesim", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


def run_into(out: Path, *extra: str):
    return runner.invoke(app, ["run", "--scale", SCALE, "--out", str(out), "--json", *extra])


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file()}


def sql(query: str) -> tuple[int, str, str]:
    done = runner.invoke(app, ["sql", query, "--json"])
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture
def gt(catalog, tmp_path, monkeypatch) -> Path:
    """A cataloged run in ./runs/gt (the working directory is a fresh folder)."""
    monkeypatch.chdir(tmp_path)
    done = run_into(Path("runs/gt"))
    assert done.exit_code == 0, done.output
    return tmp_path / "runs" / "gt"


# --------------------------------------------------------------------------------------------
# sql: safe by construction


@pytest.mark.parametrize("statement", [
    "COPY (SELECT 1 AS x) TO 'runs/gt/events.parquet' (FORMAT parquet)",
    "COPY runs TO 'runs/gt/copied.csv'",
    "EXPORT DATABASE 'exported'",
    "ATTACH 'other.duckdb' AS other",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "CREATE TABLE t AS SELECT 1",
    "DELETE FROM runs",
    "SELECT 1; COPY (SELECT 1) TO 'two.csv'",
])
def test_sql_writes_nothing(gt, statement):
    before = digest(gt)
    code, stdout, stderr = sql(statement)
    assert code == 1 and stdout == "" and stderr.startswith("error: ")
    assert len(stderr.strip().splitlines()) == 1 and "read" in stderr
    assert digest(gt) == before
    assert sorted(p.name for p in gt.parent.parent.iterdir()
                  if not p.name.startswith("catalog.duckdb")) == ["runs"]
    assert len(Catalog().runs()) == 1


def test_sql_reads_nothing_but_the_catalog_and_the_runs(gt):
    code, _, stderr = sql("SELECT * FROM read_csv('/etc/passwd')")
    assert code == 1 and "disabled" in stderr
    code, _, stderr = sql("SELECT * FROM read_text('runs/gt/../../../../etc/hostname')")
    assert code == 1


def test_the_readmes_queries_still_work(gt):
    summary = json.loads((gt / "summary.json").read_text())
    queries = {
        "per scenario": "SELECT scenario, count(*) AS runs, round(avg(arrested)) AS arrested, "
                        "round(quantile_cont(arrested, 0.05)) AS p05 FROM runs WHERE status = "
                        "'complete' GROUP BY scenario ORDER BY scenario",
        "summary json": "SELECT seed, summary->>'$.reproduction.peak' AS peak_r FROM runs "
                        "WHERE scenario = 'great-terror' AND status = 'complete' ORDER BY seed",
        "events view": "SELECT strftime(date, '%Y-%m') AS month, round(sum(weight) / (SELECT "
                       "count(DISTINCT run_id) FROM events)) AS named_per_run FROM events "
                       "WHERE source = 'named' GROUP BY month ORDER BY month",
        "by path": "SELECT source, sum(weight) AS people FROM "
                   "read_parquet('runs/gt/events.parquet') GROUP BY source ORDER BY people DESC",
        "weekly": "SELECT count(*) AS rows FROM weekly",
    }
    for name, query in queries.items():
        code, stdout, stderr = sql(query)
        assert code == 0, (name, stderr)
        assert json.loads(stdout)["rows"], name
    code, stdout, _ = sql("SELECT sum(people)::BIGINT AS n FROM (SELECT sum(weight) AS people "
                          "FROM read_parquet('runs/gt/events.parquet') GROUP BY source)")
    assert json.loads(stdout)["rows"] == [{"n": summary["totals"]["arrested"]}]


# --------------------------------------------------------------------------------------------
# one run per output folder


def test_a_second_run_into_a_used_folder_is_refused_and_force_replaces_it(gt):
    before = digest(gt)
    second = run_into(gt, "--seed", "2")
    assert second.exit_code == 2 and second.stdout == ""
    assert "holds a run of great-terror, seed 1 already" in second.stderr
    assert "--force" in second.stderr and digest(gt) == before
    assert len(Catalog().runs()) == 1, "refused before it registered"
    (gt / "report.html").write_text("old report")
    forced = run_into(gt, "--seed", "2", "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads((gt / "meta.json").read_text())["seed"] == 2
    assert not (gt / "report.html").exists(), "the old run's report went with it"
    new, old = Catalog().runs()
    assert new["shown_status"] == "complete" and old["shown_status"] == "replaced"
    assert old["replaced_by"] == new["run_id"]
    assert [r["run_id"] for r in Catalog().runs(status="replaced")] == [old["run_id"]]
    # the views count the folder once, for the run that wrote it
    code, stdout, _ = sql("SELECT run_id, count(*) AS n FROM events GROUP BY run_id")
    (row,) = json.loads(stdout)["rows"]
    events = duckdb.sql(f"SELECT count(*) FROM read_parquet('{gt / 'events.parquet'}')")
    assert row == {"run_id": new["run_id"], "n": events.fetchall()[0][0]}


def test_a_folder_claimed_twice_in_an_old_catalog_counts_once(gt, catalog):
    """A catalog written before runs were refused a used folder may hold two complete rows
    for one folder: the views take the one its meta.json names, once."""
    (row,) = Catalog().runs()
    with duckdb.connect(str(catalog)) as con:
        con.execute("INSERT INTO runs SELECT * REPLACE ('aaaaaaaaaaaa' AS run_id, started - "
                    "INTERVAL 1 HOUR AS started) FROM runs")
    assert len(Catalog().runs()) == 2
    code, stdout, _ = sql("SELECT run_id, count(*) AS n FROM weekly GROUP BY run_id")
    (only,) = json.loads(stdout)["rows"]
    assert only["run_id"] == row["run_id"]


def test_an_ensemble_resumes_in_its_folder_and_refuses_when_done(catalog, tmp_path):
    out = tmp_path / "ens"
    whole = runner.invoke(app, ["run", "--scale", SCALE, "--reps", "3", "--workers", "1",
                                "--json"])
    assert whole.exit_code == 0, whole.output
    # an interrupted ensemble: seed 1 finished, the others never started
    first = runner.invoke(app, ["run", "--scale", SCALE, "--seed", "1", "--out",
                                str(out / "seed-1"), "--json"])
    assert first.exit_code == 0
    resumed = runner.invoke(app, ["run", "--scale", SCALE, "--reps", "3", "--workers", "1",
                                  "--out", str(out), "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert "reusing 1 seed " in resumed.stderr
    assert resumed.stdout == whole.stdout, "a resumed ensemble is the uninterrupted one"
    again = runner.invoke(app, ["run", "--scale", SCALE, "--reps", "3", "--out", str(out)])
    assert again.exit_code == 2 and "an ensemble of great-terror" in again.stderr
    # a seed folder of another scenario is not reused but refused
    other = tmp_path / "other"
    runner.invoke(app, ["run", "courts", "--scale", SCALE, "--out", str(other / "seed-1")])
    mixed = runner.invoke(app, ["run", "--scale", SCALE, "--reps", "2", "--out", str(other)])
    assert mixed.exit_code == 2 and "courts" in mixed.stderr and "seed-1" in mixed.stderr


# --------------------------------------------------------------------------------------------
# no command writes over a run's own files


@pytest.mark.parametrize("args", [
    ["export", "{run}", "--graph", "{run}/events.parquet"],
    ["export", "{run}", "--edges", "{run}/weekly.parquet"],
    ["export", "{run}", "--graph", "{run}/meta.json"],
    ["report", "{run}", "--output", "{run}/summary.json"],
    ["compare", "great-terror", "--scale", "20000", "--report", "{run}/scenario.toml"],
])
def test_no_command_writes_over_a_runs_own_files(gt, args):
    before = digest(gt)
    done = runner.invoke(app, [a.format(run=gt) for a in args])
    assert done.exit_code == 2 and "a file of the run in" in done.stderr
    assert digest(gt) == before
    code, stdout, _ = sql("SELECT count(*) AS n FROM events")
    assert code == 0 and json.loads(stdout)["rows"][0]["n"] > 0


def test_report_into_the_run_folder_is_still_allowed(gt):
    done = runner.invoke(app, ["export", str(gt), "--edges", str(gt / "edges.parquet")])
    assert done.exit_code == 0, done.output


# --------------------------------------------------------------------------------------------
# files left by a writer killed outright


def test_temporary_files_of_dead_writers_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "events.parquet"
    atomic_write_text(target, "x")
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    stale = tmp_path / (temporary_prefix(target, dead) + "abc123")
    stale.write_bytes(b"")
    live = tmp_path / (temporary_prefix(target, os.getpid()) + "def456")
    live.write_bytes(b"")
    other = tmp_path / (temporary_prefix(tmp_path / "weekly.parquet", dead) + "ghi789")
    other.write_bytes(b"")
    atomic_write_text(target, "y")
    assert not stale.exists(), "a dead writer's temporary file is removed"
    assert live.exists(), "a live writer's is left alone"
    assert other.exists(), "only the temporaries of the file being written"
    assert remove_stale_temporaries(tmp_path / "weekly.parquet") == [other]
    assert target.read_text() == "y"


def test_a_run_killed_while_writing_leaves_nothing_the_next_run_keeps(catalog, tmp_path):
    """A writer killed between creating its temporary file and renaming it (SIGKILL: no
    cleanup runs) leaves a 0-byte file; rerunning into the folder removes it."""
    out = tmp_path / "killed"
    code = (
        "import os, signal, sys\n"
        "from purgesim import files\n"
        "def die(tmp): open(tmp, 'wb').close(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "files.atomic_write(os.path.join(sys.argv[1], 'events.parquet'), die)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(out)], timeout=60)
    assert killed.returncode == -9
    (left,) = [p for p in out.iterdir()]
    assert left.name.startswith(".events.parquet.") and left.stat().st_size == 0
    done = run_into(out)
    assert done.exit_code == 0, done.output
    assert not left.exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------------------------
# one line per usage error, with the value; plurals; terminal controls; narrow terminals


@pytest.mark.parametrize(("args", "shown"), [
    (["run", "--reps", "0"], "--reps 0: allowed: greater than or equal to 1"),
    (["run", "--scale", "abc"], "--scale abc: allowed: a valid integer"),
    (["core", "--n", "-5"], "--n -5: allowed: greater than or equal to 1"),
    (["run", "--bogus"], "No such option: --bogus"),
    (["core", "--n", "1000000000000"], "--n 1000000000000: allowed: less than or equal to"),
    (["run", "--reps", "100000000"], "--reps 100000000: allowed: less than or equal to"),
])
def test_a_usage_error_is_one_line_that_echoes_the_value(args, shown):
    done = purgesim(*args)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and shown in lines[0], lines
    assert "--help" in lines[0]


@pytest.mark.parametrize(("args", "shown"), [
    (["compare", "great-terror", "--scale", "20000", "--seed", "-1"], "seed = -1"),
    (["history", "--scale", "20000", "--seed", "-5"], "seed = -5"),
    (["history", "--scale", "20000", "--prevalence", "inf"], "guilty_prevalence = inf"),
    (["history", "--scale", "20000", "--prevalence", "2"], "guilty_prevalence = 2.0"),
])
def test_options_that_reach_the_scenario_are_refused_before_anything_runs(args, shown):
    done = runner.invoke(app, args)
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit), done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and shown in lines[0], lines


def test_one_week_is_one_week(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text('base = "great-terror"\nend = 1936-10-05\n', encoding="utf-8")
    done = runner.invoke(app, ["check", str(path)])
    assert done.exit_code == 0, done.output  # the run stops before its base's later events
    assert "1 week," in done.stdout and "1 weeks" not in done.stdout


def test_names_printed_from_the_catalog_cannot_carry_terminal_controls(gt, catalog):
    with duckdb.connect(str(catalog)) as con:  # as an older version could have written it
        con.execute("UPDATE runs SET scenario = 'evil\x1b[2J\u202egnp'")
    listed = runner.invoke(app, ["runs"])
    assert listed.exit_code == 0
    assert "\x1b" not in listed.stdout and "\u202e" not in listed.stdout
    assert "\\x1b" in listed.stdout
    code, stdout, _ = sql("SELECT scenario FROM runs")
    assert code == 0 and "\\u001b" in stdout  # JSON escapes them itself
    shown = runner.invoke(app, ["sql", "SELECT chr(27) || '[31m' AS x"])
    assert "\x1b" not in shown.stdout and "\\x1b[31m" in shown.stdout


def test_a_name_cannot_send_a_report_outside_runs(tmp_path, catalog):
    path = tmp_path / "escape.toml"
    path.write_text('base = "great-terror"\nname = "../../../escaped"\nscale = 20000\n',
                    encoding="utf-8")
    done = purgesim("run", str(path), "--report", cwd=tmp_path)
    assert done.returncode == 2 and "name = '../../../escaped'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["escape.toml"]
    assert not catalog.exists()


def test_runs_and_history_cut_no_number_at_80_columns(gt):
    env = {**os.environ, "COLUMNS": "80"}
    listed = purgesim("runs", env=env)
    assert listed.returncode == 0
    assert "great-terror" in listed.stdout and "…" not in listed.stdout
    assert max(len(line) for line in listed.stdout.splitlines()) <= 80
    history = purgesim("history", "--reps", "1", "--scale", "20000", "--posterior", "0",
                       env=env)
    assert history.returncode == 0, history.stderr
    table = [line for line in history.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= 80
    assert "…" not in history.stdout


def test_compare_that_fails_says_so_in_one_line(monkeypatch):
    import purgesim.sim

    def broken(*args, **kwargs):
        raise ValueError("lam value too large")

    monkeypatch.setattr(purgesim.sim, "run", broken)
    done = runner.invoke(app, ["compare", "great-terror", "courts", "--scale", "20000",
                               "--workers", "1"])
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit)
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: great-terror seed 1 failed: ValueError: lam value too large"]
