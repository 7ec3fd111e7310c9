"""Result files: written atomically, with the mode any other file would get."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
