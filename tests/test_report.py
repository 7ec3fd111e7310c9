"""The HTML report of a run and of a comparison (:mod:`purgesim.report`).

The page is opened in a real headless Chromium through Playwright: no console errors, the
expected number of Plotly charts, and no empty trace. Those tests skip, saying why, only where
Playwright or Chromium is missing (CI installs Debian's chromium before the suite). Runs are
coarse (1 agent per 2,000 people) to stay fast.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import purgesim as ps
from purgesim.calibration import load_config
from purgesim.cli import app
from purgesim.compare import compare
from purgesim.history import compare_runs
from purgesim.report import (
    PngError,
    find_chromium,
    history_rows,
    is_historical,
    run_charts,
    sample_cascade,
    write_compare_report,
    write_report,
)
from purgesim.results import Result
from purgesim.scenario import load_scenario
from purgesim.series import reproduction_series, run_series

SCALE = 2000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# the number of points of each trace of each chart, whether plotly.js holds it as an array or
# as the base64 typed-array spec that plotly.py writes for numpy arrays
TRACE_SIZES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
  id: gd.id,
  sizes: gd.data.map(t => {
    const v = t.y !== undefined ? t.y : t.x;
    if (v === undefined || v === null) return 0;
    if (typeof v.length === 'number') return v.length;
    if (v.bdata) {
      const width = {f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2, i1: 1, u1: 1}[v.dtype] || 1;
      return atob(v.bdata).length / width;
    }
    return 0;
  })
}))"""

runner = CliRunner()


def chromium_path() -> str:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("Chromium not found (on Debian: apt-get install chromium); .ci/run installs it")


def open_in_chromium(page_path: Path, screenshot: Path) -> tuple[list[str], list[dict]]:
    """Open a page in headless Chromium; return its console errors (and any request that
    leaves the file, which a self-contained page never makes) and, per Plotly chart, the sizes
    of its traces; save a full-page screenshot."""
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
                    else errors.append(f"request to {r.url}"))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("load")
            page.wait_for_function(
                "Array.from(document.querySelectorAll('.js-plotly-plot'))"
                ".every(gd => gd._fullLayout !== undefined)")
            plots = page.evaluate(TRACE_SIZES_JS)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return errors, plots


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One great-terror run, kept live and written to a folder."""
    result = ps.run("great-terror", scale=SCALE, seed=1)
    folder = tmp_path_factory.mktemp("run") / "gt"
    result.write(folder)
    return result, folder


@pytest.fixture(scope="module")
def report(saved):
    return write_report(saved[1])


# --------------------------------------------------------------------------------------------
# the page


def test_report_is_one_self_contained_file(saved, report):
    assert report == saved[1] / "report.html"
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Plotly.newPlot" in text
    # plotly.js embedded once; nothing is loaded from elsewhere
    assert text.count("plotly.js v") == 1
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?:", text)
    assert not [p.name for p in saved[1].iterdir() if p.name.startswith(".")]  # atomic write


def test_report_in_chromium_has_every_chart_and_no_error(saved, report, tmp_path):
    charts = run_charts(Result.load(saved[1]))
    figures = [c for c in charts if c.figure is not None]
    keys = [c.key for c in charts]
    assert keys == ["arrests-by-source", "arrests-by-operation", "sentences", "limits",
                    "evidence-and-reproduction", "innocent-share", "economy", "elite",
                    "history", "cascade"]
    assert all(c.caption.endswith(".") and c.caption.count(". ") == 0 for c in charts), \
        "each caption is one sentence"
    shot = tmp_path / "report.png"
    errors, plots = open_in_chromium(report, shot)
    assert errors == []
    assert len(plots) == len(figures) == 9
    assert [p["id"] for p in plots] == [f"chart-{c.key}" for c in figures]
    for plot in plots:
        assert plot["sizes"] and max(plot["sizes"]) > 0, plot
        assert all(size > 0 for size in plot["sizes"]), plot
    assert shot.stat().st_size > 50_000


def test_report_counts_match_the_summary(saved):
    result, folder = saved
    summary = result.summary()
    assert json.loads((folder / "summary.json").read_text()) == summary
    run = Result.load(folder)
    series = run_series(run)
    assert len(series["dates"]) == summary["weeks"]
    assert sum(series["arrests"]) == summary["totals"]["arrested"]
    assert sum(series["cat1"]) == summary["totals"]["cat1"]
    assert sum(series["cat2"]) == summary["totals"]["cat2"]
    assert sum(series["released"]) == summary["totals"]["released"]
    r = reproduction_series(run)
    assert r["peak"] == summary["reproduction"]["peak"]
    assert r["peak_date"] == summary["reproduction"]["peak_date"]


def test_history_table_of_a_saved_run_is_that_of_the_live_run(saved):
    result, folder = saved
    rows = history_rows(Result.load(folder))
    assert rows is not None
    _, config = load_config(result.scenario.calibration)
    assert rows == compare_runs([result], [*config.targets, *config.tuned_by_hand])


def test_only_the_history_is_compared_with_history():
    assert is_historical(load_scenario("great-terror", scale=5000, seed=3).model_dump())
    assert not is_historical(load_scenario("courts").model_dump())
    assert not is_historical(load_scenario("early-stop").model_dump())
    assert is_historical({"calibration": "great-terror"})  # a fitted scenario


def test_sample_cascade_is_a_tree_of_who_named_whom(saved):
    run = Result.load(saved[1])
    cascade = sample_cascade(run, generations=3, max_nodes=40)
    assert cascade is not None
    events = run.events_table()
    person = events.column("person").to_numpy()
    parent = events.column("parent").fill_null(-1).to_numpy()
    assert cascade.parent[0] == -1 and cascade.depth[0] == 0
    assert len(cascade.rows) <= 40 and cascade.depth.max() <= 3
    assert cascade.size >= len(cascade.rows)
    for node in range(1, len(cascade.rows)):
        p = cascade.parent[node]
        assert 0 <= p < node
        assert cascade.depth[node] == cascade.depth[p] + 1
        assert parent[cascade.rows[node]] == person[cascade.rows[p]]  # p named node


# --------------------------------------------------------------------------------------------
# the command


def test_report_command_writes_the_default_file_and_another(saved, tmp_path):
    done = runner.invoke(app, ["report", str(saved[1])])
    assert done.exit_code == 0, done.output
    assert (saved[1] / "report.html").is_file()
    other = tmp_path / "sub" / "r.html"
    done = runner.invoke(app, ["report", str(saved[1]), "-o", str(other)])
    assert done.exit_code == 0, done.output
    assert other.is_file() and "report written to" in done.stdout


def test_run_with_report_writes_results_and_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["run", "--scale", "20000", "--report"])
    assert done.exit_code == 0, done.output
    folder = tmp_path / "runs" / "great-terror-seed1-1_20000"
    assert (folder / "events.parquet").is_file() and (folder / "report.html").is_file()
    done = runner.invoke(app, ["run", "--scale", "20000", "--reps", "2", "--report"])
    assert done.exit_code == 2 and "--report" in done.stderr


def test_report_command_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "events.parquet").write_text("")
    done = runner.invoke(app, ["report", str(tmp_path)])
    assert done.exit_code == 2
    assert "missing weekly.parquet, scenario.toml" in done.stderr
    assert "Traceback" not in done.output
    done = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert done.exit_code == 2 and "not a folder" in done.stderr
    for name in ("weekly.parquet", "scenario.toml"):
        (tmp_path / name).write_text("")
    done = runner.invoke(app, ["report", str(tmp_path)])  # files that are not what they say
    assert done.exit_code == 2 and "cannot read the run's files" in done.stderr
    assert "Traceback" not in done.output


def test_report_refuses_an_event_table_without_the_columns_it_charts(saved, tmp_path):
    import pyarrow.parquet as pq

    for path in saved[1].iterdir():
        if path.suffix != ".html":
            shutil.copy(path, tmp_path / path.name)
    events = pq.read_table(tmp_path / "events.parquet").drop_columns(["guilty", "parent"])
    pq.write_table(events, tmp_path / "events.parquet")
    done = runner.invoke(app, ["report", str(tmp_path)])
    assert done.exit_code == 2
    assert "events.parquet: no column parent, guilty" in done.stderr


def test_png_without_chromium_is_a_clear_error(saved, tmp_path, monkeypatch):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    with pytest.raises(PngError, match="apt-get install chromium"):
        find_chromium()
    out = tmp_path / "r.html"
    done = runner.invoke(app, ["report", str(saved[1]), "-o", str(out), "--png",
                               str(tmp_path / "png")])
    assert done.exit_code == 1
    assert "needs Chromium or Chrome" in done.stderr and "HTML report was written" in done.stderr
    assert out.is_file()
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "chrome"))
    with pytest.raises(PngError, match="BROWSER_PATH"):
        find_chromium()


def test_png_files_of_the_charts(saved, tmp_path):
    chromium_path()
    folder = tmp_path / "png"
    done = runner.invoke(app, ["report", str(saved[1]), "-o", str(tmp_path / "r.html"),
                               "--png", str(folder)])
    assert done.exit_code == 0, done.output
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "01-arrests-by-source.png" and len(names) == 9
    for path in folder.iterdir():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


# --------------------------------------------------------------------------------------------
# compare --report


def test_compare_report_in_chromium(tmp_path):
    result = compare(["great-terror", "courts"], seeds=[1], scale=SCALE, series=True)
    gt = result["scenarios"]["great-terror"]
    assert sum(gt["series"]["arrests"]) == pytest.approx(gt["mean"]["arrested"])
    path = write_compare_report(result, tmp_path / "compare.html")
    errors, plots = open_in_chromium(path, tmp_path / "compare.png")
    assert errors == []
    assert len(plots) == 4
    for plot in plots:
        assert all(size > 0 for size in plot["sizes"]), plot
    text = path.read_text(encoding="utf-8")
    assert "innocent share of the convicted" in text and "courts" in text


def test_compare_series_is_the_mean_over_seeds():
    one = compare(["no-torture"], seeds=[1], scale=SCALE, series=True)
    two = compare(["no-torture"], seeds=[2], scale=SCALE, series=True)
    both = compare(["no-torture"], seeds=[1, 2], scale=SCALE, series=True, workers=2)
    a, b, m = (r["scenarios"]["no-torture"]["series"]["arrests"] for r in (one, two, both))
    assert m == pytest.approx(list((np.array(a) + np.array(b)) / 2))
    assert "series" not in compare(["no-torture"], seeds=[1], scale=SCALE)["scenarios"][
        "no-torture"]


def test_compare_command_writes_a_report(tmp_path):
    path = tmp_path / "c.html"
    done = runner.invoke(app, ["compare", "great-terror", "no-quotas", "--scale", str(SCALE),
                               "--workers", "1", "--report", str(path), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)  # stdout stays one JSON object
    assert set(data["scenarios"]) == {"great-terror", "no-quotas"}
    assert path.is_file() and f"report written to {path}" in done.stderr
