"""Output folders and files: one run per folder, no run's own file overwritten by another
command, and every place a command will write checked before its work starts.

A run folder (``purgesim run --out DIR``) holds the files of :meth:`Result.write`;
``meta.json`` is written last, so a folder with it holds a finished run and one without it at
most the pieces of a run that was stopped while writing. An ensemble's folder holds one such
folder per seed (``seed-N/``) and, once every seed is done, its own ``summary.json`` and
``meta.json``.

- :func:`prepare_folder` and :func:`prepare_file` check that a folder can be written (creating
  it) before any simulation runs, so an unwritable ``--out`` costs seconds, not a whole run.
- :func:`claim` refuses a folder that already holds a finished run unless the caller was told
  to replace it (``--force``), and :func:`clear` then removes the old run's files, so that the
  catalog's views never count two runs in one folder.
- :func:`refuse_run_file` keeps ``export``, ``report`` and ``compare --report`` from writing
  over a run's own files.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from purgesim.results import RUN_FILES

RECORD_FILES = (*RUN_FILES, "summary.json", "meta.json")
"""What :meth:`Result.write` writes (and an ensemble's folder its ``summary.json`` and
``meta.json``): a run's own files, which no other command may overwrite."""
DERIVED_FILES = ("report.html",)
"""Files made from a run that go with it when it is replaced."""


class OutputError(ValueError):
    """A place a command cannot or must not write to; the message is one line."""


def finished(folder: Path) -> dict[str, Any] | None:
    """The ``meta.json`` of the finished run (or ensemble) in ``folder``; None if there is
    none (no folder, or a run stopped before its last file)."""
    try:
        data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else {}


def seed_folders(folder: Path) -> list[Path]:
    """The ``seed-N`` folders of an ensemble's folder, in seed order."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and p.name.startswith("seed-")
             and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[5:]))


def held(folder: Path) -> list[Path]:
    """The folders of finished runs in ``folder``: itself, and its seed folders."""
    return [p for p in (folder, *seed_folders(folder)) if finished(p) is not None]


def claim(folder: Path, force: bool, option: str = "--out",
          reusable: set[Path] | None = None) -> list[Path]:
    """Check that ``folder`` may receive a new run: refuse one that holds a finished run
    (other than the ``reusable`` seed folders of an ensemble being resumed) unless ``force``.
    Return the folders of the runs that will be replaced (empty without ``force``)."""
    taken = [p for p in held(folder) if p not in (reusable or set())]
    if not taken:
        return []
    if not force:
        meta = finished(taken[0]) or {}
        what = (f"a run of {meta.get('scenario', '?')}, seed {meta.get('seed', '?')}"
                if "seed" in meta else f"an ensemble of {meta.get('scenario', '?')}")
        where = "" if taken[0] == folder else f" (in {taken[0].name})"
        raise OutputError(f"{option} {folder}: holds {what} already{where}; allowed: a new or "
                          "empty folder, or --force to replace it (the old run is marked "
                          "replaced in the catalog)")
    return taken


def clear(folders: list[Path]) -> None:
    """Remove the files of replaced runs (only the files purgesim writes, then any seed
    folder left empty), so that nothing of the old run is mistaken for the new one."""
    for folder in folders:
        for name in (*RECORD_FILES, *DERIVED_FILES):
            (folder / name).unlink(missing_ok=True)
        if folder.name.startswith("seed-"):
            with contextlib.suppress(OSError):  # something else is in it: leave it
                folder.rmdir()


def prepare_folder(folder: Path, option: str = "--out") -> Path:
    """Create ``folder`` if needed and check that a file can be written in it, before any
    work: a refusal names the option and says why."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder}: exists and is not a folder; allowed: a folder "
                          "(created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".purgesim-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{option} {folder}: cannot write there ({exc.strerror or exc}); "
                          "allowed: a folder you can write to") from None
    return folder


def refuse_run_file(path: Path, option: str) -> None:
    """Refuse ``path`` if it is one of a run's own files (``events.parquet``...) in a run or
    ensemble folder: another command writing there would destroy the run."""
    folder = path.parent
    is_run_folder = finished(folder) is not None or any(
        (folder / name).exists() for name in RUN_FILES)
    if path.name in RECORD_FILES and is_run_folder:
        raise OutputError(f"{option} {path}: a file of the run in {folder}; allowed: a path "
                          "outside the run's own files (another name, or another folder)")


def prepare_file(path: Path, option: str) -> Path:
    """Check, before any work, that ``path`` may be written: not a run's own file, not a
    folder, in a folder that can be written (created if missing)."""
    refuse_run_file(path, option)
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; allowed: a file name")
    prepare_folder(path.parent if str(path.parent) else Path("."), option)
    return path

