"""Tests of scenario files (:mod:`purgesim.scenario`): the shipped scenario, inheritance with
``base``, overrides, and bad input refused with one clear line per problem."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import tomli_w

from purgesim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    merge,
    shipped_scenarios,
    with_overrides,
)

START = dt.date(1936, 10, 5)
END = dt.date(1939, 12, 25)
EVENT_IDS = {
    "yezhov_appointed", "wrecking_review", "plenum_feb_1937", "red_army_purge", "physical_methods", "order_00439",
    "order_00447", "order_00485", "order_00486", "order_00593", "latvian_operation",
    "limits_extension_1938", "ukraine_raise_1938", "national_operations_end", "order_00606",
    "order_00689",
    "stop_decree", "beria_appointed",
}


def week_of(date: dt.date) -> int:
    """The first week (0-based, weeks start on Mondays from START) that starts on or after date."""
    return max(0, -(-(date - START).days // 7))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child(folder: Path, text: str, name: str = "child.toml") -> Path:
    """A scenario file that starts from the shipped one."""
    return write(folder, name, 'base = "great-terror"\n' + text)


def problems(path: Path | str, **overrides) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **overrides)
    error = info.value
    assert error.problems, "a ScenarioError must say what is wrong"
    assert str(error) == "\n".join(error.problems)
    assert all("\n" not in line for line in error.problems), "one problem per line"
    return error.problems


def assert_line(lines: list[str], *parts: str) -> str:
    """Some single line contains every one of ``parts``; return it."""
    for line in lines:
        if all(part in line for part in parts):
            return line
    raise AssertionError(f"no line contains all of {parts!r}:\n" + "\n".join(lines))


# --------------------------------------------------------------------------------------------
# The shipped scenario


def test_shipped_scenario_loads_with_its_dates():
    sc = load_scenario()
    assert isinstance(sc, Scenario)
    assert sc.name == "great-terror"
    assert sc.start == START and sc.end == END
    assert sc.weeks == 169
    assert sc.scale == 100 and sc.seed == 1
    assert set(sc.calendar) == EVENT_IDS
    assert all(event.enabled for event in sc.calendar.values())
    assert sc.sentencing.court == "troika"
    assert sc.operations["kulak_00447"].limited


def test_shipped_scenario_by_name_and_by_path_are_the_same():
    path = resources.files("purgesim.scenarios").joinpath("great-terror.toml")
    assert load_scenario(Path(str(path))) == load_scenario("great-terror") == load_scenario()


def test_shipped_scenarios_are_listed_with_a_description():
    shipped = shipped_scenarios()
    assert "great-terror" in shipped
    assert shipped["great-terror"].strip()
    for name in shipped:  # every shipped scenario is valid
        assert load_scenario(name).weeks > 0


def test_event_week():
    sc = load_scenario()
    assert sc.event_week(None) is None
    assert sc.event_week("yezhov_appointed") == 0  # before the start: in effect from week 0
    stop = dt.date(1938, 11, 17)
    assert sc.event_week("stop_decree") == week_of(stop)
    # the week in which an event takes effect starts on or after its date
    assert sc.start + dt.timedelta(weeks=sc.event_week("stop_decree")) >= stop
    assert sc.start + dt.timedelta(weeks=sc.event_week("stop_decree") - 1) < stop
    assert sc.event_week("order_00447") < sc.event_week("stop_decree")


# --------------------------------------------------------------------------------------------
# Inheritance


def test_merge_tables_key_by_key_and_replace_everything_else():
    base = {"a": 1, "t": {"x": 1, "y": [1, 2], "u": {"p": 1, "q": 2}}, "arr": [1, 2, 3]}
    change = {"t": {"y": [9], "u": {"q": 5}}, "arr": [7], "new": {"k": 1}}
    assert merge(base, change) == {
        "a": 1, "t": {"x": 1, "y": [9], "u": {"p": 1, "q": 5}}, "arr": [7], "new": {"k": 1}}
    assert base["t"]["u"] == {"p": 1, "q": 2}, "merge does not change its inputs"
    assert merge({"t": {"x": 1}}, {"t": 3}) == {"t": 3}


def test_base_changes_only_what_differs(tmp_path):
    parent = load_scenario()
    sc = load_scenario(child(tmp_path, """
name = "my-terror"
scale = 5000
[camps]
enabled = false
[population.workplaces.factory]
share = 0.2
[operations.ordinary]
targets = ["kulak"]
[interrogation.name_weights]
household = 0.5
"""))
    assert sc.name == "my-terror"
    assert sc.scale == 5000
    assert sc.seed == parent.seed and sc.start == parent.start and sc.end == parent.end
    # tables merge key by key
    assert sc.camps.enabled is False
    assert sc.camps.annual_mortality == parent.camps.annual_mortality
    factory = sc.population.workplaces["factory"]
    assert factory.share == 0.2
    assert factory.size_median == parent.population.workplaces["factory"].size_median
    assert sc.interrogation.name_weights["household"] == 0.5
    assert sc.interrogation.name_weights["coworker"] == parent.interrogation.name_weights["coworker"]
    # arrays are replaced, not appended to
    assert sc.operations["ordinary"].targets == ["kulak"]
    assert sc.operations["ordinary"].rate == parent.operations["ordinary"].rate
    # everything not mentioned is the parent's
    assert sc.operations.keys() == parent.operations.keys()
    assert sc.calendar == parent.calendar
    assert sc.population.taint == parent.population.taint
    assert sc.centre == parent.centre and sc.sentencing == parent.sentencing


def test_a_child_without_a_name_is_named_after_its_file(tmp_path):
    sc = load_scenario(child(tmp_path, "seed = 4\n", name="no-stop.toml"))
    assert sc.name == "no-stop"
    assert sc.description == ""  # the parent's description is not inherited
    assert sc.seed == 4


def test_calendar_event_moved_and_disabled(tmp_path):
    parent = load_scenario()
    sc = load_scenario(child(tmp_path, """
[calendar.stop_decree]
date = 1938-03-01
[calendar.order_00689]
enabled = false
[calendar.plenum_feb_1937]
date = 1936-01-01
"""))
    moved = sc.calendar["stop_decree"]
    assert moved.date == dt.date(1938, 3, 1)
    assert moved.enabled and moved.note == parent.calendar["stop_decree"].note
    assert sc.event_week("stop_decree") == week_of(dt.date(1938, 3, 1))
    assert sc.event_week("stop_decree") < parent.event_week("stop_decree")

    off = sc.calendar["order_00689"]
    assert off.enabled is False and off.date == parent.calendar["order_00689"].date
    assert parent.event_week("order_00689") is not None
    assert sc.event_week("order_00689") is None

    assert sc.event_week("plenum_feb_1937") == 0  # moved before the start
    others = EVENT_IDS - {"stop_decree", "order_00689", "plenum_feb_1937"}
    assert all(sc.event_week(e) == parent.event_week(e) for e in others)


def test_operation_table_merges_with_the_base(tmp_path):
    sc = load_scenario(child(tmp_path, """
[operations.elite]
start = "red_army_purge"
rate = 1.5
"""))
    assert sc.operations["elite"].rate == 1.5
    assert sc.operations["elite"].start == "red_army_purge"
    assert sc.operations["elite"].sentenced_by == "collegium"  # from the base
    assert sc.operations["elite"].album_until is None  # the model's default


def test_base_by_relative_path_from_the_files_folder(tmp_path, monkeypatch):
    write(tmp_path, "scenarios/parent.toml", 'base = "great-terror"\nscale = 900\nseed = 3\n')
    write(tmp_path, "scenarios/sub/child.toml", 'base = "../parent.toml"\nseed = 5\n')
    write(tmp_path, "grandchild.toml", """
base = "scenarios/sub/child.toml"
name = "grandchild"
[camps]
enabled = false
""")
    # resolved from the file's folder, not from the working directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write(elsewhere, "scenarios/sub/child.toml", 'base = "great-terror"\nscale = 1\n')
    monkeypatch.chdir(elsewhere)
    sc = load_scenario(tmp_path / "grandchild.toml")
    assert sc.name == "grandchild"
    assert sc.scale == 900  # from parent.toml
    assert sc.seed == 5  # child.toml overrides parent.toml
    assert sc.camps.enabled is False
    assert sc.weeks == 169  # from the shipped scenario at the root of the chain


def test_relative_base_is_not_looked_up_in_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, "parent.toml", 'base = "great-terror"\n')
    path = write(tmp_path, "sub/child.toml", 'base = "parent.toml"\n')
    monkeypatch.chdir(tmp_path)  # parent.toml exists here, but not in sub/
    lines = problems(path)
    assert_line(lines, str(path), "base = 'parent.toml'", str(tmp_path / "sub" / "parent.toml"))


def test_base_by_absolute_path(tmp_path):
    parent = write(tmp_path, "a/parent.toml", 'base = "great-terror"\nscale = 700\n')
    sc = load_scenario(write(tmp_path, "b/child.toml", f'base = "{parent}"\n'))
    assert sc.scale == 700


@pytest.mark.parametrize("files", [
    {"self.toml": 'base = "self.toml"'},
    {"a.toml": 'base = "b.toml"', "b.toml": 'base = "a.toml"'},
    {"a.toml": 'base = "sub/b.toml"', "sub/b.toml": 'base = "../c.toml"',
     "c.toml": 'base = "a.toml"'},
    # the same file under another spelling of its path
    {"a.toml": 'base = "../d/a.toml"'},
])
def test_base_loop_is_refused(tmp_path, files):
    folder = tmp_path / "d"
    for name, text in files.items():
        write(folder, name, text + "\n")
    first = folder / next(iter(files))
    lines = problems(first)
    assert len(lines) == 1
    assert_line(lines, "base = ", "loops back")


def test_missing_base_file_names_the_file_and_the_base(tmp_path):
    path = child(tmp_path, "")
    path.write_text('base = "nowhere.toml"\n')
    lines = problems(path)
    assert_line(lines, str(path), "base = 'nowhere.toml'", "no such file", "great-terror")


def test_unknown_shipped_name(tmp_path):
    path = write(tmp_path, "c.toml", 'base = "grate-terror"\n')
    assert_line(problems(path), str(path), "base = 'grate-terror'", "great-terror")
    assert_line(problems("no-such-scenario"), "no-such-scenario", "great-terror")
    assert_line(problems(tmp_path / "absent.toml"), "absent.toml", "no such scenario file")


# --------------------------------------------------------------------------------------------
# Overrides


def test_overrides_top_level_and_nested():
    sc = load_scenario("great-terror", scale=5000, seed=7, camps__enabled=False,
                       sentencing__court="evidence", calendar__stop_decree__enabled=False)
    assert sc.scale == 5000 and sc.seed == 7
    assert sc.camps.enabled is False
    assert sc.camps.annual_mortality == load_scenario().camps.annual_mortality
    assert sc.sentencing.court == "evidence"
    assert sc.event_week("stop_decree") is None


def test_none_overrides_are_ignored():
    assert load_scenario("great-terror", scale=None, seed=None) == load_scenario()


def test_overrides_apply_to_a_file_with_a_base(tmp_path):
    sc = load_scenario(child(tmp_path, "scale = 300\n"), scale=5000, interrogation__torture=False)
    assert sc.scale == 5000 and sc.interrogation.torture is False


def test_bad_overrides_are_refused():
    lines = problems("great-terror", scale=0)
    line = assert_line(lines, "great-terror", "scale = 0", "greater than or equal to 1")
    assert "override" in line
    assert_line(problems("great-terror", camps__enabled="no"), "camps.enabled = 'no'")
    assert_line(problems("great-terror", camps__bogus=1), "camps.bogus", "unknown key")
    assert_line(problems("great-terror", scale__x=1), "scale", "not a table")


# --------------------------------------------------------------------------------------------
# Bad input: one line per problem, naming the file, the field, the value and what is allowed


BAD = {
    "unknown_key": ("bogus = 3", ["bogus = 3", "unknown key", "calendar"]),
    "unknown_nested_key": ("[camps]\nanual_mortality = 0.1",
                           ["camps.anual_mortality = 0.1", "unknown key", "annual_mortality"]),
    "unknown_table": ("[newtable]\nx = 1", ["newtable", "unknown key"]),
    "unknown_event_key": ("[calendar.stop_decree]\ndat = 1938-01-01",
                          ["calendar.stop_decree.dat = 1938-01-01", "date, enabled"]),
    "wrong_type_int": ('scale = "big"', ["scale = 'big'", "integer"]),
    "float_for_int": ("[population.workplaces.factory]\nsize_max = 2.5",
                      ["population.workplaces.factory.size_max = 2.5", "integer"]),
    "wrong_type_bool": ('[camps]\nenabled = "yes"', ["camps.enabled = 'yes'", "true or false"]),
    "int_for_bool": ("[calendar.stop_decree]\nenabled = 1",
                     ["calendar.stop_decree.enabled = 1", "true or false"]),
    "bool_for_float": ("[camps]\nannual_mortality = true",
                       ["camps.annual_mortality = true", "number"]),
    "wrong_type_table": ("camps = 3", ["camps = 3", "table"]),
    "wrong_type_array": ('[operations.ordinary]\ntargets = "kulak"',
                         ["operations.ordinary.targets = 'kulak'", "array"]),
    "probability_above_1": ("[camps]\nannual_mortality = 1.5",
                            ["camps.annual_mortality = 1.5", "less than or equal to 1"]),
    "probability_below_0": ("[interrogation]\nconfess_tortured = -0.1",
                            ["interrogation.confess_tortured = -0.1",
                             "greater than or equal to 0"]),
    "probability_in_dict": ("[population.card_file]\nkulak = 2.0",
                            ["population.card_file.kulak = 2.0", "less than or equal to 1"]),
    "scale_below_1": ("scale = 0", ["scale = 0", "greater than or equal to 1"]),
    "negative_seed": ("seed = -1", ["seed = -1", "greater than or equal to 0"]),
    "end_before_start": ("end = 1936-01-06", ["end = 1936-01-06", "start = 1936-10-05",
                                              "on or after start"]),
    "start_not_monday": ("start = 1936-10-06", ["start = 1936-10-06", "Tuesday", "Monday"]),
    "date_string": ('[calendar.stop_decree]\ndate = "1938-13-01"',
                    ["calendar.stop_decree.date = '1938-13-01'", "date such as"]),
    "datetime": ("start = 1936-10-05T00:00:00", ["start = 1936-10-05T00:00:00", "date such as"]),
    "unknown_event_id": ("[calendar.coronation]\ndate = 1937-05-12",
                         ["calendar.coronation", "unknown calendar event id 'coronation'",
                          "'stop_decree'"]),
    "unknown_operation": ("[operations.swedish]\nrate = 1.0",
                          ["operations.swedish", "unknown operation name 'swedish'",
                           "'kulak_00447'"]),
    "unknown_event_in_operation": ('[operations.ordinary]\nstart = "yezhov_fired"',
                                   ["operations.ordinary.start = 'yezhov_fired'",
                                    "'yezhov_appointed'"]),
    "unknown_event_in_aftermath": ('[aftermath]\nrelease_event = "thaw"',
                                   ["aftermath.release_event = 'thaw'", "'beria_appointed'"]),
    "unknown_target": ('[operations.ordinary]\ntargets = ["kulak", "martian"]',
                       ["operations.ordinary.targets.1 = 'martian'", "'troublemaker'"]),
    "unknown_taint_key": ("[population.taint]\nmartian = 0.1",
                          ["population.taint.martian", "unknown", "'kulak'"]),
    "diaspora_taint": ("[population.taint]\ndiaspora = 0.1", ["population.taint", "diaspora"]),
    "unknown_court": ('[sentencing]\ncourt = "jury"',
                      ["sentencing.court = 'jury'", "'troika' or 'evidence'"]),
    "workplace_shares": ("[population.workplaces.office]\nshare = 0.8",
                         ["population", "shares add up to", "at most 1"]),
    "base_not_a_string": ("", ["base = 3", "shipped name or a path"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_a_clear_line(tmp_path, case):
    text, expected = BAD[case]
    if case == "base_not_a_string":
        path = write(tmp_path, "bad.toml", "base = 3\n")
    else:
        path = child(tmp_path, text + "\n", name="bad.toml")
    lines = problems(path)
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    assert_line(lines, str(path), *expected)
    assert "Traceback" not in "\n".join(lines)


def test_bad_toml_syntax(tmp_path):
    path = child(tmp_path, "scale = = 3\n", name="syntax.toml")
    lines = problems(path)
    assert len(lines) == 1
    assert_line(lines, str(path), "not valid TOML", "line 2")


def test_bad_toml_syntax_in_a_base_file_names_that_file(tmp_path):
    parent = write(tmp_path, "parent.toml", "[camps\n")
    path = write(tmp_path, "child.toml", 'base = "parent.toml"\n')
    assert_line(problems(path), str(parent), "not valid TOML")


def test_file_that_is_not_text(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00scale = 3")
    assert_line(problems(path), "binary.toml")


def test_a_file_without_base_must_set_every_field(tmp_path):
    path = write(tmp_path, "bare.toml", 'name = "bare"\nscale = 10\n')
    lines = problems(path)
    for field in ("seed", "start", "end", "calendar", "population", "camps"):
        assert_line(lines, str(path), f"{field}: missing")
    assert not any(line.startswith(f"{path}: scale") for line in lines)


def test_several_problems_are_reported_together(tmp_path):
    path = child(tmp_path, """
scale = 0
seed = "x"
bogus = 3
[camps]
annual_mortality = 1.5
enabled = "yes"
[calendar.coronation]
date = 1937-05-12
[operations.swedish]
rate = 1.0
[sentencing]
court = "jury"
""", name="many.toml")
    lines = problems(path)
    assert len(lines) == 8, lines
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert_line(lines, "scale = 0")
    assert_line(lines, "seed = 'x'")
    assert_line(lines, "bogus = 3")
    assert_line(lines, "camps.annual_mortality = 1.5")
    assert_line(lines, "camps.enabled = 'yes'")
    assert_line(lines, "calendar.coronation")
    assert_line(lines, "operations.swedish")
    assert_line(lines, "sentencing.court = 'jury'")


def test_date_problems_are_reported_together(tmp_path):
    path = child(tmp_path, "start = 1939-10-03\nend = 1937-01-05\n", name="dates.toml")
    lines = problems(path)
    assert len(lines) == 3, lines
    assert_line(lines, str(path), "end = 1937-01-05", "start = 1939-10-03")
    assert_line(lines, str(path), "start = 1939-10-03", "Tuesday", "Monday")
    assert_line(lines, str(path), "end = 1937-01-05", "Tuesday", "Monday")


# --------------------------------------------------------------------------------------------
# The resolved scenario as data


def test_resolved_scenario_round_trips_through_toml(tmp_path):
    sc = load_scenario(child(tmp_path, """
name = "round-trip"
[population]
camp_size_median = 150
[calendar.order_00689]
enabled = false
[operations.elite]
rate = 1.0
"""), scale=5000, seed=11)
    data = sc.to_toml_dict()
    assert "base" not in data
    text = tomli_w.dumps(data)
    assert tomllib.loads(text)["scale"] == 5000
    path = write(tmp_path, "resolved/scenario.toml", text)
    again = load_scenario(path)
    assert again == sc
    assert again.event_week("order_00689") is None
    assert again.population.camp_size_median == 150.0


def test_scenario_is_immutable():
    sc = load_scenario()
    with pytest.raises(ValueError):
        sc.scale = 3  # type: ignore[misc]


def test_overrides_apply_the_same_to_a_name_and_to_a_scenario_object():
    """One override function: a loaded scenario takes nested overrides as a name does."""
    by_name = load_scenario("great-terror", scale=5000, sentencing__court="evidence")
    by_object = with_overrides(load_scenario("great-terror"), scale=5000,
                               sentencing__court="evidence")
    assert by_object == by_name
    with pytest.raises(ScenarioError, match="sentencing.court = 'nobody'.*override"):
        with_overrides(by_name, sentencing__court="nobody")


def test_the_calendar_of_the_history_agrees_with_the_data_file():
    """Every event of great-terror.toml that data/calendar.csv dates has that row's date;
    every id in the data file is an event a scenario can hold."""
    from purgesim import datasets
    from purgesim.vocab import EVENTS

    rows = [r for r in datasets.calendar() if r["id"]]
    assert len(rows) >= 13
    calendar = load_scenario("great-terror").calendar
    for row in rows:
        assert row["id"] in EVENTS, row
        assert str(calendar[row["id"]].date) == row["date"], row
