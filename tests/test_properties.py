"""Property-based tests (hypothesis, issue 18).

- Random valid scenarios near the defaults (a few parameters scaled by 0.5 to 2, switches
  flipped, any seed) run without error at a coarse scale and keep the invariants: arrests by
  source add up to the total; nobody is convicted twice or sentenced before arrest; every
  death comes after a sentence; a rerun is byte-identical.
- The scenario loader, fed random values in every field and random text: it loads or refuses,
  and every refusal is one line per problem naming the file and a field, never a traceback.

Every test runs a fixed number of examples drawn reproducibly (``derandomize=True``, no
example database), so CI tries the same cases each time; the counts are checked at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import tempfile
from pathlib import Path

import annotated_types
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import purgesim as ps
from purgesim.problems import metadata_at
from purgesim.scenario import Scenario, ScenarioError, load_scenario

RUNS = 20
FIELD_CASES = 400
TEXT_CASES = 200
tried = {"runs": 0, "fields": 0, "text": 0}

DEFAULT = load_scenario()


def leaves(data: dict, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    out: dict[tuple[str, ...], object] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(leaves(value, (*path, key)))
        else:
            out[(*path, key)] = value
    return out


LEAVES = leaves(DEFAULT.model_dump())
NUMBERS = sorted(p for p, v in LEAVES.items() if isinstance(v, int | float)
                 and not isinstance(v, bool) and p not in (("scale",), ("seed",)))
SWITCHES = ["interrogation.torture", "remarks.speech_tolerated", "families.enabled",
            "camps.enabled", "purgers.enabled", "top.enabled", "economy.enabled",
            "denunciation.enabled", "remarks.enabled", "centre.enabled", "aftermath.enabled",
            "interrogation.enabled", "calendar.physical_methods.enabled",
            "calendar.stop_decree.enabled", "calendar.order_00486.enabled"]
SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def bounds(path: tuple[str, ...]) -> tuple[float, float, bool]:
    """(lowest, highest, low end open) allowed for a numeric field."""
    low, high, open_low = -math.inf, math.inf, False
    for m in metadata_at(Scenario, path):
        if isinstance(m, annotated_types.Ge):
            low = max(low, float(m.ge))
        elif isinstance(m, annotated_types.Gt):
            low, open_low = max(low, float(m.gt)), True
        elif isinstance(m, annotated_types.Le):
            high = min(high, float(m.le))
    return low, high, open_low


@st.composite
def near_default(draw: st.DrawFn) -> dict[str, object]:
    """Overrides: a few numbers scaled by 0.5-2 (within their bounds), a few switches."""
    overrides: dict[str, object] = {}
    for path in draw(st.lists(st.sampled_from(NUMBERS), max_size=6, unique=True)):
        default = LEAVES[path]
        value = default * draw(st.floats(0.5, 2.0))
        low, high, open_low = bounds(path)
        value = min(max(value, low), high)
        if open_low and value <= low:
            value = default
        overrides["__".join(path)] = round(value) if isinstance(default, int) else value
    for switch in draw(st.lists(st.sampled_from(SWITCHES), max_size=3, unique=True)):
        path = tuple(switch.split("."))
        overrides["__".join(path)] = not LEAVES.get(path, True)
    if draw(st.booleans()):
        overrides["sentencing__court"] = draw(st.sampled_from(["troika", "evidence"]))
    return overrides


def parquet_bytes(result: ps.Result) -> bytes:
    sink = io.BytesIO()
    pq.write_table(result.events_table(), sink)
    return sink.getvalue()


@settings(max_examples=RUNS, **SETTINGS)
@given(overrides=near_default(), seed=st.integers(1, 10**6))
def test_random_scenarios_near_the_defaults_run_and_keep_the_invariants(overrides, seed):
    try:
        scenario = load_scenario("great-terror", scale=20000, seed=seed, **overrides)
    except ScenarioError:
        assume(False)  # e.g. workplace shares over 1: a refusal, tested below
        raise
    tried["runs"] += 1
    result = ps.run(scenario)
    summary = result.summary()
    assert sum(summary["by_source"].values()) == summary["totals"]["arrested"]
    ev = result.events_table()
    convicted = ev.filter(pc.is_in(pc.cast(ev["sentence"], pa.string()),
                                   value_set=pa.array(["cat1", "cat2"])))
    persons = convicted["person"].to_numpy()
    assert len(set(persons.tolist())) == len(persons), "nobody is convicted twice"
    sentenced = ev.filter(pc.is_valid(ev["sentence_date"]))
    assert pc.all(pc.greater_equal(sentenced["sentence_date"], sentenced["date"])).as_py()
    died = ev.filter(pc.is_valid(ev["died_date"]))
    assert pc.all(pc.is_valid(died["sentence_date"])).as_py() if died.num_rows else True
    if died.num_rows:
        assert pc.all(pc.greater_equal(died["died_date"], died["sentence_date"])).as_py()
    again = ps.run(scenario)
    assert json.dumps(again.summary()) == json.dumps(summary)
    assert parquet_bytes(again) == parquet_bytes(result), "a rerun is byte-identical"


# --------------------------------------------------------------------------------------------
# The loader, fuzzed


FIELD_PATHS = sorted(LEAVES) + sorted({p[:-1] for p in LEAVES if len(p) > 1})
"""Every field of the default scenario, and every table (replaced by a value as a whole)."""

hostile_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300, 1e308, 0.0, -0.0]),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["../../etc", "/abs/path", "x\x1b[31m", "a\u202eb", "", "stop_decree",
                     "kulak", "great-terror"]),
    st.lists(st.integers(-5, 300), max_size=3),
    st.lists(st.text(max_size=8), max_size=3),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.dictionaries(st.text(max_size=8), st.integers(-3, 3), max_size=3),
)


def nested(path: tuple[str, ...], value: object) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value  # type: ignore[return-value]


def merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


FIELD_FIRST = re.compile(r"(\'[^\']*\'|[^\s:=][^:=]*?)( = |: )")
"""A problem names its field first (``camps.annual_mortality = ...``, ``name: ...``)."""
FILE_PROBLEMS = ("not valid TOML", "cannot be read", "base = ")


def assert_refused_in_lines(path: Path, exc: ScenarioError, changed: list[str]) -> None:
    assert exc.problems, "a refusal says why"
    for line in exc.problems:
        assert "\n" not in line and line.startswith(f"{path}: "), line
        rest = line[len(f"{path}: "):]
        assert FIELD_FIRST.match(rest) or rest.startswith(FILE_PROBLEMS), line
    if changed:  # some line names a field that was changed, or its table
        tops = {c.split(".")[0] for c in changed}
        assert any(top in line for top in tops for line in exc.problems), (changed,
                                                                           exc.problems)


@settings(max_examples=FIELD_CASES, **SETTINGS)
@given(changes=st.lists(st.tuples(st.sampled_from(FIELD_PATHS), hostile_values),
                        min_size=1, max_size=3))
def test_random_values_in_any_field_are_loaded_or_refused_in_one_line_each(changes):
    tried["fields"] += 1
    import tomli_w

    data: dict = {"base": "great-terror"}
    for path, value in changes:
        data = merge(data, nested(path, value))
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):
        assume(False)  # not expressible in TOML (a NUL in a key, say)
        raise
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert_refused_in_lines(path, exc, [".".join(p) for p, _ in changes])


@settings(max_examples=TEXT_CASES, **SETTINGS)
@given(text=st.one_of(
    st.text(max_size=200),
    st.builds(lambda body: 'base = "great-terror"\n' + body, st.text(max_size=120)),
    st.builds(lambda k, v: f'base = "great-terror"\n{k} = {v}\n',
              st.sampled_from(["scale", "seed", "name", "start", "[camps]\nannual_mortality",
                               "[calendar.stop_decree]\ndate", "[nkvd]\ncapacity_per_million"]),
              st.sampled_from(["inf", "nan", "-inf", "1e999", "0x7fffffffffffffff", "1979-05-27",
                               "1937-02-30", '"\\u202e"', "[]", "{}", "true", '"../x"', "-0",
                               "99999999999999999999"]))))
def test_random_text_is_loaded_or_refused_in_one_line_each(text):
    tried["text"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert_refused_in_lines(path, exc, [])


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print(f"\nhypothesis cases tried: {tried}")
