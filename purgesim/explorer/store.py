"""The explorer's results on disk, so that a classroom does not compute the same run twice.

Under one folder (``purgesim serve --data``, by default the user's cache folder):

- ``runs/KEY/``: a run as ``purgesim run --out`` writes it, plus ``payload.json.gz``, what
  the page needs of it (summary, light series, the report's charts, the cascade), written
  last: a folder without it is not finished. KEY is a hash of the package version, the git
  commit, the scenario (its name and description aside: they change no number) and the seed,
  so a new version of the model never reads an old run.
- ``views/KEY.json.gz``: what the page shows for one link; ``charts/KEY.json.gz``: the
  report's charts of its runs, side by side; ``claims/KEY.json.gz``: one
  claim's answer; ``reports/KEY.html``: a downloadable report.

Every file is written atomically (:mod:`purgesim.files`), so two workers computing the same
run at once leave one whole copy. The oldest run folders beyond a bound are deleted.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from purgesim.explorer.state import digest
from purgesim.files import atomic_write_bytes, git_commit
from purgesim.scenario import Scenario
from purgesim.version import __version__

PAYLOAD = "payload.json.gz"
KEY = re.compile(r"[0-9a-f]{24}")
KINDS = ("views", "charts", "claims", "reports")
STALE_SECONDS = 3600.0


def code_version() -> dict[str, str | None]:
    """What a cached result depends on besides its inputs: the code that computed it."""
    return {"version": __version__, "commit": git_commit()}


def run_key(scenario: Scenario, seed: int) -> str:
    """The key of one run: the code, the scenario without its labels, and the seed."""
    numbers = scenario.model_dump(mode="json", exclude={"name", "description", "seed"})
    return digest({**code_version(), "scenario": numbers, "seed": seed})


def read_json(path: Path) -> Any:
    """A gzipped JSON file, or None if it is not there (or not whole)."""
    try:
        return json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError):
        return None


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, separators=(",", ":"), default=str).encode()
    return atomic_write_bytes(path, gzip.compress(text, compresslevel=5))


class Store:
    """The folder of cached results."""

    def __init__(self, root: str | Path, keep_runs: int = 1000):
        self.root = Path(root)
        self.keep_runs = keep_runs

    def run_dir(self, key: str) -> Path:
        return self.root / "runs" / key

    def payload(self, key: str) -> dict[str, Any] | None:
        """The payload of a finished run, or None."""
        return read_json(self.run_dir(key) / PAYLOAD)

    def save_payload(self, key: str, payload: dict[str, Any]) -> None:
        write_json(self.run_dir(key) / PAYLOAD, payload)

    def path(self, kind: str, key: str, suffix: str = ".json.gz") -> Path:
        """Where a view, claim or report of ``key`` lives; refuses anything but a key."""
        if kind not in KINDS or not KEY.fullmatch(key):
            raise ValueError(f"{kind}/{key}: allowed: one of {KINDS} and a 24-digit hex key")
        return self.root / kind / f"{key}{suffix}"

    def get(self, kind: str, key: str) -> Any:
        return read_json(self.path(kind, key))

    def put(self, kind: str, key: str, data: Any) -> None:
        write_json(self.path(kind, key), data)

    def prune(self) -> int:
        """Delete the oldest run folders beyond ``keep_runs``, and folders left unfinished
        over an hour ago (a worker stopped halfway), and as many views, claims and reports;
        return how many run folders went."""
        folder = self.root / "runs"
        if not folder.is_dir():
            return 0
        finished, stale = [], []
        now = time.time()
        for entry in folder.iterdir():
            payload = entry / PAYLOAD
            if payload.is_file():
                finished.append((payload.stat().st_mtime, entry))
            elif now - entry.stat().st_mtime > STALE_SECONDS:
                stale.append(entry)
        finished.sort(reverse=True)
        gone = [entry for _, entry in finished[self.keep_runs:]] + stale
        for entry in gone:
            shutil.rmtree(entry, ignore_errors=True)
        for kind in KINDS:
            files = sorted((self.root / kind).glob("*"), key=lambda p: p.stat().st_mtime,
                           reverse=True) if (self.root / kind).is_dir() else []
            for old in files[self.keep_runs:]:
                old.unlink(missing_ok=True)
        return len(gone)
