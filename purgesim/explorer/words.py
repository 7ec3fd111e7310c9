"""What changed, in words: "arrests fall by 31% (from 1.52 to 1.05 million)".

Every sentence is computed from the runs' summaries, seed by seed: the scenarios ran on the
same seeds (common random numbers), so each seed gives a paired change, and with several
seeds the sentence gives the 90% interval of that change and in how many seeds it went the
same way. Nothing here judges: a sentence says how much a figure moved, not whether a claim
is true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from purgesim.metrics import figures as compared_figures
from purgesim.vocab import SOURCES


@dataclass(frozen=True)
class Figure:
    phrase: str
    """How a sentence names the figure."""
    kind: str
    """``count`` (people), ``share`` (a fraction shown in %) or ``number`` (a ratio)."""
    plural: bool = True


_SOURCE_PHRASES = {
    "named": "arrests of people named under interrogation",
    "denunciation": "arrests on denunciation",
    "remark": "arrests for a reported remark",
    "sabotage": "arrests blamed on 'sabotage'",
    "card_file": "arrests swept from the card file",
    "family": "arrests of family members",
    "elite": "arrests in the elite purge",
}
FIGURES: dict[str, Figure] = {
    "arrested": Figure("arrests", "count"),
    "convicted": Figure("convictions", "count"),
    "cat1": Figure("people shot", "count"),
    "innocent_convicted": Figure("innocent people convicted", "count"),
    "innocent_share": Figure("the innocent share of the convicted", "share", plural=False),
    "peak_r": Figure("the cascade's peak reproduction number", "number", plural=False),
    "output_loss": Figure("output lost against no terror", "share", plural=False),
    "officers_arrested": Figure("army officers arrested in 1937-38", "count"),
    "officials_arrested": Figure("officials arrested in 1937-38", "count"),
    "central_committee_shot": Figure("members of the 1934 Central Committee shot", "count"),
    **{f"from_{s}": Figure(_SOURCE_PHRASES.get(s, f"arrests from {s.replace('_', ' ')}"),
                           "count") for s in SOURCES},
}
"""Every figure a sentence can be about, in the order they are listed."""
MAIN = ("arrested", "convicted", "cat1", "innocent_convicted", "innocent_share")
"""The figures the headline always gives; others follow when they move."""
NOTABLE = 0.05
"""A figure outside MAIN is in the headline when its mean moves by at least this share."""
PERCENTILES = (5, 95)


def figures_of(summary: dict[str, Any]) -> dict[str, float | None]:
    """The figures of one run's summary (those `purgesim compare` sets side by side, and the
    innocent convicted)."""
    out = dict(compared_figures(summary))
    out["innocent_convicted"] = summary["totals"].get("innocent_convicted")
    return out


# ---------------------------------------------------------------------------- numbers
def millions(x: float) -> str:
    """Millions to three significant figures, trailing zeros kept: 1.40, 12.3, 163."""
    return f"{x / 1e6:#.3g}".rstrip(".")


def count_words(x: float) -> str:
    """A count as a sentence says it: 39; 2,350; 45,300; 1.52 million."""
    if abs(x) >= 1e6:
        return f"{millions(x)} million"
    if abs(x) < 1000:
        return f"{x:,.0f}"
    return f"{float(f'{x:.3g}'):,.0f}"


def value_words(kind: str, x: float) -> str:
    if kind == "share":
        return f"{x:.2%}"
    if kind == "number":
        return f"{x:.2f}"
    return count_words(x)


def percent_words(fraction: float) -> str:
    """A relative change as a percentage without its sign: 31%, 4.2%, 0.3%."""
    p = abs(fraction) * 100
    if p >= 9.5:
        return f"{p:.0f}%"
    if p >= 0.05:
        return f"{p:.1f}%"
    return "less than 0.1%"


def from_to(kind: str, a: float, b: float) -> str:
    """'from 1.52 to 1.05 million', 'from 140,000 to 45,300', 'from 0.34 to 0.16'."""
    if kind == "count" and abs(a) >= 1e6 and abs(b) >= 1e6:
        return f"from {millions(a)} to {millions(b)} million"
    return f"from {value_words(kind, a)} to {value_words(kind, b)}"


# ---------------------------------------------------------------------------- changes
def _paired(before: Sequence[float | None], after: Sequence[float | None]
            ) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(a, b) for a, b in zip(before, after, strict=True)
             if a is not None and b is not None]
    return (np.array([a for a, _ in pairs], dtype=float),
            np.array([b for _, b in pairs], dtype=float))


def change(key: str, before: Sequence[float | None], after: Sequence[float | None]
           ) -> dict[str, Any]:
    """How figure ``key`` moved from ``before`` to ``after`` (its values seed by seed, in the
    same seed order): means, the paired change and its interval, and the sentence."""
    figure = FIGURES[key]
    a, b = _paired(before, after)
    out: dict[str, Any] = {"key": key, "phrase": figure.phrase, "kind": figure.kind,
                           "seeds": len(a)}
    if len(a) == 0:
        text = f"{figure.phrase}: n/a (no value in either scenario)."
        out.update(before=None, after=None, relative=None, text=text[0].upper() + text[1:])
        return out
    mean_a, mean_b = float(a.mean()), float(b.mean())
    out.update(before=mean_a, after=mean_b, difference=mean_b - mean_a,
               relative=(mean_b - mean_a) / mean_a if mean_a else None)
    diff = b - a
    out["up"] = int(np.count_nonzero(diff > 0))
    out["down"] = int(np.count_nonzero(diff < 0))
    if len(a) > 1:
        relative = figure.kind == "count" and bool(np.all(a > 0))
        lo, hi = np.percentile(diff / a if relative else diff, PERCENTILES)
        out["interval"] = [float(lo), float(hi)]
        out["interval_of"] = "relative" if relative else "difference"
    out["text"] = sentence(figure, mean_a, mean_b, out)
    return out


def _verb(figure: Figure, up: bool) -> str:
    word = "rise" if up else "fall"
    return word if figure.plural else word + "s"


def sentence(figure: Figure, a: float, b: float, facts: dict[str, Any]) -> str:
    """The sentence for a change of ``figure`` from mean ``a`` to mean ``b``."""
    phrase = figure.phrase
    if a == b:
        be = "are" if figure.plural else "is"
        text = f"{phrase} {be} unchanged ({value_words(figure.kind, a)})"
    elif figure.kind == "count" and a == 0:
        text = f"{phrase} {_verb(figure, True)} from none to {count_words(b)}"
    elif figure.kind == "count" and b == 0:
        text = f"{phrase} {_verb(figure, False)} to none (from {count_words(a)})"
    elif figure.kind == "count":
        text = (f"{phrase} {_verb(figure, b > a)} by {percent_words((b - a) / a)} "
                f"({from_to('count', a, b)})")
    elif figure.kind == "share":
        points = abs(b - a) * 100
        text = (f"{phrase} {_verb(figure, b > a)} {from_to('share', a, b)} "
                f"({points:.2g} percentage points)")
    else:
        text = f"{phrase} {_verb(figure, b > a)} {from_to(figure.kind, a, b)}"
    n = facts["seeds"]
    if n > 1 and a != b:
        lo, hi = facts["interval"]
        if facts["interval_of"] == "relative":
            span = f"{lo:+.0%} to {hi:+.0%}" if max(abs(lo), abs(hi)) >= 0.095 else \
                f"{lo:+.1%} to {hi:+.1%}"
        elif figure.kind == "share":
            span = f"{lo * 100:+.2g} to {hi * 100:+.2g} points"
        else:
            span = f"{value_words(figure.kind, lo)} to {value_words(figure.kind, hi)}"
        way = facts["up"] if b > a else facts["down"]
        text += (f"; paired change over {n} seeds {span} (90% interval), "
                 f"{'higher' if b > a else 'lower'} in {way} of {n}")
    return text[0].upper() + text[1:] + "."


def headline(before: Sequence[dict[str, float | None]],
             after: Sequence[dict[str, float | None]], extra: int = 5) -> list[dict[str, Any]]:
    """The changes from the runs ``before`` to the runs ``after`` (figures per seed, the same
    seeds in the same order): the MAIN figures always, then up to ``extra`` others that moved
    by at least NOTABLE, the largest moves first."""
    rows = {key: change(key, [r.get(key) for r in before], [r.get(key) for r in after])
            for key in FIGURES}
    others = [r for k, r in rows.items() if k not in MAIN and r.get("relative") is not None
              and abs(r["relative"]) >= NOTABLE]
    others += [r for k, r in rows.items() if k not in MAIN and r.get("before") == 0
               and r.get("after")]
    others.sort(key=lambda r: -abs(r["relative"]) if r.get("relative") is not None else -1e9)
    return [rows[k] for k in MAIN] + others[:extra]
