"""The explorer's parts that need no server (:mod:`purgesim.explorer`): the link's state and
its bounds, uploads, the controls built from the schema, the differences in words, the
essay's claims, the cache keys.

Nothing here runs the model except where it says so (a few runs at 1:20,000); no number
of the model is written here, so a recalibration moves nothing these tests check.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Annotated
from urllib.parse import parse_qsl

import pytest
from pydantic import Field

from purgesim.explorer import claims, controls, state, upload, words
from purgesim.explorer.limits import Limits
from purgesim.explorer.store import Store, run_key
from purgesim.explorer.view import scenario_toml
from purgesim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

LIMITS = Limits()


def refused(call, *args, **kwargs) -> list[str]:
    """The problems of a call that must be refused, each one line."""
    with pytest.raises(ScenarioError) as info:
        call(*args, **kwargs)
    lines = info.value.problems
    assert lines and all("\n" not in line for line in lines)
    return lines


def parsed(query: str, limits: Limits = LIMITS) -> state.State:
    return state.parse_query(parse_qsl(query, keep_blank_values=True), limits)


# ------------------------------------------------------------------------------ the link
def test_a_link_round_trips_and_orders_its_changes():
    st = parsed("sentencing.court=evidence&base=no-torture&seeds=2&scale=5000"
                "&interrogation.torture_before_sanction=0.25&calendar.stop_decree.date=1937-12-27"
                "&operations.kulak_00447.targets=%5B%22kulak%22%5D&name=mine")
    assert st.base == "no-torture" and st.scale == 5000 and st.seeds == 2 and st.name == "mine"
    assert [p for p, _ in st.changes] == sorted(p for p, _ in st.changes)
    assert parsed(st.query()) == st
    assert st.key() == parsed(st.query()).key()
    base, changed = state.scenarios(st, LIMITS)
    assert changed is not None and changed.name == "mine"
    assert changed.sentencing.court == "evidence" and base.sentencing.court == "troika"
    assert changed.calendar["stop_decree"].date == dt.date(1937, 12, 27)
    assert changed.operations["kulak_00447"].targets == ["kulak"]
    assert changed.interrogation.torture_before_sanction == 0.25
    assert base.scale == changed.scale == 5000 and base.seed == changed.seed == st.seed


def test_values_read_as_json_or_text_and_are_written_back_the_same():
    for value in (False, 0.5, 3, None, ["kulak", "believer"], "evidence", "1937-12-27", "true"):
        assert state.decode_value(state.encode_value(value)) == value
    assert state.decode_value("NaN") == "NaN"  # not a number: text, which validation refuses


def test_a_link_without_changes_has_no_changed_scenario():
    base, changed = state.scenarios(parsed(""), LIMITS)
    assert changed is None and base.name == "great-terror" and base.scale == LIMITS.min_scale


@pytest.mark.parametrize(("query", "parts"), [
    ("scale=100", ["scale = 100", f"{LIMITS.min_scale} to {LIMITS.max_scale}"]),
    ("scale=abc", ["scale = 'abc'", "a whole number"]),
    ("seeds=99", ["seeds = 99", f"1 to {LIMITS.max_seeds}"]),
    ("base=../../etc/passwd", ["base = '../../etc/passwd'", "a shipped scenario"]),
    ("base=x.toml", ["base = 'x.toml'", "great-terror"]),
    ("foo=1", ["foo", "unknown setting", "interrogation.torture"]),
    ("scale=2000&scale=5000", ["scale: given twice"]),
    ("seed=1.5", ["seed = '1.5'", "a whole number"]),
    ("name=%3Cscript%3E", ["name = '<script>'", "letters"]),
    ("scale.x=1", ["scale.x", "set by the page"]),
])
def test_a_bad_link_is_refused_with_one_line_naming_the_setting(query, parts):
    lines = refused(parsed, query)
    assert any(all(p in line for p in parts) for line in lines), lines
    assert all(line.startswith("link: ") for line in lines)


@pytest.mark.parametrize(("query", "parts"), [
    ("interrogation.torture=3", ["interrogation.torture = 3", "true or false"]),
    ("interrogation.tortur=false", ["interrogation.tortur", "unknown key", "torture"]),
    ("remarks.hearers=3.5", ["remarks.hearers = 3.5", "an integer"]),
    ("population.guilty_prevalence=2", ["population.guilty_prevalence = 2", "less than or equal"]),
    ("sentencing.court=jury", ["sentencing.court = 'jury'", "troika"]),
    ("calibration=%2Fetc%2Fpasswd", ["calibration = '/etc/passwd'", "shipped calibration"]),
    ("end=1945-12-31", ["end = 1945-12-31", f"at most {LIMITS.max_weeks} weeks"]),
    ("interrogation.torture.x=1", ["interrogation.torture.x", "not a table"]),
])
def test_a_bad_change_is_refused_as_the_cli_refuses_a_file(query, parts):
    lines = refused(state.scenarios, parsed(query), LIMITS)
    assert any(all(p in line for p in parts) for line in lines), lines


def test_a_link_carries_no_more_changes_than_the_bound():
    tight = Limits(max_changes=2)
    query = "evidence.noise=0.1&top.dissent_rate=0&camps.enabled=false"
    assert any("at most 2" in line for line in refused(parsed, query, tight))


# ------------------------------------------------------------------------------ uploads
UPLOAD = """base = "no-torture"
name = "my-course"
scale = 100
[sentencing]
court = "evidence"
[calendar.stop_decree]
date = 1937-12-27
[operations.kulak_00447]
targets = ["kulak"]
"""


def test_an_upload_becomes_a_link_that_reproduces_it_exactly():
    st, notes = upload.state_of_upload(UPLOAD, "my course.toml", LIMITS)
    assert st.base == "no-torture" and st.name == "my-course"
    assert any("scale = 100" in n and f"1:{LIMITS.min_scale}" in n for n in notes)
    _, changed = state.scenarios(parsed(st.query()), LIMITS)
    from_file = load_scenario_text(UPLOAD)
    skip = {"name", "description", "scale", "seed"}
    assert changed is not None
    assert changed.model_dump(exclude=skip) == from_file.model_dump(exclude=skip)


def load_scenario_text(text: str) -> Scenario:
    from purgesim.scenario import loads_scenario

    return loads_scenario(text, "test.toml")


def test_a_whole_file_without_base_is_set_against_great_terror(tmp_path):
    # the explorer's own download is such a file: it must upload again
    st = parsed("interrogation.torture=false&seed=3")
    _, changed = state.scenarios(st, LIMITS)
    text = scenario_toml(st, changed)
    again, _ = upload.state_of_upload(text, "downloaded.toml", LIMITS)
    assert again.base == "great-terror" and again.changes == st.changes and again.seed == 3
    path = tmp_path / "downloaded.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == changed  # and `purgesim run` reads it as it is


@pytest.mark.parametrize(("text", "parts"), [
    ('base = "../../etc/passwd"\n', ["up.toml: base = '../../etc/passwd'", "a shipped name"]),
    ('base = "/tmp/x.toml"\n', ["base = '/tmp/x.toml'", "a shipped name"]),
    ('base = "great-terror"\n[interrogation]\ntorture = 3\n',
     ["up.toml: interrogation.torture = 3: allowed: true or false"]),
    ('base = "great-terror"\ncalibration = "/etc/passwd"\n', ["calibration = '/etc/passwd'"]),
    ("this is = not toml =\n", ["up.toml: not valid TOML"]),
])
def test_a_bad_upload_is_refused_with_the_clis_lines(text, parts):
    lines = refused(upload.state_of_upload, text, "up.toml", LIMITS)
    assert any(all(p in line for p in parts) for line in lines), lines


def test_an_upload_gets_the_same_line_as_purgesim_check(tmp_path):
    text = 'base = "great-terror"\n[remarks]\nhearers = 99\n'
    path = tmp_path / "up.toml"
    path.write_text(text, encoding="utf-8")
    cli = refused(load_scenario, path)
    web = refused(upload.state_of_upload, text, "up.toml", LIMITS)
    assert [line.split(": ", 1)[1] for line in cli] == [line.split(": ", 1)[1] for line in web]


def test_an_uploaded_file_name_is_only_a_label():
    assert upload.upload_label("../../etc/pass wd.toml") == "pass_wd.toml"
    assert upload.upload_label("C:\\x\\y.toml") == "y.toml"
    assert upload.upload_label("") == "upload.toml"


# ------------------------------------------------------------------------------ controls
def schema_and_default() -> tuple[dict, dict]:
    return Scenario.model_json_schema(), load_scenario().model_dump(mode="json")


def test_every_chosen_control_is_a_field_of_the_schema():
    schema, default = schema_and_default()
    made = controls.controls(schema, default)
    chosen = [path for _, fields in controls.GROUPS for path, _ in fields]
    shown = [c["path"] for g in made["groups"] for c in g["controls"]]
    assert shown == chosen, "a control was dropped: its field left the schema (rename it here)"


def test_controls_take_their_kind_range_and_help_from_the_schema():
    schema, default = schema_and_default()
    made = {c["path"]: c for g in controls.controls(schema, default)["all"]
            for c in g["controls"]}
    assert made["interrogation.torture"]["kind"] == "switch"
    assert made["sentencing.court"]["options"] == ["troika", "evidence"]
    assert made["calendar.stop_decree.date"]["kind"] == "date"
    prob = made["evidence.pressure_sensitivity"]
    assert (prob["min"], prob["max"]) == (0.0, 1.0)
    assert prob["help"] == " ".join(Scenario.model_fields["evidence"].annotation
                                    .model_fields["pressure_sensitivity"].description.split())
    # reStructuredText literals lose their backticks on the page, keep their words
    approval = made["centre.approval_probability"]["help"]
    assert "``" not in approval and "until approvals_until;" in approval
    hearers = made["remarks.hearers"]
    assert hearers["integer"] and (hearers["min"], hearers["max"]) == (1, 20)
    # every number has bounds since the hardening; a wide one gets a log slider around the default
    wide = made["centre.limit_multiplier"]
    assert (wide["min"], wide["max"]) == (0.0, 1000.0) and wide["log"]
    assert wide["slider_min"] < default["centre"]["limit_multiplier"] < wide["slider_max"]
    # a number without bounds (a mechanism of one's own) gets a range around its default
    open_ended = controls._numeric({}, "number", 2.5)
    assert open_ended["max"] is None and open_ended["slider_max"] == 10.0
    assert made["population.guilty_prevalence"]["log"]
    # every scalar field of the scenario is offered, lists and labels aside
    assert "operations.kulak_00447.cat1_share" in made and "name" not in made
    assert not any(path.endswith(".targets") for path in made)


def test_controls_follow_the_model_when_a_bound_changes():
    """A mechanism table whose field gets a new bound (and a new field) changes the controls
    with no edit to the explorer."""
    from pydantic import create_model

    from purgesim.mechanisms.interrogation import InterrogationParams

    tighter = create_model(
        "InterrogationParams", __base__=InterrogationParams,
        confess_tortured=(Annotated[float, Field(ge=0.2, le=0.8)], 0.5),
        new_knob=(Annotated[int, Field(ge=0, le=7)], 3))
    schema = Scenario.model_json_schema()
    schema["$defs"]["InterrogationParams"] = tighter.model_json_schema()
    default = load_scenario().model_dump(mode="json")
    default["interrogation"]["new_knob"] = 3
    made = {c["path"]: c for g in controls.controls(schema, default)["all"]
            for c in g["controls"]}
    assert (made["interrogation.confess_tortured"]["min"],
            made["interrogation.confess_tortured"]["max"]) == (0.2, 0.8)
    assert made["interrogation.new_knob"]["max"] == 7


def test_fields_without_a_docstring_borrow_the_default_scenarios_comment():
    comments = controls.toml_comments('x = 1  # one\n[a.b]\ny = "#not" # two\nz = """\n# no\n"""\n')
    assert comments == {"x": "one", "a.b.y": "two"}


# ------------------------------------------------------------------------------ words
def test_the_differences_are_computed_in_words():
    assert words.change("arrested", [1_520_000], [1_050_000])["text"] == (
        "Arrests fall by 31% (from 1.52 to 1.05 million).")
    assert words.change("from_remark", [37_113], [0])["text"].endswith("to none (from 37,100).")
    assert "unchanged" in words.change("cat1", [10], [10])["text"]
    many = words.change("arrested", [100, 200, 300], [90, 150, 330])
    assert many["down"] == 2 and many["up"] == 1 and "in 2 of 3" in many["text"]
    low, high = many["interval"]  # of the paired relative changes: -10%, -25%, +10%
    assert low < -0.2 and high > 0.05


def test_the_headline_leads_with_the_main_figures_and_adds_what_moved():
    before = {key: 1000.0 for key in words.FIGURES}
    after = dict(before, from_remark=0.0, from_family=1010.0)
    rows = words.headline([before], [after])
    keys = [r["key"] for r in rows]
    assert keys[:len(words.MAIN)] == list(words.MAIN)
    assert "from_remark" in keys and "from_family" not in keys


# ------------------------------------------------------------------------------ claims
def test_every_claim_has_a_short_passage_and_counterfactuals_that_change_something():
    base = claims.baseline(20_000, 1)
    assert set(claims.CLAIMS) >= {"quotas", "torture", "punish-ten", "card-files", "sabotage",
                                  "hostages", "overlay"}
    assert len(claims.CLAIMS["overlay"].tests) >= 4
    for claim in claims.CLAIMS.values():
        assert len(claim.passage.split()) <= 60, claim.id
        for test in claim.tests:
            assert test.scenario is None or test.scenario in shipped_scenarios()
            changed = claims.counterfactual_scenario(test, base)
            assert claims.changes_of(test, base), test.id
            assert changed.model_dump(exclude={"name", "description"}) != \
                base.model_dump(exclude={"name", "description"})
            assert all(key in words.FIGURES for key in test.figures)


def test_a_shipped_counterfactual_is_great_terror_with_its_changes():
    base = claims.baseline(20_000, 1)
    test = claims.CLAIMS["trials"].tests[0]
    shipped = load_scenario(test.scenario, scale=20_000)
    made = claims.counterfactual_scenario(test, base)
    labels = {"name", "description"}
    assert made.model_dump(exclude=labels) == shipped.model_dump(exclude=labels)


def test_a_claims_answer_comes_from_the_runs_on_the_same_seeds():
    """Two seeds of a claim at 1:20,000: the answer's means and intervals are those of the
    runs' summaries (computed here again), not numbers written anywhere."""
    from purgesim.sim import run

    test = claims.CLAIMS["trials"].tests[0]
    base = claims.baseline(20_000, 1)
    cf = claims.counterfactual_scenario(test, base)
    before = [run(base, seed=s).summary() for s in (1, 2)]
    after = [run(cf, seed=s).summary() for s in (1, 2)]
    answer = claims.answer(test, before, after)
    row = next(r for r in answer["rows"] if r["key"] == "convicted")
    means = [sum(s["totals"]["convicted"] for s in runs) / 2 for runs in (before, after)]
    assert row["before"] == pytest.approx(means[0]) and row["after"] == pytest.approx(means[1])
    assert row["history"]["p05"] <= row["history"]["mean"] <= row["history"]["p95"]
    assert row["up"] + row["down"] <= 2
    assert row["text"].startswith("Convictions")


# ------------------------------------------------------------------------------ the store
def test_a_run_is_cached_by_the_code_the_scenario_and_the_seed(monkeypatch, tmp_path):
    sc = load_scenario(scale=20_000)
    key = run_key(sc, 1)
    assert run_key(sc, 2) != key
    assert run_key(sc.model_copy(update={"name": "other"}), 1) == key  # labels change nothing
    assert run_key(load_scenario(scale=10_000), 1) != key
    monkeypatch.setattr("purgesim.explorer.store.__version__", "99.0")
    assert run_key(sc, 1) != key
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        store.path("views", "../../etc/passwd")
    store.put("views", "a" * 24, {"x": 1})
    assert store.get("views", "a" * 24) == {"x": 1}


def test_the_downloaded_toml_is_valid_toml_naming_its_link():
    st = parsed("interrogation.torture=false")
    _, changed = state.scenarios(st, LIMITS)
    text = scenario_toml(st, changed)
    assert st.query() in text
    assert tomllib.loads(text)["interrogation"]["torture"] is False


# ------------------------------------------------------------------------------ the command
def test_serve_warns_for_another_host_and_refuses_a_busy_port_in_one_line():
    import socket

    from typer.testing import CliRunner

    from purgesim.cli import app

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--no-browser", "--host", "0.0.0.0",
                                          "--port", str(port)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("warning: --host 0.0.0.0: anyone who can reach this machine")
    assert lines[-1].startswith(f"error: --host 0.0.0.0 --port {port}: ")
    assert "allowed: a free port" in lines[-1]
