"""The ``purgesim`` command line (Typer + Rich).

Progress bars and logs go to stderr, so ``--json`` output on stdout is exactly one JSON object.
A scenario that cannot run is refused before anything runs, one problem per line, exit code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from purgesim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_scenarios,
    with_overrides,
)

app = typer.Typer(
    help="purgesim: simulate the machinery of Soviet mass repression, 1936-39.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ScenarioArg = Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")]


def _fail(message: str, code: int) -> NoReturn:
    """Print one error line on stderr (plain text: it may quote a user's file) and exit."""
    err.print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=code)


def _refuse(exc: ScenarioError) -> NoReturn:
    """One line per problem of a refused scenario or config file, then exit with code 2."""
    for line in exc.problems:
        # the line quotes the user's file: escaped, so that '[...]' is not read as markup
        err.print(f"[red]error:[/red] {escape(line)}", highlight=False, markup=True,
                  soft_wrap=True)
    raise typer.Exit(code=2)


def _load(ref: str, **overrides: Any) -> Scenario:
    try:
        return load_scenario(ref, **overrides)
    except ScenarioError as exc:
        _refuse(exc)


CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="The run catalog (DuckDB file); default: $PURGESIM_CATALOG, else "
                      "catalog.duckdb in the user's data folder.")]


@app.command()
def run(
    scenario: ScenarioArg = "great-terror",
    scale: Annotated[int | None, typer.Option(help="Real people per agent (1 = everyone).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (with --reps: the first).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write result files here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: Annotated[bool, typer.Option(help="Show time spent in each phase.")] = False,
    reps: Annotated[int, typer.Option(
        min=1, help="Run this many seeds (seed, seed+1, ...) and report mean and 90% "
                    "interval.")] = 1,
    workers: Annotated[int | None, typer.Option(
        min=1, help="With --reps: processes to run on (default: one per core, as memory "
                    "allows).")] = None,
    catalog: CatalogOpt = None,
    report: Annotated[bool, typer.Option(
        "--report", help="Also write the HTML report (RUN_DIR/report.html); without --out the "
                         "results go to runs/SCENARIO-seedN-1_SCALE.")] = False,
) -> None:
    """Run a scenario and summarise it (real people, not agents)."""
    from purgesim.sim import Sim

    sc = _load(scenario, scale=scale, seed=seed)
    if report and reps > 1:
        _fail("error: --report: one run at a time; allowed with --reps 1 (for an ensemble, "
              "run `purgesim report` on a seed's folder)", code=2)
    if report and out_dir is None:
        out_dir = Path("runs") / f"{sc.name}-seed{sc.seed}-1_{sc.scale}"
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        _fail(f"error: --out {out_dir}: exists and is not a folder; allowed: a folder "
              "(created if missing)", code=2)
    _check_memory(sc)
    runs = _open_catalog(catalog)
    if reps > 1:
        _run_ensemble(sc, reps, workers, out_dir, as_json, profile, runs)
        return
    run_id = runs.start(scenario=sc.name, seed=sc.seed, scale=sc.scale, weeks=sc.weeks,
                        out_dir=out_dir)
    t0 = time.perf_counter()
    try:
        sim = Sim(sc)
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} weeks"), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task(f"building {sc.name} at 1:{sc.scale}", total=sc.weeks)
            sim.init()
            bar.update(task, description=f"running {sc.name}")
            result = sim.run(progress=lambda done, total: bar.update(task, completed=done))
        wall = time.perf_counter() - t0
        summary = result.summary()
        if out_dir is not None:
            try:
                result.write(out_dir, meta={"wall_seconds": round(wall, 3), "run_id": run_id})
            except OSError as exc:
                runs.fail(run_id, f"cannot write the results: {exc}", time.perf_counter() - t0)
                _fail(f"error: --out {out_dir}: cannot write the results: {exc}", code=1)
    except BaseException as exc:
        if not isinstance(exc, typer.Exit):
            runs.fail(run_id, _reason(exc), time.perf_counter() - t0)
        raise
    runs.complete(run_id, summary, wall)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        _print_summary(summary)
        if out_dir is not None:
            out.print(f"results written to {out_dir}")
    if report and out_dir is not None:
        from purgesim.report import write_report

        page = write_report(out_dir)
        (err if as_json else out).print(f"report written to {page}", highlight=False)
    if profile:
        _print_profile(result.timings, f"time per phase ({wall:.2f} s wall)", as_json)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


def _open_catalog(path: Path | None) -> Any:
    """The run catalog; a write that fails warns once on stderr and the run goes on."""
    from purgesim.catalog import Catalog

    warned = False

    def warn(message: str) -> None:
        nonlocal warned
        if not warned:
            err.print(f"warning: {message}; the run goes on without the catalog",
                      markup=False, highlight=False, soft_wrap=True)
        warned = True

    return Catalog(path, on_error=warn)


def _print_profile(timings: dict[str, float], title: str, as_json: bool) -> None:
    table = Table(title=title)
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    for phase, seconds in timings.items():
        table.add_row(phase, f"{seconds:.3f}")
    (err if as_json else out).print(table)


def _ensemble_workers(sc: Scenario, reps: int, requested: int | None) -> int:
    """One process per core (or as requested), no more than the reps, and no more than the
    memory available holds runs of this scale at once."""
    from purgesim.memory import agents_for_scale, available_bytes, estimate_bytes

    fit = max(1, int(available_bytes() * 0.8) // estimate_bytes(agents_for_scale(sc.scale)))
    wanted = min(requested or _cores(), reps)
    if wanted > fit:
        err.print(f"note: {fit} process(es) at a time: the memory available holds no more "
                  f"runs at 1:{sc.scale}", markup=False, highlight=False, soft_wrap=True)
    return min(wanted, fit)


def _run_ensemble(sc: Scenario, reps: int, requested: int | None, out_dir: Path | None,
                  as_json: bool, profile: bool, runs: Any) -> None:
    """`run --reps`: the seeds in parallel, the catalog written by this process only."""
    from purgesim.catalog import new_id
    from purgesim.ensemble import RepFailed, run_ensemble, seeds_for, write_ensemble

    seeds = seeds_for(sc.seed, reps)
    workers = _ensemble_workers(sc, reps, requested)
    ensemble_id = new_id()
    run_ids: dict[int, str] = {}
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} seeds"), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"{sc.name} at 1:{sc.scale} on {workers} process(es)", total=reps)

        def started(seed: int, where: Path | None) -> dict[str, Any]:
            run_ids[seed] = runs.start(scenario=sc.name, seed=seed, scale=sc.scale,
                                       weeks=sc.weeks, out_dir=where, ensemble=ensemble_id)
            return {"run_id": run_ids[seed], "ensemble": ensemble_id}

        def done(rep: Any) -> None:
            runs.complete(run_ids[rep.seed], rep.summary, rep.wall_seconds,
                          started=rep.started, finished=rep.finished)
            bar.update(task, advance=1, description=f"{sc.name}: seed {rep.seed} done")

        try:
            ensemble = run_ensemble(
                sc, seeds, workers=workers, out=out_dir, on_start=started, on_done=done,
                on_failed=lambda seed, exc: runs.fail(run_ids[seed], _reason(exc)))
        except RepFailed as exc:
            _fail(f"error: {exc}", code=1)
    wall = time.perf_counter() - t0
    if out_dir is not None:
        try:
            write_ensemble(ensemble, out_dir, meta={
                "wall_seconds": round(wall, 3), "workers": workers, "ensemble": ensemble_id,
                "run_ids": {str(s): run_ids[s] for s in seeds}})
        except OSError as exc:
            _fail(f"error: --out {out_dir}: cannot write the ensemble summary: {exc}", code=1)
    if as_json:
        sys.stdout.write(json.dumps(ensemble.summary) + "\n")
    else:
        _print_summary(ensemble.summary)
        if out_dir is not None:
            out.print(f"results written to {out_dir} (one folder per seed, and summary.json)")
    if profile:
        _print_profile(ensemble.timings(), f"mean time per phase over {reps} seeds "
                       f"({wall:.2f} s wall on {workers} process(es))", as_json)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _check_memory(sc: Scenario) -> None:
    """Refuse, before anything is built, a scale that would not fit in memory."""
    from purgesim.memory import WontFit, agents_for_scale, check_fits

    try:
        check_fits(agents_for_scale(sc.scale), scale=sc.scale)
    except WontFit as exc:
        _fail(f"error: {exc}", code=2)


def _fig(value: Any, fmt: str = "{:,.0f}") -> str:
    """A number, or an ensemble's {mean, p05, p95} as 'mean (p05-p95)'; 'n/a' for null.
    Counts in an interval are shown to three significant figures ('142k'), so that a cell
    wraps at its space instead of being cut in a narrow terminal."""
    if isinstance(value, dict):
        if value.get("mean") is None:
            return "n/a"
        ends = [_compact(value[k]) if fmt == "{:,.0f}" else fmt.format(value[k])
                for k in ("p05", "p95")]
        return f"{fmt.format(value['mean'])} ({ends[0]}-{ends[1]})"
    return "n/a" if value is None else fmt.format(value)


def _compact(x: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:.3g}{suffix}"
    return f"{x:,.0f}"


def _print_summary(s: dict[str, Any]) -> None:
    """The summary of a run, or of an ensemble (every figure as mean and 90% interval)."""
    if "seeds" in s:
        seeds = s["seeds"]
        out.print(f"[bold]{escape(s['scenario'])}[/bold]: mean (90% interval) over {s['reps']} "
                  f"seeds ({seeds[0]}..{seeds[-1]}), {_fig(s['agents']['mean'])} agents at "
                  f"1:{s['scale']}, {s['weeks']} weeks. Figures are real people.")
    else:
        out.print(f"[bold]{escape(s['scenario'])}[/bold]: {s['agents']:,} agents at "
                  f"1:{s['scale']}, {s['weeks']} weeks, seed {s['seed']}. Figures are real "
                  "people.")
    years = Table(title="by year (arrests by arrest date, convictions by sentence date)")
    for col in ("year", "arrested", "convicted", "category 1 (shot)", "category 2 (camp)"):
        years.add_column(col, justify="right")
    for year, v in s["by_year"].items():
        years.add_row(year, _fig(v["arrested"]), _fig(v["convicted"]), _fig(v["cat1"]),
                      _fig(v["cat2"]))
    out.print(years)
    totals = Table(title="totals")
    totals.add_column("outcome")
    totals.add_column("people", justify="right")
    for key, value in s["totals"].items():
        totals.add_row(key.replace("_", " "), _fig(value))
    out.print(totals)
    sources = Table(title="arrests by source and by operation")
    sources.add_column("source")
    sources.add_column("arrested", justify="right")
    sources.add_column("operation")
    sources.add_column("arrested", justify="right")
    sources.add_column("convicted", justify="right")
    src = list(s["by_source"].items())
    ops = list(s["by_operation"].items())
    for i in range(max(len(src), len(ops))):
        a = src[i] if i < len(src) else ("", None)
        b = ops[i] if i < len(ops) else ("", None)
        sources.add_row(a[0], "" if a[1] is None else _fig(a[1]), b[0],
                        "" if b[1] is None else _fig(b[1]["arrested"]),
                        "" if b[1] is None else _fig(b[1]["convicted"]))
    out.print(sources)
    share = s["innocent_share"]
    out.print("innocent share of the convicted: "
              + ("n/a (nobody convicted)" if share is None else _fig(share, "{:.2%}"))
              + " (depends on the assumed prevalence of real guilt, population.guilty_prevalence)")


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or files to compare.")],
    scale: Annotated[int | None, typer.Option(help="Real people per agent.")] = None,
    seed: Annotated[int, typer.Option(help="First seed.")] = 1,
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeds (seed, seed+1, ...).")] = 1,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes to run on (default: one per core).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report_file: Annotated[Path | None, typer.Option(
        "--report", help="Also write an HTML report with the scenarios in the same charts.")
    ] = None,
) -> None:
    """Run scenarios on the same seeds and show them side by side."""
    from purgesim.compare import METRICS
    from purgesim.compare import compare as run_compare

    for ref in scenarios:
        _load(ref, scale=scale)  # refuse a bad file before anything runs
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("comparing", total=len(scenarios) * seeds)
        result = run_compare(
            scenarios, range(seed, seed + seeds), scale=scale, workers=workers or _cores(),
            progress=lambda name, s: bar.update(task, advance=1, description=f"{name} seed {s}"),
            series=report_file is not None)
    if as_json:
        if report_file is not None:
            _compare_report(result, report_file, err)
        sys.stdout.write(json.dumps(result) + "\n")
        return
    names = list(result["scenarios"])
    table = Table(title=f"mean over seeds {seed}..{seed + seeds - 1} at 1:{result['scale']} "
                  "(real people)")
    table.add_column("figure")
    for name in names:
        table.add_column(name, justify="right")
    for key, label in METRICS:
        cells = []
        for name in names:
            value = result["scenarios"][name]["mean"][key]
            if value is None:
                cells.append("n/a")
            elif key in ("innocent_share", "output_loss"):
                cells.append(f"{value:.2%}")
            elif key == "peak_r":
                cells.append(f"{value:.2f}")
            else:
                cells.append(f"{value:,.0f}")
        table.add_row(label, *cells)
    out.print(table)
    if report_file is not None:
        _compare_report(result, report_file, out)


def _compare_report(result: dict[str, Any], target: Path, console: Console) -> None:
    from purgesim.report import write_compare_report

    try:
        written = write_compare_report(result, target)
    except OSError as exc:
        _fail(f"error: --report {target}: cannot write the report: {exc}", code=1)
    console.print(f"report written to {written}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by `purgesim run --out`.")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="The HTML file to write (default: RUN_DIR/report.html).")
    ] = None,
    png: Annotated[Path | None, typer.Option(
        help="Also draw the charts as PNG files in this folder (needs Chromium or Chrome).")
    ] = None,
) -> None:
    """Write a self-contained HTML report (Plotly charts) of a saved run."""
    from purgesim.report import PngError, ReportError, write_report

    try:
        written = write_report(run_dir, output, png=png)
    except PngError as exc:
        _fail(f"error: --png {png}: {exc} (the HTML report was written to "
              f"{output or run_dir / 'report.html'})", code=1)
    except ReportError as exc:
        _fail(f"error: {exc}", code=2)
    except OSError as exc:
        _fail(f"error: cannot write the report: {exc}", code=1)
    out.print(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB)"
              + (f"; PNG files in {png}" if png is not None else ""),
              highlight=False, markup=False, soft_wrap=True)


@app.command()
def history(
    scenario: ScenarioArg = "great-terror",
    reps: Annotated[int, typer.Option(min=1, help="Seeds to run (seed, seed+1, ...).")] = 5,
    seed: Annotated[int | None, typer.Option(help="First seed (default: the scenario's).")] = None,
    scale: Annotated[int | None, typer.Option(help="Real people per agent.")] = None,
    prevalence: Annotated[list[float] | None, typer.Option(
        help="Guilt prevalences for the innocent share's sensitivity (repeatable).")] = None,
    posterior: Annotated[int | None, typer.Option(
        min=0, help="Parameter sets drawn from the shipped posterior for the headline's "
                    "interval over the posterior (default: --reps, when the scenario's "
                    "calibration ships one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Compare a scenario with the archival record, figure by figure."""
    from purgesim.calibration import overrides, posterior_draws, posterior_path
    from purgesim.ensemble import spread
    from purgesim.history import compare_runs, error_summary
    from purgesim.sim import run as run_scenario

    sc = _load(scenario, scale=scale)
    first = sc.seed if seed is None else seed
    seeds = list(range(first, first + reps))
    calibration = _calibration(sc)
    targets = calibration.targets if calibration is not None else []
    prevalences = prevalence or [1e-5, 1e-4, 1e-3, 1e-2]
    # the posterior belongs to the calibrated scenario itself: a counterfactual built on it may
    # change the very parameters a draw would set
    shipped = (posterior_path(sc.calibration)
               if calibration is not None and sc.name == calibration.scenario else None)
    draws = [] if shipped is None else posterior_draws(
        shipped, reps if posterior is None else posterior, seed=first)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("running", total=reps * (1 + len(prevalences)) + len(draws))
        results = []
        for s in seeds:
            results.append(run_scenario(sc, seed=s))
            bar.advance(task)
        summaries = [r.summary() for r in results]
        sensitivity = []
        for p in prevalences:
            shares = []
            for s in seeds:
                shares.append(run_scenario(with_overrides(sc, population__guilty_prevalence=p), seed=s)
                              .summary()["innocent_share"])
                bar.advance(task)
            sensitivity.append({"guilty_prevalence": p, **spread(shares)})
        # each posterior draw runs with its own seed: the interval covers both uncertainties
        over_posterior = []
        for i, params in enumerate(draws):
            over_posterior.append(run_scenario(with_overrides(sc, **overrides(params)),
                                               seed=first + i).summary())
            bar.advance(task)
    rows = compare_runs(results, targets)
    headlines = (("arrested", lambda s: s["totals"]["arrested"]),
                 ("shot", lambda s: s["totals"]["cat1"]),
                 ("innocent_share", lambda s: s["innocent_share"]))
    headline = {key: spread([f(s) for s in summaries]) for key, f in headlines}
    headline_posterior = ({key: spread([f(s) for s in over_posterior]) for key, f in headlines}
                          if over_posterior else None)
    report = {"scenario": sc.name, "scale": sc.scale, "seeds": seeds,
              "calibration": sc.calibration or None, "targets": targets, "figures": rows,
              "errors": error_summary(rows), "headline": headline,
              "headline_over_posterior": headline_posterior,
              "posterior_draws": len(over_posterior),
              "innocent_share_sensitivity": sensitivity}
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    table = Table(title=f"{sc.name} against the archives: mean and 90% interval over "
                  f"{reps} seed(s) at 1:{sc.scale}")
    for col in ("figure", "model", "90% interval", "history (range)", "error", "fit", "src"):
        table.add_column(col, justify="left" if col in ("figure", "fit") else "right")
    sources: list[str] = []
    for r in rows:
        ratio = r["history"] < 2
        fmt = (lambda v: f"{v:.3f}") if ratio else (lambda v: f"{v:,.0f}")
        hist = fmt(r["history"]) + ("" if r["history_range"] is None else
                                    " (" + "-".join(fmt(v) for v in r["history_range"]) + ")")
        source = f"{r['source']} [{r['confidence']}]"
        if source not in sources:
            sources.append(source)
        table.add_row(r["label"], "n/a" if r["model_mean"] is None else fmt(r["model_mean"]),
                      "n/a" if r["model_p05"] is None else
                      f"{fmt(r['model_p05'])}-{fmt(r['model_p95'])}",
                      hist, "n/a" if r["relative_error"] is None else f"{r['relative_error']:+.1%}",
                      "target" if r["target"] else "", str(sources.index(source) + 1))
    out.print(table)
    for i, source in enumerate(sources, 1):
        out.print(f"  [{i}] {source}", highlight=False, soft_wrap=True)
    e = report["errors"]
    out.print(f"mean absolute error: calibration targets {_pct(e['targets'])}, "
              f"figures not fitted {_pct(e['not_targets'])}"
              + ("" if targets else " (no calibration config named by the scenario)"))
    for over, h in ((f"{reps} seed(s)", headline),
                    (f"{len(over_posterior)} posterior draws", headline_posterior)):
        if h is None:
            continue
        out.print(f"headline (mean, 90% interval over {over}): arrested "
                  f"{h['arrested']['mean']:,.0f} ({h['arrested']['p05']:,.0f}-"
                  f"{h['arrested']['p95']:,.0f}), shot {h['shot']['mean']:,.0f} "
                  f"({h['shot']['p05']:,.0f}-{h['shot']['p95']:,.0f}), innocent share "
                  f"{h['innocent_share']['mean']:.2%} ({h['innocent_share']['p05']:.2%}-"
                  f"{h['innocent_share']['p95']:.2%})")
    sens = Table(title="innocent share of the convicted against the assumed prevalence of guilt")
    sens.add_column("guilty prevalence", justify="right")
    sens.add_column("innocent share (mean, 90% interval)", justify="right")
    for row in sensitivity:
        sens.add_row(f"{row['guilty_prevalence']:g}",
                     "n/a" if row["mean"] is None else
                     f"{row['mean']:.2%} ({row['p05']:.2%}-{row['p95']:.2%})")
    out.print(sens)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _calibration(sc: Scenario) -> Any:
    """The calibration config the scenario names (None if none, or unreadable: warned)."""
    if not sc.calibration:
        return None
    from purgesim.calibration import load_config

    try:
        return load_config(sc.calibration)[1]
    except ScenarioError as exc:
        for line in exc.problems:
            err.print(f"warning: {line}", markup=False)
        return None


@app.command()
def calibrate(
    config: Annotated[str, typer.Argument(help="A shipped calibration name or a TOML file.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Local Dask workers (default: one per core); 1 runs in-process, "
                    "reproducibly.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of an existing Dask scheduler to run on.")] = None,
) -> None:
    """Fit parameters to archival figures (ABC-SMC); resumes an interrupted run."""
    from purgesim.calibration import calibrate as run_calibration
    from purgesim.calibration import load_config

    try:
        label, cfg = load_config(config)
    except ScenarioError as exc:
        _refuse(exc)
    name = Path(config).stem
    target = out_dir or Path("runs") / f"calibrate-{name}"
    if target.exists() and not target.is_dir():
        _fail(f"error: --out {target}: exists and is not a folder", code=2)
    err.print(f"calibrating {label}: {len(cfg.parameters)} parameters, {len(cfg.targets)} "
              f"targets, {cfg.abc.generations} generations of {cfg.abc.population_size}; "
              f"progress in {target / 'calibration.db'}", markup=False)
    if cfg.selection is not None:
        err.print(f"then the central particles are rerun at 1:{cfg.selection.scale} over seeds "
                  f"{cfg.selection.seeds} to choose the one that ships", markup=False)
    from purgesim.calibration import CalibrationError, shipped_values

    try:
        fit = run_calibration(cfg, target, workers=workers, scheduler=scheduler,
                              config_ref=config)
    except CalibrationError as exc:
        _fail(f"error: {exc}", code=1)

    shipped = shipped_values(cfg)
    table = Table(title=f"posterior after {fit['generations']} generations (epsilon "
                  f"{fit['epsilon']:.3f}, effective sample size "
                  f"{fit['effective_sample_size']:.0f}), against the values {cfg.scenario} "
                  f"ships; distance of the best particle {fit['best']['distance']:.3f}, of "
                  f"the fitted one {fit['shipped']['distance']:.3f}")
    for col in ("parameter", "median", "90% interval", "best", "fitted", "shipped",
                "shipped inside"):
        table.add_column(col)
    for pname, stats in fit["parameters"].items():
        inside = stats["p05"] <= shipped[pname] <= stats["p95"]
        table.add_row(pname, f"{stats['median']:.4g}", f"{stats['p05']:.4g}-{stats['p95']:.4g}",
                      f"{stats['best']:.4g}", f"{stats['shipped']:.4g}",
                      f"{shipped[pname]:.4g}", "yes" if inside else "[red]no[/red]")
    out.print(table)
    out.print(f"fitted scenario ({fit['shipped']['rule']}): {target / 'scenario.toml'}",
              highlight=False)


@app.command("runs")
def list_runs(
    scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario.")] = None,
    status: Annotated[str | None, typer.Option(
        help="Only runs with this status: running, incomplete (killed halfway), complete, "
             "failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (newest first).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    catalog: CatalogOpt = None,
) -> None:
    """List the runs in the catalog, newest first."""
    from purgesim.catalog import SHOWN_STATUSES, Catalog, CatalogError

    if status is not None and status not in SHOWN_STATUSES:
        _fail(f"error: --status {status}: allowed: {', '.join(SHOWN_STATUSES)}", code=2)
    store = Catalog(catalog)
    try:
        rows = store.runs(scenario=scenario, status=status, limit=limit)
    except CatalogError as exc:
        _fail(f"error: {exc}", code=1)
    if as_json:
        sys.stdout.write(json.dumps({"catalog": str(store.path), "runs": rows}, default=str)
                         + "\n")
        return
    if not rows:
        out.print(f"no runs{'' if scenario is None and status is None else ' match'} in "
                  f"{store.path}", highlight=False, markup=False, soft_wrap=True)
        return
    wide = out.width >= 120  # room for the wall time and the output folder
    table = Table(title=f"runs in {store.path} (newest first, times in UTC)",
                  box=box.SIMPLE_HEAD)
    columns = ["id", "started", "scenario", "seed", "scale", "status", "arrested"]
    columns += ["wall s", "output"] if wide else []
    for col in columns:
        numeric = col in ("seed", "scale", "wall s", "arrested")
        table.add_column(col, justify="right" if numeric else "left",
                         overflow="fold", no_wrap=numeric or col in ("id", "status"),
                         min_width={"started": 10, "scenario": 8}.get(col))
    colour = {"complete": "green", "failed": "red", "incomplete": "yellow", "running": "cyan"}
    for r in rows:
        shown = r["shown_status"]
        cells = [r["run_id"], f"{r['started']:%Y-%m-%d %H:%M}", escape(r["scenario"]),
                 str(r["seed"]), str(r["scale"]), f"[{colour[shown]}]{shown}[/]",
                 "" if r["arrested"] is None else f"{r['arrested']:,}"]
        if wide:
            cells += ["" if r["wall_seconds"] is None else f"{r['wall_seconds']:.1f}",
                      escape(r["out_dir"] or "")]
        table.add_row(*cells)
    out.print(table)
    if not wide:
        out.print("(wall times and output folders: a terminal 120 columns wide, or --json)",
                  style="dim")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SQL statement (DuckDB dialect).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_rows: Annotated[int, typer.Option(
        min=1, help="Show at most this many rows in the table (not with --json).")] = 100,
    catalog: CatalogOpt = None,
) -> None:
    """Query the run catalog (table `runs`; views `events` and `weekly` over the Parquet
    files of complete runs) or any Parquet file, read-only."""
    from purgesim.catalog import Catalog, CatalogError

    store = Catalog(catalog)
    try:
        names, rows = store.query(query)
    except CatalogError as exc:
        _fail(f"error: {exc}", code=1)
    if as_json:
        sys.stdout.write(json.dumps({"columns": names,
                                     "rows": [dict(zip(names, r, strict=True)) for r in rows]},
                                    default=str) + "\n")
        return
    table = Table()
    for i, name in enumerate(names):
        numeric = any(isinstance(r[i], int | float) and not isinstance(r[i], bool)
                      for r in rows[:max_rows])
        table.add_column(escape(name), justify="right" if numeric else "left")
    for r in rows[:max_rows]:
        table.add_row(*("[dim]null[/dim]" if v is None else escape(str(v)) for v in r))
    out.print(table)
    if len(rows) > max_rows:
        out.print(f"{len(rows) - max_rows:,} more rows not shown (add LIMIT, or --max-rows, "
                  "or --json)")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A folder written by `purgesim run --out`.")],
    graph: Annotated[Path | None, typer.Option(
        "--graph", help="Write the cascade (who named whom) as GraphML here.")] = None,
    edges: Annotated[Path | None, typer.Option(
        "--edges", help="Write its edges (source, target, week, via) as Parquet here.")] = None,
) -> None:
    """Export a run's cascade of accusations as a graph (GraphML) and an edge list."""
    from purgesim.export import ExportError
    from purgesim.export import export as run_export

    if graph is None and edges is None:
        _fail("error: nothing to export; allowed: --graph FILE.graphml and/or "
              "--edges FILE.parquet", code=2)
    try:
        counts = run_export(run_dir, graph=graph, edges=edges)
    except ExportError as exc:
        _fail(f"error: {exc}", code=2)
    except OSError as exc:
        _fail(f"error: cannot write the export: {exc}", code=1)
    written = " and ".join(str(p) for p in (graph, edges) if p is not None)
    out.print(f"{counts['nodes']:,} people ({counts['arrests']:,} arrested) and "
              f"{counts['edges']:,} accusations written to {written}", highlight=False,
              markup=False, soft_wrap=True)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    table = Table(title="shipped scenarios")
    table.add_column("name")
    table.add_column("description")
    for name, description in shipped_scenarios().items():
        table.add_row(name, description)
    out.print(table)


@app.command()
def check(scenario: ScenarioArg) -> None:
    """Validate a scenario file without running it."""
    sc = _load(scenario)
    out.print(f"ok: {scenario} is a valid scenario ({sc.name}, 1:{sc.scale}, {sc.weeks} weeks, "
              f"seed {sc.seed})", highlight=False, markup=False, soft_wrap=True)


@app.command()
def order(scenario: ScenarioArg = "great-terror") -> None:
    """Print the order in which the mechanisms act each week."""
    from purgesim.sim import Sim

    out.print(Sim(_load(scenario)).loop_table(), highlight=False)


@app.command()
def core(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of agents.")] = 1_000_000,
    weeks: Annotated[int, typer.Option(min=0, help="Weeks to run.")] = 70,
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the reference core model of MODEL.md section 6 (for benchmarks)."""
    from purgesim.core import run_core

    t0 = time.perf_counter()
    totals = run_core(n, weeks, seed).totals()
    seconds = time.perf_counter() - t0
    if as_json:
        sys.stdout.write(json.dumps(totals) + "\n")
        return
    table = Table(title=f"core model: N = {n:,}, T = {weeks}, seed {seed} ({seconds:.3f} s)")
    table.add_column("total")
    table.add_column("agents", justify="right")
    for key, value in totals.items():
        table.add_row(key, f"{value:,}")
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
