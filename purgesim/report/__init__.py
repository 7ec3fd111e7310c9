"""The report of a run: one self-contained HTML page of Plotly charts, built from a run folder.

A report is built from a :class:`~purgesim.results.Result` read back from the folder
:meth:`~purgesim.results.Result.write` leaves (:meth:`~purgesim.results.Result.load`), so it
can be made for any saved run without running it again. The page embeds plotly.js and needs
no network to open. Each chart carries a one-sentence caption saying what it shows; every
count is in real people (sums of agent weights).

- :mod:`~purgesim.report.data`: what the charts show, computed from a Result (the light
  series a compare report needs are in :mod:`purgesim.series`, below this package and
  :mod:`purgesim.compare` alike);
- :mod:`~purgesim.report.figures`: Plotly figures from those series;
- :mod:`~purgesim.report.sections`: the sections of a page, each a chart and its caption;
- :mod:`~purgesim.report.page`: :func:`write_report` (one run folder) and
  :func:`write_compare_report` (the result of :func:`purgesim.compare.compare`), each
  writing its HTML file atomically;
- :mod:`~purgesim.report.png`: :func:`write_pngs`, the charts as PNG files through Kaleido
  and a local Chromium.
"""

from purgesim.report.data import ReportError, history_rows, is_historical, sample_cascade
from purgesim.report.page import write_compare_report, write_report
from purgesim.report.png import PngError, find_chromium, write_pngs
from purgesim.report.sections import compare_charts, run_charts

__all__ = [
    "PngError", "ReportError", "compare_charts", "find_chromium", "history_rows",
    "is_historical", "run_charts", "sample_cascade", "write_compare_report", "write_pngs",
    "write_report",
]
