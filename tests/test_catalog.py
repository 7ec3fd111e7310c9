"""The run catalog (:mod:`purgesim.catalog`): registration, listing, SQL, and kills.

Every test here uses its own catalog file (the ``catalog`` fixture of conftest.py), which the
commands it starts in subprocesses inherit through ``PURGESIM_CATALOG``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from purgesim.catalog import ENV, Catalog, CatalogError, default_path, resolve_path
from purgesim.cli import app
from purgesim.retry import retry

SCALE = "5000"
runner = CliRunner()


def purgesim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "purgesim", *args], capture_output=True,
                          text=True, timeout=timeout)


def one_json(stdout: str) -> dict:
    value, end = json.JSONDecoder().raw_decode(stdout)
    assert stdout[end:] in ("", "\n")
    return value


def a_dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


# --------------------------------------------------------------------------------------------
# where the catalog is


def test_the_suite_never_uses_the_real_catalog(catalog):
    assert resolve_path() == catalog
    assert default_path() != catalog


def test_path_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "env.duckdb"))
    assert resolve_path(tmp_path / "explicit.duckdb") == tmp_path / "explicit.duckdb"
    assert resolve_path() == tmp_path / "env.duckdb"
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert resolve_path() == tmp_path / "data" / "purgesim" / "catalog.duckdb"
    assert resolve_path().name == "catalog.duckdb"


# --------------------------------------------------------------------------------------------
# the Python interface


def test_start_complete_fail_and_list(catalog):
    c = Catalog()
    a = c.start(scenario="great-terror", seed=1, scale=5000, weeks=169, out_dir=catalog.parent)
    b = c.start(scenario="courts", seed=2, scale=5000)
    d = c.start(scenario="courts", seed=3, scale=5000)
    rows = {r["run_id"]: r for r in c.runs()}
    assert {r["status"] for r in rows.values()} == {"running"}
    assert rows[a]["finished"] is None and rows[a]["started"] is not None
    assert rows[a]["out_dir"] == str(catalog.parent.resolve())
    assert rows[a]["shown_status"] == "running"  # this process is alive
    summary = {"totals": {"arrested": 10, "convicted": 7, "cat1": 3}, "innocent_share": 0.5}
    assert c.complete(a, summary, wall_seconds=1.25)
    assert c.fail(b, "RuntimeError: boom")
    rows = {r["run_id"]: r for r in c.runs()}
    assert rows[a]["status"] == "complete" and rows[a]["finished"] >= rows[a]["started"]
    assert (rows[a]["arrested"], rows[a]["convicted"], rows[a]["cat1"]) == (10, 7, 3)
    assert rows[a]["innocent_share"] == 0.5 and rows[a]["summary"] == summary
    assert rows[a]["wall_seconds"] == 1.25
    assert rows[b]["status"] == "failed" and rows[b]["error"] == "RuntimeError: boom"
    assert [r["run_id"] for r in c.runs(scenario="courts")] == [d, b]
    assert [r["run_id"] for r in c.runs(status="failed")] == [b]
    assert [r["run_id"] for r in c.runs(status="running")] == [d]
    assert len(c.runs(limit=2)) == 2
    with pytest.raises(CatalogError):
        c.runs(status="bogus")


def test_ctrl_c_during_a_catalog_write_is_an_interrupt(catalog, monkeypatch):
    """DuckDB turns a SIGINT that lands inside a query into its own error; the catalog hands
    it on as the user's Ctrl-C (exit 130 and "interrupted: ..."), not as a failed write."""
    c = Catalog(on_error=lambda message: None)
    c.start(scenario="great-terror", seed=1, scale=5000)

    class Interrupted:
        def execute(self, *args):
            raise RuntimeError("Query interrupted")

    @contextmanager
    def connect(read_only=False):
        yield Interrupted()

    monkeypatch.setattr(c, "connect", connect)
    with pytest.raises(KeyboardInterrupt):
        c.start(scenario="great-terror", seed=2, scale=5000)


def test_a_running_row_whose_process_is_gone_is_incomplete(catalog):
    c = Catalog()
    run_id = c.start(scenario="great-terror", seed=1, scale=5000)
    with duckdb.connect(str(catalog)) as con:
        con.execute("UPDATE runs SET pid = ? WHERE run_id = ?", [a_dead_pid(), run_id])
    (row,) = c.runs()
    assert row["status"] == "running" and row["shown_status"] == "incomplete"
    assert [r["run_id"] for r in c.runs(status="incomplete")] == [run_id]
    assert c.runs(status="running") == []


def test_reading_a_missing_catalog_creates_nothing(tmp_path):
    path = tmp_path / "none" / "catalog.duckdb"
    assert Catalog(path).runs() == []
    assert Catalog(path).query("SELECT count(*) FROM runs") == (["count_star()"], [(0,)])
    assert not path.exists() and not path.parent.exists()


def test_a_write_waits_for_another_process_holding_the_file(catalog):
    Catalog().start(scenario="great-terror", seed=1, scale=5000)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', "
         "flush=True); time.sleep(1.0); con.close()", str(catalog)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        Catalog().start(scenario="great-terror", seed=2, scale=5000)
        assert time.monotonic() - t0 > 0.2  # it waited for the lock
    finally:
        holder.wait(timeout=30)
    assert len(Catalog().runs()) == 2


def test_a_write_that_fails_warns_instead_of_raising(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    messages: list[str] = []
    c = Catalog(blocker / "catalog.duckdb", on_error=messages.append)  # parent is a file
    c.start(scenario="great-terror", seed=1, scale=5000)
    assert len(messages) == 1 and str(blocker) in messages[0]
    with pytest.raises(CatalogError):
        Catalog(blocker / "catalog.duckdb").start(scenario="great-terror", seed=1, scale=5000)


# --------------------------------------------------------------------------------------------
# the command line


@pytest.fixture
def cataloged_run(catalog, tmp_path):
    out = tmp_path / "gt"
    done = runner.invoke(app, ["run", "--scale", SCALE, "--seed", "1", "--out", str(out),
                               "--json"])
    assert done.exit_code == 0, done.output
    return one_json(done.stdout), out


def test_run_registers_a_complete_row(cataloged_run):
    summary, out = cataloged_run
    (row,) = Catalog().runs()
    assert row["status"] == "complete" and row["shown_status"] == "complete"
    assert (row["scenario"], row["seed"], row["scale"]) == ("great-terror", 1, int(SCALE))
    assert row["summary"] == summary
    assert row["arrested"] == summary["totals"]["arrested"]
    assert row["cat1"] == summary["totals"]["cat1"]
    assert row["innocent_share"] == summary["innocent_share"]
    assert row["out_dir"] == str(out.resolve())
    assert row["finished"] >= row["started"] and row["wall_seconds"] > 0
    from purgesim import __version__

    assert row["version"] == __version__ and row["pid"] > 0 and row["host"]
    assert json.loads((out / "meta.json").read_text())["run_id"] == row["run_id"]


def test_runs_command(cataloged_run, catalog):
    Catalog().start(scenario="courts", seed=9, scale=5000)
    result = runner.invoke(app, ["runs", "--json"])
    assert result.exit_code == 0, result.output
    data = one_json(result.stdout)
    assert data["catalog"] == str(catalog)
    assert [r["scenario"] for r in data["runs"]] == ["courts", "great-terror"]
    result = runner.invoke(app, ["runs", "--scenario", "great-terror", "--status", "complete",
                                 "--json"])
    assert result.exit_code == 0, result.output
    (row,) = one_json(result.stdout)["runs"]
    assert row["scenario"] == "great-terror" and row["shown_status"] == "complete"
    result = runner.invoke(app, ["runs", "--limit", "1"])  # the human table
    assert result.exit_code == 0, result.output
    assert data["runs"][0]["run_id"] in result.stdout
    assert data["runs"][1]["run_id"] not in result.stdout
    result = runner.invoke(app, ["runs", "--status", "failed"])
    assert result.exit_code == 0 and "no runs match" in result.stdout
    result = runner.invoke(app, ["runs", "--status", "sideways"])
    assert result.exit_code == 2 and "incomplete" in result.stderr


def test_sql_command_reads_the_catalog_and_the_parquet_files(cataloged_run):
    summary, out = cataloged_run
    result = runner.invoke(app, ["sql", "SELECT scenario, arrested FROM runs", "--json"])
    assert result.exit_code == 0, result.output
    data = one_json(result.stdout)
    assert data["rows"] == [{"scenario": "great-terror",
                             "arrested": summary["totals"]["arrested"]}]
    # the events view: every complete run with an output folder, with its run id
    result = runner.invoke(app, ["sql", "SELECT r.seed, sum(e.weight) AS people FROM events e "
                                 "JOIN runs r USING (run_id) GROUP BY r.seed", "--json"])
    assert result.exit_code == 0, result.output
    assert one_json(result.stdout)["rows"] == [{"seed": 1,
                                                "people": summary["totals"]["arrested"]}]
    # any Parquet file, by path
    query = (f"SELECT count(*) AS weeks FROM read_parquet('{out / 'weekly.parquet'}') "
             "WHERE region = 'RSFSR'")
    result = runner.invoke(app, ["sql", query])
    assert result.exit_code == 0, result.output
    assert "169" in result.stdout


def test_catalog_option_beats_the_environment(catalog, tmp_path):
    mine = tmp_path / "elsewhere" / "mine.duckdb"
    result = runner.invoke(app, ["run", "--scale", SCALE, "--catalog", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    assert not catalog.exists()
    assert [r["status"] for r in Catalog(mine).runs()] == ["complete"]
    listed = runner.invoke(app, ["runs", "--catalog", str(mine), "--json"])
    assert len(one_json(listed.stdout)["runs"]) == 1
    query = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM runs", "--catalog", str(mine),
                                "--json"])
    assert one_json(query.stdout)["rows"] == [{"n": 1}]


def test_an_unreadable_parquet_file_does_not_block_other_queries(cataloged_run):
    _, out = cataloged_run
    (out / "events.parquet").write_text("not parquet")
    result = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM runs", "--json"])
    assert result.exit_code == 0, result.output
    assert one_json(result.stdout)["rows"] == [{"n": 1}]
    result = runner.invoke(app, ["sql", "SELECT count(*) FROM weekly", "--json"])
    assert result.exit_code == 0, result.output


def test_sql_command_is_read_only_and_reports_errors(cataloged_run):
    result = runner.invoke(app, ["sql", "DELETE FROM runs"])
    assert result.exit_code == 1 and "read-only" in result.stderr.lower()
    result = runner.invoke(app, ["sql", "SELECT nothing FROM nowhere"])
    assert result.exit_code == 1 and "nowhere" in result.stderr
    assert len(Catalog().runs()) == 1


def test_an_out_folder_that_cannot_be_written_is_refused_before_the_run(catalog, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = purgesim("run", "--scale", SCALE, "--out", str(blocker / "out"), "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: --out ") and "cannot write there" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not catalog.exists(), "refused before the run registered"


def test_a_run_that_cannot_write_its_results_is_marked_failed(catalog, tmp_path, monkeypatch):
    from purgesim.results import Result

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Result, "write", full)
    result = runner.invoke(app, ["run", "--scale", SCALE, "--out", str(tmp_path / "o"),
                                 "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "cannot write the results" in result.stderr
    (row,) = Catalog().runs()
    assert row["status"] == "failed" and "cannot write" in row["error"]
    assert row["finished"] is not None


# --------------------------------------------------------------------------------------------
# kills


def wait_for_a_running_row(path: Path, timeout: float = 120) -> dict:
    def first_row() -> dict:
        rows = Catalog(path).runs() if path.exists() else []
        if not rows:
            raise LookupError("no row yet")
        return rows[0]

    try:  # CatalogError: the run holds the file this instant
        return retry(first_row, seconds=timeout, pause=0.01, max_pause=0.01,
                     again=lambda exc: isinstance(exc, LookupError | CatalogError))
    except LookupError:
        raise AssertionError("the run never registered") from None


def test_a_run_killed_halfway_stays_incomplete_and_the_catalog_survives(catalog, tmp_path):
    # 1:100 runs for seconds after registering: time enough to kill it halfway
    child = subprocess.Popen([sys.executable, "-m", "purgesim", "run", "--scale", "100",
                              "--out", str(tmp_path / "killed"), "--json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        row = wait_for_a_running_row(catalog)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert row["status"] == "running"
    # the database opens, reads and checks clean
    with duckdb.connect(str(catalog), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert len(con.execute("SELECT * FROM runs").fetchall()) == 1
    (killed,) = Catalog().runs()
    assert killed["run_id"] == row["run_id"]
    assert killed["status"] == "running" and killed["finished"] is None
    assert killed["shown_status"] == "incomplete"
    listed = runner.invoke(app, ["runs", "--json"])
    assert one_json(listed.stdout)["runs"][0]["shown_status"] == "incomplete"
    assert "incomplete" in runner.invoke(app, ["runs"]).stdout
    # a later run registers fine beside it
    done = purgesim("run", "--scale", SCALE, "--json")
    assert done.returncode == 0, done.stderr
    rows = Catalog().runs()
    assert [r["shown_status"] for r in rows] == ["complete", "incomplete"]


HAMMER = """
import sys
from purgesim.catalog import Catalog
c = Catalog(sys.argv[1])
i = 0
while True:
    run_id = c.start(scenario="great-terror", seed=i, scale=5000)
    c.complete(run_id, {"totals": {"arrested": i, "convicted": i, "cat1": i},
                        "innocent_share": 1.0, "pad": "x" * 2000}, wall_seconds=0.1)
    if i == 0:  # the kill comes while writes go on, after at least one has committed
        print("go", flush=True)
    i += 1
"""


@pytest.mark.parametrize("after", [0.3, 0.9])
def test_a_kill_in_the_middle_of_writes_never_corrupts_the_catalog(catalog, after):
    child = subprocess.Popen([sys.executable, "-c", HAMMER, str(catalog)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "go"
        time.sleep(after)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    rows = Catalog().runs()
    assert rows, "some writes must have committed"
    for r in rows:
        assert r["status"] in ("running", "complete")
        if r["status"] == "complete":
            assert r["summary"]["totals"]["arrested"] == r["seed"] == r["arrested"]
    # at most the last run was caught between its two writes
    assert sum(r["status"] == "running" for r in rows) <= 1
    run_id = Catalog().start(scenario="great-terror", seed=-1, scale=5000)
    assert Catalog().runs(limit=1)[0]["run_id"] == run_id
