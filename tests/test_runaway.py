"""The runaway analysis: the loop from below grows with fear, and is found where it crosses
one (purgesim.runaway)."""

from __future__ import annotations

from typer.testing import CliRunner

from purgesim.cli import app
from purgesim.runaway import crossing, runaway


def test_the_loop_from_below_grows_with_fear():
    result = runaway("great-terror", fears=(0.1, 3.0), seeds=(1,), scale=5000)
    low, high = result["rows"]
    assert high["bottom_up_r_peak"] > 10 * max(low["bottom_up_r_peak"], 0.01)
    assert high["denunciation_share"] > 5 * low["denunciation_share"]
    assert result["shipped_fear_workplace"] == 0.1


def test_the_crossing_is_interpolated_on_a_log_scale():
    assert crossing([0.1, 1.0, 10.0], [0.2, 0.5, 2.0]) == 2.1544  # 10 ** (1/3)
    assert crossing([0.1, 1.0], [0.2, 0.9]) is None
    assert crossing([0.1, 1.0], [None, 2.0]) is None


def test_the_command_prints_the_table_and_writes_the_chart(tmp_path):
    page = tmp_path / "runaway.html"
    done = CliRunner().invoke(app, ["runaway", "--scale", "20000", "--seeds", "1",
                                    "--fear", "0.1", "--fear", "1", "--chart", str(page)])
    assert done.exit_code == 0, done.output
    assert "fear_workp" in done.output and "shipped fear_workplace = 0.1" in done.output
    assert "plotly" in page.read_text(encoding="utf-8")
