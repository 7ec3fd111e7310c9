"""Shared test setup: the suite never writes the user's real run catalog.

``PURGESIM_CATALOG`` points at a temporary file for the whole session, before any fixture of
any scope runs (a session-scoped autouse fixture is set up first), and the commands the tests
start in subprocesses inherit it. Tests that need a catalog of their own use ``catalog``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from purgesim.catalog import ENV


@pytest.fixture(scope="session", autouse=True)
def _session_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("catalog") / "catalog.duckdb"
    before = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    yield path
    if before is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = before


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty catalog for one test (also seen by the commands it starts)."""
    path = tmp_path / "catalog.duckdb"
    monkeypatch.setenv(ENV, str(path))
    return path
