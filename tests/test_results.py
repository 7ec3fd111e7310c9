"""Result files (written atomically, with the mode any other file would get), and a run read
back from its folder (:meth:`Result.load`) being the run that wrote it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from purgesim import files
from purgesim.files import atomic_write, atomic_write_text


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_result_files_get_the_usual_mode(tmp_path):
    target = tmp_path / "x.json"
    atomic_write(target, lambda p: Path(p).write_text("{}"))
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "x.txt", "old")

    def broken(tmp: str) -> None:
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_the_umask_is_read_without_setting_it(monkeypatch):
    expected = current_umask()

    def refuse(mask: int) -> int:
        raise AssertionError("os.umask called: setting the umask races with other threads")

    monkeypatch.setattr(os, "umask", refuse)
    assert files.umask() == expected


# --------------------------------------------------------------------------------------------
# one run object: a run read back from its folder is the run that wrote it


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    import purgesim as ps

    result = ps.run("great-terror", scale=2000, seed=1)
    folder = tmp_path_factory.mktemp("run") / "gt"
    result.write(folder)
    return result, folder


def test_a_loaded_run_gives_the_summary_and_tables_of_the_run_that_wrote_it(written):
    from purgesim.history import compare_runs
    from purgesim.results import Result

    fresh, folder = written
    loaded = Result.load(folder)
    assert loaded.summary() == fresh.summary()
    assert loaded.events_table().equals(fresh.events_table())
    assert loaded.weekly_table().equals(fresh.weekly_table())
    for name, column in loaded.columns.items():
        assert column.dtype == fresh.columns[name].dtype, name
        assert np.array_equal(column, fresh.columns[name]), name
    assert loaded.series.keys() == fresh.series.keys()
    assert (loaded.name, loaded.scale, loaded.seed, loaded.start, loaded.weeks) == (
        fresh.name, fresh.scale, fresh.seed, fresh.start, fresh.weeks)
    assert loaded.region_names == fresh.region_names and loaded.agents == fresh.agents
    assert loaded.scenario == fresh.scenario and loaded.population is None
    assert loaded.reproduction() == fresh.reproduction()
    assert np.array_equal(loaded.root_source(), fresh.root_source())
    assert compare_runs([loaded]) == compare_runs([fresh])


def test_a_folder_without_summary_json_is_summarised_from_its_tables(written, tmp_path):
    import shutil

    from purgesim.results import Result

    fresh, folder = written
    for name in ("events.parquet", "weekly.parquet", "scenario.toml", "meta.json"):
        shutil.copy(folder / name, tmp_path / name)
    expected = fresh.summary()
    # the Central Committee and the delegates are flags of the population, not in the files
    for key in ("central_committee_shot", "central_committee_arrested",
                "congress_delegates_arrested"):
        expected["elite"][key] = None
    assert Result.load(tmp_path).summary() == expected


def test_a_scenario_that_no_longer_validates_still_loads(written, tmp_path):
    import shutil

    from purgesim.results import Result

    _, folder = written
    for path in folder.iterdir():
        shutil.copy(path, tmp_path / path.name)
    text = (tmp_path / "scenario.toml").read_text()
    (tmp_path / "scenario.toml").write_text("retired_option = 3\n" + text)
    loaded = Result.load(tmp_path)
    assert loaded.scenario is None and loaded.scenario_data["retired_option"] == 3
    assert loaded.name == "great-terror"
    assert loaded.summary() == Result.load(folder).summary()


def test_load_refuses_what_is_not_a_run(tmp_path):
    from purgesim.results import Result, ResultError

    with pytest.raises(ResultError, match="not a folder"):
        Result.load(tmp_path / "nowhere")
    (tmp_path / "events.parquet").write_text("")
    with pytest.raises(ResultError, match="missing weekly.parquet, scenario.toml"):
        Result.load(tmp_path)
