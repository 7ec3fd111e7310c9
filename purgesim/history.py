"""Model against history: the figures of ``data/history.csv`` that a run can be compared with.

Each comparable figure says how to compute it from a run's event table (in real people), which
historical row it is compared with, and, where the sources disagree, which row gives the range.
The annual components of the sources do not always add up to their totals, so every figure is
compared on its own. Figures at the top (the Central Committee, the Congress, the army) are
read from the run's summary. ``purgesim history`` runs it (:mod:`purgesim.history_check`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from purgesim import datasets
from purgesim import weeks as clock
from purgesim.vocab import NATIONAL_OPERATIONS, OCC, OP, SENT

if TYPE_CHECKING:
    from purgesim.results import Result

NATIONAL = tuple(OP[name] for name in NATIONAL_OPERATIONS)


@dataclass(frozen=True)
class Comparable:
    key: str
    """Row of data/history.csv."""
    label: str
    compute: Callable[[Result], float] | None = None
    """How to compute it from a run's event table; or, instead:"""
    summary: tuple[str, ...] = ()
    """Where it is in the run's summary (the figures that need the population's flags)."""
    range_key: str | None = None
    """Another row giving the other end of the historical range, where sources differ."""
    kind: str = "independent"
    """What the figure is, unless a calibration fitted it (then it is a target): "derived"
    (mostly a sum or ratio of the usual targets), "echo" (set by an input), or
    "independent"."""

    def value(self, result: Result, summary: dict[str, Any]) -> float:
        if self.compute is not None:
            return self.compute(result)
        found: Any = summary
        for key in self.summary:
            found = found.get(key) if isinstance(found, dict) else None
        return float("nan") if found is None else float(found)


class _Events:
    """Masks over a run's event table, in real people."""

    def __init__(self, result: Result):
        c = result.columns
        self.arrest = clock.dates(result.start, c["week"])
        self.sentence = clock.dates_or_nat(result.start, c["sentence_week"])
        self.weight = c["weight"].astype(np.int64)
        self.op = c["operation"]
        # The organs' arrest counts are of people taken from freedom: camp inmates re-sentenced
        # by the camp troikas (the Gulag's own Order 00447 limit) count as convictions only.
        names = list(result.region_names)
        self.from_freedom = (c["region"] != names.index("Gulag") if "Gulag" in names
                             else np.ones(len(self.weight), dtype=bool))
        s = c["sentence"]
        self.cat1 = s == SENT["cat1"]
        self.convicted = self.cat1 | (s == SENT["cat2"])

    def sum(self, mask: np.ndarray) -> float:
        return float(self.weight[mask].sum())

    def arrested_between(self, lo: str, hi: str) -> np.ndarray:
        return (self.from_freedom & (self.arrest >= np.datetime64(lo))
                & (self.arrest < np.datetime64(hi)))

    def sentenced_between(self, lo: str, hi: str) -> np.ndarray:
        return (self.sentence >= np.datetime64(lo)) & (self.sentence < np.datetime64(hi))


def _year(kind: str, year: int) -> Callable[[Result], float]:
    lo, hi = f"{year}-01-01", f"{year + 1}-01-01"

    def compute(result: Result) -> float:
        e = _Events(result)
        if kind == "arrested":
            return e.sum(e.arrested_between(lo, hi))
        mask = e.sentenced_between(lo, hi)
        return e.sum(mask & (e.cat1 if kind == "cat1" else e.convicted))

    return compute


def _window(kind: str, hi: str, ops: tuple[int, ...] | None = None) -> Callable[[Result], float]:
    """The NKVD certificate's window, from 1 Oct 1936 to ``hi``."""
    lo = "1936-10-01"

    def compute(result: Result) -> float:
        e = _Events(result)
        in_op = np.ones(len(e.weight), dtype=bool) if ops is None else np.isin(e.op, ops)
        if kind == "arrested":
            return e.sum(in_op & e.arrested_between(lo, hi))
        mask = in_op & e.sentenced_between(lo, hi)
        return e.sum(mask & (e.cat1 if kind == "cat1" else e.convicted))

    return compute


def _operation(kind: str, ops: tuple[int, ...]) -> Callable[[Result], float]:
    def compute(result: Result) -> float:
        e = _Events(result)
        in_op = np.isin(e.op, ops)
        return e.sum(in_op & (e.cat1 if kind == "cat1" else e.convicted))

    return compute


def _occupation(occupation: str, lo: str, hi: str) -> Callable[[Result], float]:
    """Arrests of people of an occupation between two dates."""

    def compute(result: Result) -> float:
        e = _Events(result)
        return e.sum(e.arrested_between(lo, hi)
                     & (result.columns["occupation"] == OCC[occupation]))

    return compute


def _ratio(numerator: Callable[[Result], float], denominator: Callable[[Result], float]
           ) -> Callable[[Result], float]:
    def compute(result: Result) -> float:
        d = denominator(result)
        return numerator(result) / d if d else float("nan")

    return compute


KULAK = (OP["kulak_00447"],)
CERTIFICATE_END = "1938-11-01"

COMPARABLES: tuple[Comparable, ...] = (
    Comparable("arrested_by_organs_1937", "arrests, 1937", _year("arrested", 1937),
               range_key="arrested_pospelov_1937"),
    Comparable("arrested_by_organs_1938", "arrests, 1938", _year("arrested", 1938),
               range_key="arrested_pospelov_1938"),
    Comparable("arrested_by_organs_1939", "arrests, 1939", _year("arrested", 1939)),
    Comparable("convicted_cr_total_1937", "convictions, 1937", _year("convicted", 1937)),
    Comparable("death_sentences_cr_1937", "death sentences, 1937", _year("cat1", 1937)),
    Comparable("convicted_cr_total_1938", "convictions, 1938", _year("convicted", 1938)),
    Comparable("death_sentences_cr_1938", "death sentences, 1938", _year("cat1", 1938)),
    Comparable("convicted_cr_total_1939", "convictions, 1939", _year("convicted", 1939)),
    Comparable("death_sentences_cr_1939", "death sentences, 1939", _year("cat1", 1939)),
    Comparable("arrested_1oct1936_1nov1938", "arrests, 1 Oct 1936 - 1 Nov 1938",
               _window("arrested", CERTIFICATE_END)),
    Comparable("convicted_1oct1936_1nov1938", "convictions, 1 Oct 1936 - 1 Nov 1938",
               _window("convicted", CERTIFICATE_END),
               kind="derived"),
    Comparable("vmn_1oct1936_1nov1938", "death sentences, 1 Oct 1936 - 1 Nov 1938",
               _window("cat1", CERTIFICATE_END),
               kind="derived"),
    Comparable("arrested_order00447_by_1nov1938", "arrests under 00447 by 1 Nov 1938",
               _window("arrested", CERTIFICATE_END, KULAK)),
    Comparable("arrested_national_orders_by_1nov1938",
               "arrests under the national orders by 1 Nov 1938",
               _window("arrested", CERTIFICATE_END, NATIONAL)),
    Comparable("arrested_1oct1936_1jul1938", "arrests, 1 Oct 1936 - 1 Jul 1938",
               _window("arrested", "1938-07-01")),
    Comparable("arrested_national_orders_by_1jul1938",
               "arrests under the national orders by 1 Jul 1938",
               _window("arrested", "1938-07-01", NATIONAL)),
    Comparable("o00447_sentenced_final", "00447 convictions", _operation("convicted", KULAK),
               range_key="o00447_sentenced_roginsky_petrov_est"),
    Comparable("o00447_executed_final", "00447 executions", _operation("cat1", KULAK),
               range_key="o00447_executed_roginsky_petrov_est_mid"),
    Comparable("national_ops_convicted", "national operations convicted",
               _operation("convicted", NATIONAL),
               kind="derived"),
    Comparable("national_ops_shot", "national operations shot", _operation("cat1", NATIONAL)),
    Comparable("ratio_convicted_to_arrested", "convicted / arrested (certificate window)",
               _ratio(_window("convicted", CERTIFICATE_END), _window("arrested", CERTIFICATE_END)),
               kind="derived"),
    Comparable("ratio_death_to_convicted", "death sentences / convicted (certificate window)",
               _ratio(_window("cat1", CERTIFICATE_END), _window("convicted", CERTIFICATE_END)),
               kind="derived"),
    Comparable("national_ops_death_share", "national operations: shot / convicted",
               _ratio(_operation("cat1", NATIONAL), _operation("convicted", NATIONAL)),
               kind="derived"),
)
# Each national operation on its own: the calibration fits the national orders' arrests in all,
# so how they split between the operations (each from its own diaspora's card file) is an outcome.
ONE_BY_ONE = (("polish_00485", "polish_op", "Polish operation"),
              ("german_00439", "german_op", "German operation"),
              ("harbin_00593", "harbin_op", "Harbin operation"),
              ("latvian", "latvian_op", "Latvian operation"))
COMPARABLES += tuple(
    Comparable(f"{key}_{kind}", f"{label}: {'shot' if kind == 'shot' else 'convicted'}",
               _operation("cat1" if kind == "shot" else "convicted", (OP[name],)))
    for name, key, label in ONE_BY_ONE for kind in ("convicted", "shot"))
COMPARABLES += (
    Comparable("cc17_arrested_shot", "Central Committee of 1934 (139) shot",
               summary=("elite", "central_committee_shot")),
    Comparable("congress17_delegates_arrested", "17th Congress delegates (1,966) arrested",
               summary=("elite", "congress_delegates_arrested")),
    Comparable("army_arrested_excl_polit_1937_1938", "officers arrested, 1937-38",
               summary=("elite", "officers_arrested"),
               range_key="army_arrested_shiryaev_1937_sep1938"),
    Comparable("army_discharged_1937", "officers discharged, 1937",
               summary=("elite", "officers_discharged_1937")),
    Comparable("army_discharged_1938", "officers discharged, 1938",
               summary=("elite", "officers_discharged_1938")),
    Comparable("army_reinstated_by_may1940",
               "officers reinstated (model: to the end of 1939; record: to May 1940)",
               summary=("elite", "officers_reinstated"), kind="echo"),
    Comparable("o00447_cat1_limit_multiplier_final", "00447 limits, category 1: final / initial",
               summary=("limits", "cat1_multiplier")),
    Comparable("o00447_cat2_limit_multiplier_final", "00447 limits, category 2: final / initial",
               summary=("limits", "cat2_multiplier")),
    Comparable("nkvd_staff_arrested_oct1936_aug1938",
               "NKVD officers arrested, 1 Oct 1936 - 15 Aug 1938",
               _occupation("nkvd", "1936-10-01", "1938-08-15")),
)
BY_KEY = {c.key: c for c in COMPARABLES}


def compare_runs(results: Sequence[Result], targets: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per comparable figure: the model's mean and 90% interval over the runs, the
    historical value (and range), the relative error, the source, and whether it was a
    calibration target."""
    rows = []
    history = datasets.history()
    summaries = [r.summary() for r in results]
    for comp in COMPARABLES:
        values = np.array([comp.value(r, s) for r, s in zip(results, summaries, strict=True)],
                          dtype=float)
        fig = history[comp.key]
        mean = float(np.nanmean(values)) if len(values) else float("nan")
        row: dict[str, Any] = {
            "key": comp.key,
            "label": comp.label,
            "model_mean": _clean(mean),
            "model_p05": _clean(float(np.nanpercentile(values, 5))),
            "model_p95": _clean(float(np.nanpercentile(values, 95))),
            "history": fig.value,
            "history_range": None,
            "relative_error": _clean((mean - fig.value) / fig.value) if fig.value else None,
            "source": fig.source,
            "confidence": fig.confidence,
            "target": comp.key in targets,
            "kind": "target" if comp.key in targets else comp.kind,
        }
        if comp.range_key is not None:
            other = history[comp.range_key].value
            row["history_range"] = [min(fig.value, other), max(fig.value, other)]
        rows.append(row)
    return rows


def _clean(x: float) -> float | None:
    return None if np.isnan(x) else round(x, 6)


KINDS = ("target", "echo", "derived", "independent")
"""What a compared figure is: fitted; set by an input; mostly a sum or ratio of targets; or
an outcome of the mechanisms that nothing fitted."""


def error_summary(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Mean absolute relative error over the figures of each kind (None: no such figure)."""
    out: dict[str, float | None] = {}
    for kind in KINDS:
        errors = [abs(r["relative_error"]) for r in rows
                  if r["kind"] == kind and r["relative_error"] is not None]
        out[kind] = round(float(np.mean(errors)), 4) if errors else None
    return out


def history_cells(row: dict[str, Any], range_sep: str = "-") -> dict[str, str]:
    """One row of :func:`compare_runs` as printed text: ``figure``, ``model`` (the mean),
    ``interval`` (90%), ``history`` (with its range, the ends joined by ``range_sep``),
    ``error``, ``kind`` and ``source``. Ratios get three decimals, counts whole people."""
    ratio = row["history"] < 2

    def fmt(v: float) -> str:
        return f"{v:.3f}" if ratio else f"{v:,.0f}"

    hist = fmt(row["history"]) + ("" if row["history_range"] is None else
                                  " (" + range_sep.join(fmt(v) for v in row["history_range"])
                                  + ")")
    return {
        "figure": row["label"],
        "model": "n/a" if row["model_mean"] is None else fmt(row["model_mean"]),
        "interval": ("n/a" if row["model_p05"] is None
                     else f"{fmt(row['model_p05'])}-{fmt(row['model_p95'])}"),
        "history": hist,
        "error": "n/a" if row["relative_error"] is None else f"{row['relative_error']:+.1%}",
        "kind": row["kind"],
        "source": f"{row['source']} [{row['confidence']}]",
    }
