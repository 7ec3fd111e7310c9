"""What the page shows for one link, from the payloads of its runs: the changes, the
headline differences in words, the compare report's charts (both scenarios on the same
seeds, drawn by the report's own functions), the cascades, and the downloads (the summary
object and the report page, written by the report's page writer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from purgesim.ensemble import aggregate
from purgesim.explorer.payload import chart_json
from purgesim.explorer.state import State
from purgesim.explorer.words import figures_of, headline
from purgesim.metrics import METRICS
from purgesim.report import data as report_data
from purgesim.report.page import write_page
from purgesim.report.sections import compare_charts, run_charts, seed_list
from purgesim.results import Result
from purgesim.scenario import Scenario
from purgesim.series import mean_series
from purgesim.version import __version__

Payloads = list[dict[str, Any]]


def at_path(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of plain data (None where there is none)."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def changes(state: State, base: Scenario) -> list[dict[str, Any]]:
    """Each changed field with its value in the base and in the changed scenario."""
    plain = base.model_dump(mode="json")
    return [{"path": path, "from": at_path(plain, path), "to": value}
            for path, value in state.changes]


def compare_input(state: State, names: list[str], runs: list[Payloads]) -> dict[str, Any]:
    """What :func:`purgesim.compare.compare` returns with ``series=True``, from payloads, so
    the compare report's charts draw the explorer's runs."""
    out: dict[str, Any] = {"seeds": state.seed_list, "scale": state.scale, "scenarios": {}}
    for name, payloads in zip(names, runs, strict=True):
        figures = [figures_of(p["summary"]) for p in payloads]
        mean = {}
        for key, _ in METRICS:
            values = [f[key] for f in figures if f[key] is not None]
            mean[key] = None if not values else round(sum(values) / len(values), 6)
        out["scenarios"][name] = {"mean": mean, "runs": figures,
                                  "series": mean_series([p["series"] for p in payloads])}
    return out


def summaries(payloads: Payloads) -> dict[str, Any]:
    """One run's summary, or the ensemble summary of several (as ``run --reps --json``)."""
    found = [p["summary"] for p in payloads]
    return found[0] if len(found) == 1 else aggregate(found)


def view(state: State, base: Scenario, changed: Scenario | None, before: Payloads,
         after: Payloads | None) -> dict[str, Any]:
    """The page's content for ``state``: ``before`` and ``after`` are the payloads of the
    unchanged and the changed scenario, seed by seed."""
    names = [base.name] + ([changed.name] if changed is not None else [])
    runs = [before] + ([after] if after is not None else [])
    compare = compare_input(state, names, runs)
    rows = [] if after is None else headline([figures_of(p["summary"]) for p in before],
                                             [figures_of(p["summary"]) for p in after])
    summary: dict[str, Any] = {"purgesim": __version__, "link": "?" + state.query(),
                               "scale": state.scale, "seeds": state.seed_list,
                               "unchanged": summaries(before)}
    if after is not None:
        summary["changed"] = summaries(after)
        summary["changes"] = changes(state, base)
        summary["differences"] = [r["text"] for r in rows]
    return {
        "query": state.query(), "base": state.base, "names": names, "scale": state.scale,
        "seeds": state.seed_list, "changes": changes(state, base), "headline": rows,
        "compare": [chart_json(c) for c in compare_charts(compare)],
        "cascade": [before[0].get("cascade")] + ([after[0].get("cascade")] if after else []),
        "summary": summary,
    }


def scenario_toml(state: State, scenario: Scenario) -> str:
    """The scenario as a TOML file that ``purgesim run`` runs, headed by where it came from."""
    head = (f"# {scenario.name}: written by the purgesim {__version__} explorer for the link\n"
            f"# ?{state.query()}\n# Run it with: purgesim run THIS-FILE.toml\n\n")
    return head + tomli_w.dumps(scenario.to_toml_dict())


def write_report_page(target: Path, state: State, base: Scenario, changed: Scenario | None,
                      before: Payloads, after: Payloads | None, result: Result) -> Path:
    """The downloadable report of what the page shows: the headline in words, the compare
    charts, then the report of the changed run (its first seed), on one self-contained
    page written by the report's page writer."""
    shown = view(state, base, changed, before, after)
    names = shown["names"]
    words = " ".join(r["text"] for r in shown["headline"]) or "Nothing is changed."
    changes_text = "; ".join(f"{c['path']} = {c['to']} (was {c['from']})"
                             for c in shown["changes"]) or "none"
    intro = (f"{names[-1]} set against {names[0]} on the same seeds (common random numbers). "
             f"Changes: {changes_text}. {words} Figures are real people (sums of agent "
             "weights). The model reports; it does not judge: read the numbers as the "
             "behaviour of mechanisms, not as estimates.")
    compare = compare_input(state, names, [before] + ([after] if after else []))
    charts = compare_charts(compare) + run_charts(result)
    return write_page(
        target, f"purgesim explorer: {' vs '.join(names)}",
        f"scale 1:{state.scale}, {seed_list(state.seed_list)}; purgesim {__version__}",
        intro, report_data.headline(result.summary()), charts,
        f"Built by purgesim serve from the link ?{state.query()}; the charts after the "
        f"compared figures are the report of {names[-1]}, seed {state.seed}.")
