"""The report as one self-contained HTML page: the run's (or comparison's) title, headline
table and sections, with plotly.js embedded once, so the page opens without a network. Pages
are written atomically.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from purgesim.files import atomic_write_text
from purgesim.outputs import OutputError, refuse_run_file
from purgesim.report import data
from purgesim.report.data import ReportError
from purgesim.report.figures import Chart, Table
from purgesim.report.png import write_pngs
from purgesim.report.sections import compare_charts, run_charts, seed_list
from purgesim.results import Result, ResultError


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 png: str | Path | None = None) -> Path:
    """Write the HTML report of a saved run (default ``RUN_DIR/report.html``) atomically and
    return its path; with ``png``, also draw its charts as PNG files in that folder (see
    :func:`purgesim.report.png.write_pngs`; the HTML is written first, and a
    :class:`~purgesim.report.png.PngError` leaves it)."""
    try:
        if out is not None:
            refuse_run_file(Path(out), "--output")
        result = Result.load(run_dir)
    except (ResultError, OutputError) as exc:
        raise ReportError(str(exc)) from None
    assert result.path is not None  # a loaded run knows its folder
    charts = run_charts(result)
    target = write_page(Path(out) if out is not None else result.path / "report.html",
                        f"purgesim report: {result.name}", _subtitle(result), _intro(result),
                        data.headline(result.summary()), charts,
                        f"Built by purgesim report from the files in {result.path}.")
    if png is not None:
        write_pngs(charts, png)
    return target


def _subtitle(result: Result) -> str:
    sc, meta = result.scenario_data, result.meta
    agents = meta.get("agents") or result.summary().get("agents")
    return (f"scale 1:{sc.get('scale', '?')}, seed {sc.get('seed', '?')}, "
            f"{result.weeks} week{'' if result.weeks == 1 else 's'} from {sc.get('start', '?')}"
            + (f", {agents:,} agents" if isinstance(agents, int) else "")
            + (f"; purgesim {meta['version']}" if meta.get("version") else "")
            + (f", commit {str(meta['git_commit'])[:10]}" if meta.get("git_commit") else ""))


def _intro(result: Result) -> str:
    return (f"{result.scenario_data.get('description', '')}. Figures are real people (sums "
            "of agent weights). The model reports; it does not judge: read the numbers as the "
            "behaviour of mechanisms, not as estimates.").lstrip(". ")


def write_compare_report(result: dict[str, Any], out: str | Path) -> Path:
    """Write the HTML report of a comparison (:func:`purgesim.compare.compare` run with
    ``series=True``) atomically and return its path."""
    try:
        refuse_run_file(Path(out), "--report")
    except OutputError as exc:
        raise ReportError(str(exc)) from None
    missing = [n for n, s in result["scenarios"].items() if "series" not in s]
    if missing:
        raise ReportError(f"no weekly series for {', '.join(missing)}: run the comparison "
                          "with series=True")
    names = list(result["scenarios"])
    return write_page(
        Path(out), f"purgesim compare: {' vs '.join(names)}",
        f"scale 1:{result['scale']}, {seed_list(result['seeds'])}",
        "Scenarios run on the same seeds and set side by side. Figures are real people (sums "
        "of agent weights).", [], compare_charts(result), "Built by purgesim compare --report.")


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
       margin: 0; background: #f4f4f4; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 28px 40px; background: #fff; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.4em 0 0.2em; border-top: 1px solid #ddd; padding-top: 0.8em; }
p.sub { color: #555; margin: 0 0 0.8em; }
p.caption { margin: 0.2em 0 0.4em; color: #333; max-width: 62em; }
table { border-collapse: collapse; font-size: 0.92em; margin: 0.6em 0; }
td, th { padding: 3px 10px; vertical-align: top; border-bottom: 1px solid #eee; }
th { background: #eef1f5; text-align: left; }
td.right, th.right { text-align: right; font-variant-numeric: tabular-nums;
                      white-space: nowrap; }
table.headline td { border: none; padding: 1px 16px 1px 0; }
footer { color: #777; font-size: 0.9em; margin-top: 2em; }
"""


def html_table(table: Table, cls: str = "") -> str:
    """A :class:`Table` as HTML, every cell escaped."""
    def row(cells: Sequence[str], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag} class=\"{a}\">{html.escape(c)}</{tag}>"
                                for c, a in zip(cells, table.align, strict=True)) + "</tr>\n"

    return (f"<table class=\"{cls}\">\n<thead>{row(table.header, 'th')}</thead>\n<tbody>\n"
            + "".join(row(r, "td") for r in table.rows) + "</tbody>\n</table>\n")


def write_page(target: Path, title: str, subtitle: str, intro: str,
               headline: list[tuple[str, str]], charts: Sequence[Chart], footer: str) -> Path:
    """Write one page: title, subtitle, intro, the headline table (if any), each chart or
    table with its title and caption, and the footer; plotly.js is embedded with the first
    chart only."""
    parts = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
             f"<main>\n<h1>{html.escape(title)}</h1>\n<p class=\"sub\">{html.escape(subtitle)}"
             f"</p>\n<p>{html.escape(intro)}</p>\n"]
    if headline:
        parts.append(html_table(Table(["figure", "this run"], [list(h) for h in headline],
                                       ["left", "right"]), "headline"))
    config = {"displaylogo": False, "responsive": True}
    plotly_included = False
    for chart in charts:
        if chart.figure is not None:
            body = chart.figure.to_html(
                full_html=False, include_plotlyjs=not plotly_included, config=config,
                div_id=f"chart-{chart.key}", default_height=f"{chart.height}px")
            plotly_included = True
        else:
            body = html_table(chart.table) if chart.table is not None else ""
        parts.append(f"<section id=\"{chart.key}\">\n<h2>{html.escape(chart.title)}</h2>\n"
                     f"<p class=\"caption\">{html.escape(chart.caption)}</p>\n{body}\n"
                     "</section>\n")
    parts.append(f"<footer>{html.escape(footer)}</footer>\n</main>\n</body>\n</html>\n")
    page = "".join(parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, page)
    return target
