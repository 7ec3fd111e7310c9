"""The documentation site (mkdocs.yml, docs/): it builds with every warning an error, and its
tutorials run as written.

A tutorial's blocks run in order in an empty folder with a catalog of its own: ``bash`` blocks
in bash (stopping at the first failing command), ``python`` blocks in one namespace per page,
and a ``toml`` block whose first line is ``# file: NAME`` is written to NAME. Blocks of any
other kind (``console``, ``text``) are shown, not run. The tutorials use coarse scales and a
few particles, so the whole page set runs in about a minute."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "purgesim run" in cli and "--force" in cli, "the CLI reference is generated"
    bounds = (site / "reference" / "bounds" / "index.html").read_text(encoding="utf-8")
    assert "denunciation.base_rate_per_million" in bounds and "MAX_FACTOR" in bounds
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "load_scenario" in api and "Result" in api
    faq = (site / "faq" / "index.html").read_text(encoding="utf-8")
    assert "Measured performance" in faq and "benchmarks" in faq
    for page in ("mechanisms", "glossary", "getting-started", *(p.stem for p in TUTORIALS)):
        assert list(site.rglob(f"{page}/index.html")), page


def test_every_tutorial_is_in_the_site_and_runs_something():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in TUTORIALS:
        assert f"tutorials/{page.name}" in nav, page.name
        kinds = [kind for kind, _ in BLOCK.findall(page.read_text(encoding="utf-8"))]
        assert "bash" in kinds, f"{page.name} runs no command"


@pytest.mark.parametrize("page", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_the_tutorial_runs_as_written(page: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PURGESIM_CATALOG", str(tmp_path / "catalog.duckdb"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    namespace: dict[str, object] = {}
    ran = 0
    for kind, code in BLOCK.findall(page.read_text(encoding="utf-8")):
        if kind == "toml":
            first = code.splitlines()[0]
            assert first.startswith("# file: "), f"{page.name}: a toml block names its file"
            (tmp_path / first.removeprefix("# file: ").strip()).write_text(code,
                                                                           encoding="utf-8")
        elif kind == "bash":
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{page.name}:\n{code}\n{done.stderr[-3000:]}"
            assert "Traceback" not in done.stderr, done.stderr
            ran += 1
        elif kind == "python":
            exec(compile(code, str(page), "exec", dont_inherit=True), namespace)  # noqa: S102 - the page's own code
            ran += 1
    assert ran
