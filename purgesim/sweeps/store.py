"""A sweep's folder: what it holds, how rows are committed, and how a resumed sweep finds
what is missing.

::

    DIR/sweep.json        the config's hash, its parameters resolved (kinds, levels, start),
                          the sample count, the package version and git commit that began it
    DIR/config.toml       the config as given (a resumed or remote sweep can start from it)
    DIR/design.parquet    the code of every parameter for every sample (sample = row)
    DIR/results/part-NNNNNN.parquet   result rows, keyed by (sample, seed)
    DIR/log.jsonl         one line per committed run: where and how long it ran

Every file is written to a temporary name (starting with a dot) and renamed
(:mod:`purgesim.files`), so a reader never sees half a file; readers take only
``part-*.parquet``, and a sweep that starts removes the temporary files a killed one left. A
row depends only on the config, its sample and its seed: timings and hosts go to the log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from purgesim.files import atomic_write, atomic_write_text, git_commit
from purgesim.sweeps.config import Spec
from purgesim.version import __version__

MANIFEST = "sweep.json"
CONFIG = "config.toml"
DESIGN = "design.parquet"
RESULTS = "results"
LOG = "log.jsonl"
LOCK = ".lock"


class SweepDirError(RuntimeError):
    """A sweep folder that cannot be used as asked; the message is one line."""


def manifest(out: Path) -> dict[str, Any]:
    """The folder's ``sweep.json``; refused in one line if it is not a sweep folder."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepDirError(f"{out}: not a sweep folder (no {MANIFEST}); allowed: a folder "
                            "written by purgesim sweep --out") from None
    except (OSError, ValueError) as exc:
        raise SweepDirError(f"{path}: cannot be read: {exc}") from None


def specs(info: dict[str, Any]) -> list[Spec]:
    return [Spec.model_validate(s) for s in info["parameters"]]


def begin(out: Path, *, digest: str, label: str, text: str, specs_: list[Spec],
          design: dict[str, np.ndarray], extra: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Open ``out`` for the sweep whose config hashes to ``digest``: a new folder gets the
    config, the design and the manifest (in that order: the manifest's presence says the rest
    is there); an existing one must hold the same sweep. Returns (manifest, resumed)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS).mkdir(exist_ok=True)
    info = same_sweep(out, digest)
    if info is not None:
        return info, True
    import pyarrow as pa
    import pyarrow.parquet as pq

    atomic_write_text(out / CONFIG, text)
    table = pa.table({"sample": np.arange(len(next(iter(design.values()))), dtype=np.int64),
                      **design})
    atomic_write(out / DESIGN, lambda p: pq.write_table(table, p))
    info = {"hash": digest, "config": label, "samples": int(table.num_rows),
            "parameters": [s.model_dump(mode="json") for s in specs_], **extra,
            "version": __version__, "commit": git_commit(),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    atomic_write_text(out / MANIFEST, json.dumps(info, indent=2) + "\n")
    return info, False


def same_sweep(out: Path, digest: str) -> dict[str, Any] | None:
    """The manifest of the sweep begun in ``out`` (None if none was), refused in one line if
    its config hashes to another digest."""
    if not (Path(out) / MANIFEST).exists():
        return None
    info = manifest(out)
    if info.get("hash") != digest:
        raise SweepDirError(
            f"{out}: holds a sweep of another config ({info.get('config', '?')}, hash "
            f"{str(info.get('hash'))[:12]}; this one {digest[:12]}): the config or the "
            f"scenario it starts from changed since it began; allowed: the config it "
            f"began with ({Path(out) / CONFIG}), or a new --out folder")
    return info


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the folder for one sweep at a time (released by the system if the process dies)."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock, one sweep at a time is the user's care
        yield
        return
    with open(out / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepDirError(f"{out}: another sweep is running on this folder; allowed: "
                                "one sweep at a time per folder") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_temporary(out: Path) -> int:
    """Delete the temporary files a killed sweep left in ``results/``; how many."""
    stale = [p for p in (out / RESULTS).glob(".*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def parts(out: Path) -> list[Path]:
    return sorted((Path(out) / RESULTS).glob("part-*.parquet"))


def done_keys(out: Path) -> set[tuple[int, int]]:
    """(sample, seed) of every committed row."""
    import pyarrow.parquet as pq

    done: set[tuple[int, int]] = set()
    for path in parts(out):
        keys = pq.read_table(path, columns=["sample", "seed"])
        done.update(zip(keys["sample"].to_pylist(), keys["seed"].to_pylist(), strict=True))
    return done


def design_table(out: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(Path(out) / DESIGN)


def write_part(out: Path, rows: list[dict[str, Any]]) -> Path:
    """Commit ``rows`` as the next part file (atomically): a column that is null in every row
    is written as float64, so that parts agree on types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(i, field.name, pa.nulls(table.num_rows, pa.float64()))
    existing = parts(out)
    number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
    return atomic_write(Path(out) / RESULTS / f"part-{number:06d}.parquet",
                        lambda p: pq.write_table(table, p))


def append_log(out: Path, entries: list[dict[str, Any]]) -> None:
    """Timings and hosts of committed runs (not results: a line lost to a kill loses
    nothing that a rerun needs)."""
    with open(Path(out) / LOG, "a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(e) + "\n" for e in entries)
        handle.flush()
        os.fsync(handle.fileno())


def read_results(out: Path) -> Any:
    """Every committed row as one pyarrow Table sorted by (sample, seed); columns that one
    part lacks are null there, and an integer column that is null somewhere becomes float."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) for p in parts(out)]
    if not tables:
        return pa.table({"sample": pa.array([], pa.int64()), "seed": pa.array([], pa.int64())})
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.sort_by([("sample", "ascending"), ("seed", "ascending")])
