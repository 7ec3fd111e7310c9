"""docs/extending.md runs as written, and a mechanism list in the wrong order is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import purgesim as ps
from purgesim.mechanisms import default_mechanisms

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCK = re.compile(r"```(python|toml)\n(.*?)```", re.S)


def test_the_worked_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert [kind for kind, _ in blocks].count("toml") == 1
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for kind, code in blocks:
        if kind == "toml":
            (tmp_path / "review.toml").write_text(code, encoding="utf-8")
        else:
            exec(compile(code, str(DOC), "exec", dont_inherit=True), namespace)  # noqa: S102 - the doc's own code
    # the review acted, and only through its own stream: arrests before it started agree
    assert "reviewed" in namespace and "history" in namespace


def test_a_mechanism_list_missing_a_provider_is_refused():
    scenario = ps.load_scenario(scale=20_000)
    without_centre = [m for m in default_mechanisms(scenario) if m.name != "centre"]
    with pytest.raises(ps.OrderError, match=r"mechanism 'remarks' needs Policy, which nothing "
                                            r"before it in the week provides: no mechanism"):
        ps.Sim(scenario, without_centre).init()


def test_a_provider_after_its_reader_is_refused():
    scenario = ps.load_scenario(scale=20_000)
    mechanisms = default_mechanisms(scenario)
    camps = next(m for m in mechanisms if m.name == "camps")
    mechanisms.remove(camps)
    mechanisms.insert(0, camps)
    with pytest.raises(ps.OrderError, match=r"'camps' needs Sentences.*'sentencing' provides "
                                            r"it but comes later"):
        ps.Sim(scenario, mechanisms).init()
