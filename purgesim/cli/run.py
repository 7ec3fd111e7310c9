"""``purgesim run``: one run, or an ensemble of seeds (``--reps``), and its summary."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from purgesim.cli.app import (
    INTERRUPTED,
    MAX_SEEDS,
    CatalogOpt,
    ScenarioArg,
    app,
    bar,
    check_folder,
    cores,
    err,
    fail,
    load,
    on_interrupt,
    out,
    plain,
    plural,
    progress,
)

if TYPE_CHECKING:
    from purgesim.catalog import Catalog
    from purgesim.ensemble import Rep
    from purgesim.results import Result
    from purgesim.scenario import Scenario


@app.command()
def run(
    scenario: ScenarioArg = "great-terror",
    scale: Annotated[int | None, typer.Option(help="Real people per agent (1 = everyone).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (with --reps: the first).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write result files here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: Annotated[bool, typer.Option(
        help="Show time spent in each phase (with --json, also in the object, as "
             "'profile').")] = False,
    reps: Annotated[int, typer.Option(
        min=1, max=MAX_SEEDS, help="Run this many seeds (seed, seed+1, ...) and report mean and 90% "
                    "interval.")] = 1,
    workers: Annotated[int | None, typer.Option(
        min=1, help="With --reps: processes to run on (default: one per core, as memory "
                    "allows).")] = None,
    catalog: CatalogOpt = None,
    report: Annotated[bool, typer.Option(
        "--report", help="Also write the HTML report (RUN_DIR/report.html); without --out the "
                         "results go to runs/SCENARIO-seedN-1_SCALE.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the run the --out folder holds (it is marked replaced in "
                        "the catalog); without it such a folder is refused.")] = False,
) -> None:
    """Run a scenario and summarise it (real people, not agents)."""
    sc = load(scenario, scale=scale, seed=seed)
    if report and reps > 1:
        fail("error: --report: one run at a time; allowed with --reps 1 (for an ensemble, "
             "run `purgesim report` on a seed's folder)", code=2)
    if report and out_dir is None:
        out_dir = Path("runs") / f"{sc.name}-seed{sc.seed}-1_{sc.scale}"
    _check_memory(sc)
    if reps > 1:
        _run_ensemble(sc, reps, workers, out_dir, as_json, profile, _open_catalog(catalog),
                      force)
        return
    taken = _claim(out_dir, force) if out_dir is not None else []
    from purgesim.catalog import new_id

    runs = _open_catalog(catalog)
    run_id = new_id()  # known before it is registered: an interrupt then can still mark it
    t0 = time.perf_counter()
    try:
        with on_interrupt(lambda: "nothing was written (the catalog marks the run failed: "
                          "interrupted); rerun the same command to run it again"):
            runs.start(scenario=sc.name, seed=sc.seed, scale=sc.scale, weeks=sc.weeks,
                       out_dir=out_dir, run_id=run_id)
            result = _simulate(sc)
        wall = time.perf_counter() - t0
        summary = result.summary()
        if out_dir is not None:
            _write_run(result, out_dir, taken, runs, run_id, wall)
    except BaseException as exc:
        if not isinstance(exc, typer.Exit):
            runs.fail(run_id, reason(exc), time.perf_counter() - t0)
        elif exc.exit_code == INTERRUPTED:
            runs.fail(run_id, "interrupted", time.perf_counter() - t0)
        raise
    runs.complete(run_id, summary, wall)
    if as_json:
        shown = summary if not profile else {
            **summary, "profile": profile_json(result.timings, wall)}
        sys.stdout.write(json.dumps(shown) + "\n")
    else:
        print_summary(summary)
        if out_dir is not None:
            out.print(f"results written to {out_dir}")
    if report and out_dir is not None:
        from purgesim.report import write_report

        page = write_report(out_dir)
        (err if as_json else out).print(f"report written to {page}", highlight=False)
    if profile:
        print_profile(result.timings, f"time per phase ({wall:.2f} s wall)", as_json)


def _simulate(sc: Scenario) -> Result:
    """Build and run ``sc`` with a progress bar of its weeks."""
    from purgesim.sim import Sim

    sim = Sim(sc)
    with progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} weeks"),
                  TimeElapsedColumn()) as weeks:
        task = weeks.add_task(f"building {sc.name} at 1:{sc.scale}", total=sc.weeks)
        sim.init()
        weeks.update(task, description=f"running {sc.name}")
        return sim.run(progress=lambda done, total: weeks.update(task, completed=done))


def _claim(out_dir: Path, force: bool, reusable: set[Path] | None = None) -> list[Path]:
    """Before anything runs: ``out_dir`` can be written, and holds no finished run unless
    ``force``; the folders of the runs to replace."""
    from purgesim.outputs import OutputError, claim

    check_folder(out_dir)
    try:
        return claim(out_dir, force, reusable=reusable)
    except OutputError as exc:
        fail(f"error: {exc}", code=2)


def _write_run(result: Result, out_dir: Path, taken: list[Path], runs: Catalog, run_id: str,
               wall: float) -> None:
    """Write a run's files (replacing the runs ``taken`` from the folder first); an
    interrupt while writing leaves no half-written file and says so."""
    from purgesim.outputs import clear

    with on_interrupt(lambda: f"{out_dir} holds no finished run (meta.json, written last, is "
                      "missing), and no file is half-written; rerun the same command"):
        try:
            if taken:
                runs.replace(taken, by=run_id)
                clear(taken)
            result.write(out_dir, meta={"wall_seconds": round(wall, 3), "run_id": run_id})
        except OSError as exc:
            runs.fail(run_id, f"cannot write the results: {exc}", wall)
            fail(f"error: --out {out_dir}: cannot write the results: {exc}", code=1)


def reason(exc: BaseException) -> str:
    """Why a run failed, in one line for the catalog."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


def _open_catalog(path: Path | None) -> Catalog:
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


def profile_json(timings: dict[str, float], wall: float, **extra: Any) -> dict[str, Any]:
    """The profile as ``run --profile --json`` adds it to the object: wall seconds of the
    simulation and seconds per phase, in the order of the weekly loop."""
    return {"wall_seconds": wall, **extra, "phases": dict(timings)}


def print_profile(timings: dict[str, float], title: str, as_json: bool) -> None:
    """The seconds per phase as a table (on stderr with --json)."""
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
    wanted = min(requested or cores(), reps)
    if wanted > fit:
        err.print(f"note: {plural(fit, 'process', 'processes')} at a time: the memory "
                  "available holds no more "
                  f"runs at 1:{sc.scale}", markup=False, highlight=False, soft_wrap=True)
    return min(wanted, fit)


def _resumable(sc: Scenario, seeds: list[int], out_dir: Path | None, force: bool
               ) -> tuple[dict[int, Rep], list[Path]]:
    """The reps an interrupted run of the same ensemble finished in ``out_dir`` (reused), and
    the folders of runs that ``--force`` replaces; refuses a folder holding anything else."""
    from purgesim.ensemble import rep_dir, saved_rep

    if out_dir is None:
        return {}, []
    saved = {} if force else {s: r for s in seeds
                              if (r := saved_rep(sc, s, rep_dir(out_dir, s))) is not None}
    taken = _claim(out_dir, force, reusable={rep_dir(out_dir, s) for s in saved})
    if saved:
        err.print(f"note: reusing {plural(len(saved), 'seed')} that an interrupted run of "
                  f"this ensemble finished in {out_dir}", markup=False, highlight=False,
                  soft_wrap=True)
    return saved, taken


def _ensemble_interrupted(out_dir: Path | None, done: list[int]) -> str:
    if out_dir is None:
        return "without --out the reps keep no files; rerun the same command to start again"
    kept = ", ".join(str(s) for s in sorted(done)) or "none"
    return (f"finished seeds ({kept}) are kept in {out_dir}/seed-N; rerun the same command "
            "to run the rest (finished seeds are reused)")


def _run_ensemble(sc: Scenario, reps: int, requested: int | None, out_dir: Path | None,
                  as_json: bool, profile: bool, runs: Catalog, force: bool) -> None:
    """`run --reps`: the seeds in parallel, the catalog written by this process only; the
    seeds an interrupted run of the same command finished in ``out_dir`` are reused."""
    from purgesim.catalog import new_id
    from purgesim.ensemble import RepFailed, run_ensemble, seeds_for, write_ensemble
    from purgesim.outputs import clear, finished

    seeds = seeds_for(sc.seed, reps)
    saved, taken = _resumable(sc, seeds, out_dir, force)
    workers = _ensemble_workers(sc, max(1, reps - len(saved)), requested)
    ensemble_id = new_id()
    run_ids = {s: str((finished(r.out_dir) or {}).get("run_id")) for s, r in saved.items()
               if r.out_dir is not None}
    done_seeds = list(saved)
    t0 = time.perf_counter()
    with bar("seeds") as shown, on_interrupt(lambda: _ensemble_interrupted(out_dir,
                                                                           done_seeds)):
        task = shown.add_task(f"{sc.name} at 1:{sc.scale} on {plural(workers, 'process', 'processes')}",
                              total=reps, completed=len(saved))

        def started(seed: int, where: Path | None) -> dict[str, Any]:
            run_ids[seed] = runs.start(scenario=sc.name, seed=seed, scale=sc.scale,
                                       weeks=sc.weeks, out_dir=where, ensemble=ensemble_id)
            if taken:  # the first rep to start takes the folder over
                runs.replace(taken, by=run_ids[seed])
                clear(taken)
                taken.clear()
            return {"run_id": run_ids[seed], "ensemble": ensemble_id}

        def done(rep: Rep) -> None:
            runs.complete(run_ids[rep.seed], rep.summary, rep.wall_seconds,
                          started=rep.started, finished=rep.finished)
            done_seeds.append(rep.seed)
            shown.update(task, advance=1, description=f"{sc.name}: seed {rep.seed} done")

        try:
            ensemble = run_ensemble(
                sc, seeds, workers=workers, out=out_dir, on_start=started, on_done=done,
                on_failed=lambda seed, exc: runs.fail(run_ids[seed], reason(exc)),
                saved=saved)
        except RepFailed as exc:
            fail(f"error: {exc}", code=1)
    wall = time.perf_counter() - t0
    if out_dir is not None:
        try:
            write_ensemble(ensemble, out_dir, meta={
                "wall_seconds": round(wall, 3), "workers": workers, "ensemble": ensemble_id,
                "run_ids": {str(s): run_ids[s] for s in seeds}})
        except OSError as exc:
            fail(f"error: --out {out_dir}: cannot write the ensemble summary: {exc}", code=1)
    _print_ensemble(ensemble, out_dir, as_json, profile, wall, workers, reps)


def _print_ensemble(ensemble: Any, out_dir: Path | None, as_json: bool, profile: bool,
                    wall: float, workers: int, reps: int) -> None:
    if as_json:
        shown_summary = ensemble.summary if not profile else {
            **ensemble.summary,
            "profile": profile_json(ensemble.timings(), wall, workers=workers, reps=reps)}
        sys.stdout.write(json.dumps(shown_summary) + "\n")
    else:
        print_summary(ensemble.summary)
        if out_dir is not None:
            out.print(f"results written to {out_dir} (one folder per seed, and summary.json)",
                      markup=False, highlight=False)
    if profile:
        print_profile(ensemble.timings(), f"mean time per phase over {plural(reps, 'seed')} "
                      f"({wall:.2f} s wall on {plural(workers, 'process', 'processes')})",
                      as_json)


def _check_memory(sc: Scenario) -> None:
    """Refuse, before anything is built, a scale that would not fit in memory."""
    from purgesim.memory import WontFit, agents_for_scale, check_fits

    try:
        check_fits(agents_for_scale(sc.scale), scale=sc.scale)
    except WontFit as exc:
        fail(f"error: {exc}", code=2)


# ---------------------------------------------------------------------- the summary
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


def print_summary(s: dict[str, Any]) -> None:
    """The summary of a run, or of an ensemble (every figure as mean and 90% interval)."""
    if "seeds" in s:
        seeds = s["seeds"]
        out.print(f"[bold]{escape(plain(s['scenario']))}[/bold]: mean (90% interval) over {s['reps']} "
                  f"seeds ({seeds[0]}..{seeds[-1]}), {_fig(s['agents']['mean'])} agents at "
                  f"1:{s['scale']}, {plural(s['weeks'], 'week')}. Figures are real people.")
    else:
        out.print(f"[bold]{escape(plain(s['scenario']))}[/bold]: {s['agents']:,} agents at "
                  f"1:{s['scale']}, {plural(s['weeks'], 'week')}, seed {s['seed']}. Figures "
                  "are real people.")
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
    out.print(_sources_table(s))
    share = s["innocent_share"]
    out.print("innocent share of the convicted: "
              + ("n/a (nobody convicted)" if share is None else _fig(share, "{:.2%}"))
              + " (depends on the assumed prevalence of real guilt, population.guilty_prevalence)")


def _sources_table(s: dict[str, Any]) -> Table:
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
    return sources
