"""Result files: written atomically, with the mode any other file would get."""

from __future__ import annotations

import os
from pathlib import Path

from purgesim.results import _atomic


def test_result_files_get_the_usual_mode(tmp_path):
    target = tmp_path / "x.json"
    _atomic(target, lambda p: Path(p).write_text("{}"))
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left behind
