"""Global sensitivity of a sweep's outcomes to its parameters: Sobol indices (SALib).

For each output, the first-order index S1 of a parameter is the share of the output's variance
it explains alone; the total index ST adds every interaction it takes part in (ST - S1 is the
share that needs another parameter with it). Both come with the half-width of their bootstrap
confidence interval (``S1_conf``, ``ST_conf``: 95% by default, from ``resamples`` bootstrap
resamples, seeded so that the same folder gives the same numbers).

A sweep's design must be ``sobol`` (Saltelli's scheme: blocks of ``parameters + 2`` samples,
in the order :mod:`purgesim.sweeps.design` keeps). Discrete parameters enter as the numbers
their codes are drawn from (see :mod:`purgesim.sweeps.config`).

Nulls and missing runs are handled explicitly, never filled in:

- each sample's output is the mean over its seeds of the runs where the output is a number
  (a seed where it is null, say the peak reproduction number when no 4-week window had enough
  arrests to measure one, is left out, as ensembles do); a sample null in every seed, or with
  no committed run (an unfinished sweep), is null;
- Saltelli's estimators need every sample of a block, so a block with a null sample is dropped
  for that output; ``blocks`` says how many were used and dropped, and an output left with
  fewer than :data:`MIN_BLOCKS` blocks, or that does not vary, gets null indices and a note.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from purgesim.sweeps import store

OUTPUTS: dict[str, str] = {
    "arrests": "totals.arrested",
    "shot": "totals.cat1",
    "innocent_share": "innocent_share",
    "peak_r": "reproduction.peak",
    "output_loss": "economy.output_loss",
}
"""Short names of the outputs the indices are computed for, and their result columns."""
LABELS: dict[str, str] = {
    "totals.arrested": "arrests", "totals.cat1": "shot (category 1)",
    "innocent_share": "innocent share of the convicted",
    "reproduction.peak": "peak reproduction number", "economy.output_loss": "output loss",
}
MIN_BLOCKS = 4


class SensitivityError(RuntimeError):
    """A folder whose sweep cannot give Sobol indices; the message is one line."""


def column(output: str) -> str:
    """A result column from a short name (``shot``) or the column itself."""
    return OUTPUTS.get(output, output)


def sample_means(table: Any, name: str, samples: int) -> np.ndarray:
    """The mean over seeds of column ``name`` for each sample; NaN where none is a number."""
    sums = np.zeros(samples)
    counts = np.zeros(samples)
    if name in table.column_names:
        values = np.array(table[name].to_pylist(), dtype=float)  # None becomes NaN
        sample = table["sample"].to_numpy()
        ok = np.isfinite(values)
        np.add.at(sums, sample[ok], values[ok])
        np.add.at(counts, sample[ok], 1)
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def sobol_indices(out_dir: str | Path, outputs: list[str] | None = None,
                  resamples: int = 1000, conf_level: float = 0.95, seed: int = 0
                  ) -> dict[str, Any]:
    """Sobol first-order and total indices of every parameter on each output, with their
    bootstrap intervals, as ``{"method": "sobol", "outputs": {OUTPUT: {PARAM: {"S1",
    "S1_conf", "ST", "ST_conf"}}}, ...}`` (plain JSON data: NaN becomes null)."""
    from SALib.analyze import sobol

    info = store.manifest(Path(out_dir))
    if info.get("method") != "sobol":
        raise SensitivityError(f"{out_dir}: design.method = {info.get('method')!r}: allowed: "
                               "sobol (the indices need Saltelli's samples)")
    names = [s["name"] for s in info["parameters"]]
    block = len(names) + 2
    samples = int(info["samples"])
    table = store.read_results(Path(out_dir))
    expected = samples * len(info["seeds"])
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    result: dict[str, Any] = {
        "method": "sobol", "estimator": "SALib.analyze.sobol (Saltelli 2010, Jansen totals)",
        "conf_level": conf_level, "resamples": resamples, "folder": str(out_dir),
        "config": info.get("config"), "commit": info.get("commit"), "scale": info.get("scale"),
        "seeds": info.get("seeds"), "base_samples": samples // block, "samples": samples,
        "runs": table.num_rows, "missing_runs": expected - table.num_rows,
        "outputs": {}, "blocks": {}}
    for output in outputs or list(OUTPUTS.values()):
        name = column(output)
        y = sample_means(table, name, samples).reshape(-1, block)
        keep = np.all(np.isfinite(y), axis=1)
        kept = y[keep].ravel()
        note = None
        if keep.sum() < MIN_BLOCKS:
            note = f"only {int(keep.sum())} complete blocks (at least {MIN_BLOCKS} needed)"
        elif np.ptp(kept) == 0:
            note = "the output does not vary over the design"
        indices = {p: dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf")) for p in names}
        if note is None:
            # SALib seeds its bootstrap only when ``if seed:`` holds, so a seed of 0 would
            # leave the intervals to the global random state; shift by one to keep 0 usable.
            si = sobol.analyze(problem, kept, calc_second_order=False, num_resamples=resamples,
                               conf_level=conf_level, seed=seed + 1)
            indices = {p: {k: _number(si[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
                       for i, p in enumerate(names)}
        result["outputs"][name] = indices
        result["blocks"][name] = {"used": int(keep.sum()), "dropped": int((~keep).sum()),
                                  "note": note}
    return result


def _number(value: Any) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value
