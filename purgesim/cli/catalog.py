"""``purgesim runs`` and ``purgesim sql``: the run catalog."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from purgesim.cli.app import CatalogOpt, app, fail, out, plain


@app.command("runs")
def list_runs(
    scenario: Annotated[str | None, typer.Option(help="Only runs of this scenario.")] = None,
    status: Annotated[str | None, typer.Option(
        help="Only runs with this status: running, incomplete (killed halfway), complete, "
             "failed, replaced (another run took its folder).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (newest first).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    catalog: CatalogOpt = None,
) -> None:
    """List the runs in the catalog, newest first."""
    from purgesim.catalog import SHOWN_STATUSES, Catalog, CatalogError

    if status is not None and status not in SHOWN_STATUSES:
        fail(f"error: --status {status}: allowed: {', '.join(SHOWN_STATUSES)}", code=2)
    store = Catalog(catalog)
    try:
        rows = store.runs(scenario=scenario, status=status, limit=limit)
    except CatalogError as exc:
        fail(f"error: {exc}", code=1)
    if as_json:
        sys.stdout.write(json.dumps({"catalog": str(store.path), "runs": rows}, default=str)
                         + "\n")
        return
    if not rows:
        out.print(f"no runs{'' if scenario is None and status is None else ' match'} in "
                  f"{store.path}", highlight=False, markup=False, soft_wrap=True)
        return
    wide = out.width >= 120  # room for the wall time and the output folder
    table = Table(title=plain(f"runs in {store.path} (newest first, times in UTC)"),
                  box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ["id", "started", "scenario", "seed", "scale", "status", "arrested"]
    columns += ["wall s", "output"] if wide else []
    for col in columns:
        numeric = col in ("seed", "scale", "wall s", "arrested")
        # names and numbers are never cut or wrapped mid-word; in a narrow terminal the
        # start time takes two lines (date, then time) to leave them the room
        table.add_column(col, justify="right" if numeric else "left", overflow="fold",
                         no_wrap=numeric or col in ("id", "status", "scenario", "started"),
                         min_width=10 if col == "started" else None)
    colour = {"complete": "green", "failed": "red", "incomplete": "yellow", "running": "cyan",
              "replaced": "dim"}
    when = "%Y-%m-%d %H:%M" if wide else "%Y-%m-%d\n%H:%M"
    for r in rows:
        shown = r["shown_status"]
        cells = [r["run_id"], f"{r['started']:{when}}", escape(plain(r["scenario"])),
                 str(r["seed"]), str(r["scale"]), f"[{colour.get(shown, 'default')}]{shown}[/]",
                 "" if r["arrested"] is None else f"{r['arrested']:,}"]
        if wide:
            cells += ["" if r["wall_seconds"] is None else f"{r['wall_seconds']:.1f}",
                      escape(plain(r["out_dir"] or ""))]
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
        fail(f"error: {exc}", code=1)
    if as_json:
        sys.stdout.write(json.dumps({"columns": names,
                                     "rows": [dict(zip(names, r, strict=True)) for r in rows]},
                                    default=str) + "\n")
        return
    table = Table()
    for i, name in enumerate(names):
        numeric = any(isinstance(r[i], int | float) and not isinstance(r[i], bool)
                      for r in rows[:max_rows])
        table.add_column(escape(plain(name)), justify="right" if numeric else "left")
    for r in rows[:max_rows]:
        table.add_row(*("[dim]null[/dim]" if v is None else escape(plain(str(v))) for v in r))
    out.print(table)
    if len(rows) > max_rows:
        out.print(f"{len(rows) - max_rows:,} more rows not shown (add LIMIT, or --max-rows, "
                  "or --json)")
