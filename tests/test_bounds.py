"""Bounds of scenario parameters (:mod:`purgesim.params`): every number of a scenario is finite
and has a maximum that means something; a value outside is refused with one line naming the
field, the value and what is allowed, by ``check`` and ``run`` alike, before anything runs.
The bounds refuse no shipped scenario and no prior range of a shipped calibration."""

from __future__ import annotations

import math
import random
import typing
from importlib import resources
from pathlib import Path

import annotated_types
import pytest
import tomli_w
from pydantic import BaseModel
from typer.testing import CliRunner

from purgesim.calibration import load_config, overrides
from purgesim.cli import app
from purgesim.params import MAX_RUN_WEEKS, MAX_SCALE
from purgesim.problems import number_paths
from purgesim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

runner = CliRunner()


FIELDS = number_paths(load_scenario().model_dump())


def nested(path: tuple[str, ...], value) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


def refusal(**overrides) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario("great-terror", **overrides)
    return info.value.problems


# --------------------------------------------------------------------------------------------
# Every number has a maximum


def _has_maximum(metadata: list) -> bool:
    found = list(metadata)
    for item in metadata:  # a Field(...) inside Annotated carries its own metadata
        found += list(getattr(item, "metadata", []))
    return any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in found)


def _unbounded(annotation, metadata: list, where: str) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _unbounded(base, [*metadata, *extra], where)
    if origin in (dict, list) or origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = typing.get_args(annotation)
        item = args[-1] if origin is dict else None
        out = []
        for arg in ([item] if origin is dict else args):
            out += _unbounded(arg, metadata if origin is not dict else [], where)
        return out
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        out = []
        for name, info in annotation.model_fields.items():
            out += _unbounded(info.annotation, list(info.metadata), f"{where}.{name}")
        return out
    if annotation in (int, float) and not _has_maximum(metadata):
        return [where.lstrip(".")]
    return []


def test_every_number_of_a_scenario_has_a_maximum():
    missing = _unbounded(Scenario, [], "")
    assert not missing, ("numbers without a maximum (use a bounded type of purgesim.params, "
                         f"or Field(le=...) with its reason in the docstring): {missing}")


def test_no_number_may_be_infinite_or_not_a_number():
    for field in ("camps.annual_mortality", "nkvd.capacity_per_million"):
        for value in (math.inf, -math.inf, math.nan):
            lines = refusal(**{field.replace(".", "__"): value})
            assert len(lines) == 1 and f"{field} = " in lines[0] and "finite" in lines[0], lines


# --------------------------------------------------------------------------------------------
# Bad values in every field: one line, no traceback, in check and in run


@pytest.mark.parametrize("value", [math.inf, 1e300, -1e300])
def test_every_numeric_field_refuses_inf_and_huge_values_in_one_line(value):
    wrong = []
    for path in FIELDS:
        field = ".".join(path)
        try:
            load_scenario("great-terror", **{"__".join(path): value})
        except ScenarioError as exc:
            if len(exc.problems) != 1 or f"{field} = " not in exc.problems[0] or \
                    "allowed:" not in exc.problems[0]:
                wrong.append((field, exc.problems))
        else:
            wrong.append((field, "accepted"))
    assert not wrong, wrong


MASKED = " (in the file; an override replaces it, but the file must be valid on its own)"


def test_check_and_run_refuse_each_bad_value_the_same_way_without_running(tmp_path, catalog):
    """40 numeric fields drawn at random (a fixed draw), each at inf, 1e300 and -1e300 in a
    scenario file: `check` and `run` (with an override) exit with code 2 and the same single
    line naming the field, and no run is registered."""
    mismatched = []
    for path in random.Random(18).sample(FIELDS, 40):
        for value in (math.inf, 1e300, -1e300):
            data = {"base": "great-terror", "scale": 5000, **nested(path, value)}
            if path == ("scale",):
                data["scale"] = value
            file = tmp_path / "bad.toml"
            file.write_text(tomli_w.dumps(data), encoding="utf-8")
            results = [runner.invoke(app, ["check", str(file)]),
                       runner.invoke(app, ["run", str(file), "--seed", "3"])]
            errors = [r.stderr.replace(MASKED, "").strip().splitlines() for r in results]
            field = ".".join(path)
            if any(r.exit_code != 2 or not isinstance(r.exception, SystemExit)
                   for r in results) or errors[0] != errors[1] or len(errors[0]) != 1 \
                    or f"{field} = " not in errors[0][0]:
                mismatched.append((field, value, [r.exit_code for r in results], errors))
    assert not mismatched, mismatched[:5]
    assert not catalog.exists(), "a refused scenario must not register a run"


# --------------------------------------------------------------------------------------------
# The bounds refuse nothing that ships


def test_bounds_refuse_no_shipped_scenario():
    for name in shipped_scenarios():
        load_scenario(name)


def test_bounds_refuse_no_prior_range_of_a_shipped_calibration():
    for entry in resources.files("purgesim.calibrations").iterdir():
        if entry.name.endswith(".toml"):
            _, config = load_config(entry.name[:-5])  # checks both ends of every prior
            for name, (low, high) in config.parameters.items():
                for value in (low, (low + high) / 2, high):
                    load_scenario(config.scenario, scale=config.scale,
                                  **overrides({name: value}))


def test_values_a_user_would_want_are_allowed():
    sc = load_scenario("great-terror", scale=MAX_SCALE, operations__elite__names_mean=20.0,
                       nkvd__capacity_per_million=10_000.0, centre__limit_multiplier=50.0,
                       denunciation__base_rate_per_million=500.0,
                       sentencing__album_lag_weeks=104.0, camps__annual_mortality=0.5)
    assert sc.scale == MAX_SCALE


# --------------------------------------------------------------------------------------------
# The findings of issue 18, one by one


@pytest.mark.parametrize(("field", "value"), [
    ("nkvd.capacity_per_million", math.inf),
    ("nkvd.sweep_capacity_per_million", 1e308),
    ("operations.elite.names_mean", 1e300),
    ("operations.ordinary.sentence_lag_weeks", 1e300),
    ("denunciation.base_rate_per_million", 1e300),
    ("operations.elite.names_mean", 1e6),
    ("scale", 1_000_000_000),
])
def test_values_that_crashed_or_ran_for_minutes_are_refused(field, value):
    lines = refusal(**{field.replace(".", "__"): value})
    assert len(lines) == 1 and f"{field} = " in lines[0], lines
    if math.isinf(value):
        assert "allowed: a finite number" in lines[0], lines
    else:
        assert "less than or equal to" in lines[0], lines
        assert "(" in lines[0].split("allowed:")[1], "a maximum says why it is there"


def test_name_weights_all_zero_are_refused():
    zero = {"coworker": 0.0, "household": 0.0, "acquaintance": 0.0, "patron_client": 0.0}
    lines = refusal(interrogation__name_weights=zero)
    assert len(lines) == 1 and "interrogation.name_weights" in lines[0] \
        and "at least one" in lines[0], lines
    load_scenario(interrogation__name_weights={**zero, "household": 1.0})


@pytest.mark.parametrize("code", [99, -1, 0])
def test_unknown_nationality_codes_are_refused(code):
    lines = refusal(operations__latvian__nationalities=[code])
    assert len(lines) == 1 and f"operations.latvian.nationalities.0 = {code}" in lines[0] \
        and "3 (Latvian)" in lines[0], lines


def test_an_unknown_calibration_is_refused(tmp_path, monkeypatch):
    lines = refusal(calibration="no-such-calibration")
    assert len(lines) == 1 and "calibration = 'no-such-calibration'" in lines[0] \
        and "great-terror" in lines[0], lines
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text("", encoding="utf-8")
    assert load_scenario(calibration="mine.toml").calibration == "mine.toml"
    assert load_scenario(calibration="").calibration == ""


def _calendar(**dates) -> dict:
    """Overrides that move calendar events (each event's other fields stay)."""
    return {f"calendar__{event}__date": day for event, day in dates.items()}


def test_a_stop_decree_before_the_start_is_refused_in_one_line():
    lines = refusal(**_calendar(stop_decree="1936-01-06"))
    assert len(lines) == 1 and "calendar.stop_decree.date = 1936-01-06" in lines[0] \
        and "start = 1936-10-05" in lines[0], lines


def test_a_stop_decree_before_order_00447_is_refused_in_one_line():
    lines = refusal(**_calendar(stop_decree="1937-06-07"))
    assert len(lines) == 1 and "calendar.stop_decree.date = 1937-06-07" in lines[0] \
        and "order_00447" in lines[0], lines


def test_a_shorter_run_than_its_base_is_allowed(tmp_path):
    """Events the file does not date itself may fall after a shorter end: the run stops
    before them. An event the file dates after its end is refused."""
    path = tmp_path / "short.toml"
    path.write_text('base = "great-terror"\nend = 1938-01-03\n', encoding="utf-8")
    assert load_scenario(path).end.year == 1938
    path.write_text('base = "great-terror"\nend = 1938-01-03\n[calendar.stop_decree]\n'
                    'date = 1938-11-17\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1
    assert "calendar.stop_decree.date = 1938-11-17: after end = 1938-01-03" in str(info.value)


def test_an_event_after_the_end_is_refused_unless_switched_off():
    lines = refusal(**_calendar(beria_appointed="1945-01-01"))
    assert len(lines) == 1 and "calendar.beria_appointed.date = 1945-01-01" in lines[0] \
        and "end = 1939-12-25" in lines[0] and "enabled = false" in lines[0], lines
    load_scenario(**_calendar(beria_appointed="1945-01-01"), calendar__beria_appointed__enabled=False)


def test_an_end_before_its_start_is_refused():
    lines = refusal(operations__kulak_00447__end="order_00439")
    assert len(lines) == 1 and "operations.kulak_00447.end = 'order_00439'" in lines[0] \
        and "operations.kulak_00447.start = 'order_00447'" in lines[0], lines
    lines = refusal(top__faction_event="stop_decree", top__faction_end="plenum_feb_1937")
    assert len(lines) == 1 and "top.faction_end" in lines[0], lines


def test_orders_a_counterfactual_may_move_are_allowed():
    early = load_scenario("early-stop")  # the stop decree before events it followed in 1938
    assert early.calendar["stop_decree"].date < early.calendar["national_operations_end"].date
    # a switched-off event constrains nothing
    load_scenario(**_calendar(stop_decree="1937-06-07"), calendar__stop_decree__enabled=False)
    load_scenario(**_calendar(order_00447="1939-01-02"), calendar__order_00447__enabled=False)
    # events before the start take effect in its first week
    load_scenario(**_calendar(red_army_purge="1936-06-01"))


def test_a_run_longer_than_twenty_years_is_refused():
    lines = refusal(end="1960-01-04")
    assert len(lines) == 1 and "end = 1960-01-04" in lines[0] \
        and str(MAX_RUN_WEEKS) in lines[0], lines
    assert load_scenario(end="1953-03-02").weeks <= MAX_RUN_WEEKS


@pytest.mark.parametrize("name", ["../../../escaped", "/tmp/anywhere", "a/b", "a\\b", "..",
                                  ".hidden", "", " padded", "x\x1b[31mred", "evil\u202egnp",
                                  "line\nbreak", "long" * 60])
def test_a_name_that_is_a_path_or_unprintable_is_refused(name):
    lines = refusal(name=name)
    assert len(lines) == 1 and lines[0].startswith("great-terror (shipped): name"), lines
    assert "\x1b" not in lines[0] and "\u202e" not in lines[0] and "\n" not in lines[0]


def test_names_in_any_script_are_allowed():
    assert load_scenario(name="Большой террор 1937").name == "Большой террор 1937"


def test_unprintable_characters_anywhere_in_a_file_are_refused(tmp_path):
    path = tmp_path / "bidi.toml"
    path.write_text('base = "great-terror"\ndescription = "abc\u202edef"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: description = 'abc\\u202edef': contains \\u202e; "
                                   "allowed: printable characters (and tabs and newlines)"]


def test_a_byte_order_mark_is_read_past(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbfbase = \"great-terror\"\nscale = 2000\n")
    assert load_scenario(path).scale == 2000


def test_an_override_does_not_hide_an_invalid_value_in_the_file(tmp_path):
    path = tmp_path / "bad-scale.toml"
    path.write_text('base = "great-terror"\nscale = 0\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, scale=1000)
    lines = info.value.problems
    assert len(lines) == 1 and "scale = 0" in lines[0] and "in the file" in lines[0], lines
    # a value the file lacks may come from an override alone
    whole = load_scenario().model_dump(mode="json", exclude={"scale"}, exclude_none=True)
    bare = tmp_path / "bare.toml"
    bare.write_text(tomli_w.dumps(whole), encoding="utf-8")
    assert load_scenario(bare, scale=3000).scale == 3000


def test_run_with_an_override_refuses_a_file_whose_own_value_is_invalid(tmp_path, catalog):
    path = Path(tmp_path / "bad-scale.toml")
    path.write_text('base = "great-terror"\nscale = 0\n', encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--scale", "1000"])
    assert result.exit_code == 2 and "scale = 0" in result.stderr
    assert not catalog.exists()


def test_a_raise_names_a_known_region_or_none(tmp_path):
    """A dated raise for a misspelt region is refused, naming the allowed ones; a raise with
    no region (the regions with work left) is allowed."""
    path = tmp_path / "raise.toml"
    raise_ = '[[centre.raises]]\nevent = "ukraine_raise_1938"\namount = 100.0\ncat1_share = 0.5\n'
    path.write_text('base = "great-terror"\n' + raise_ + 'region = "Ukrain"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "'Ukrain': not a region" in text and "'Ukraine'" in text and "or none" in text
    path.write_text('base = "great-terror"\n' + raise_, encoding="utf-8")
    assert load_scenario(path).centre.raises[-1].region is None
