"""Rich notebook display of results and of runs in progress.

* `StageResult` and `ReportResult` render as HTML in Jupyter (`_repr_html_` delegates to
  `stage_result_html` / `report_html`): the stop reason and score, a table of iterations
  with their tool calls and scores, the SQL highlighted, the chart inline, the text.
* A `StageRun` or `ReportRun` in progress renders what it has done so far
  (`stage_run_html` / `report_run_html`): iteration, tool calls, scores, approvals.
* `await live(run)` (also `await run.display()`) shows a view of a running stage or report
  that updates in place as events arrive, and returns the run's result.

Pure HTML strings; IPython is imported only by `live`, and only when it is there.
"""

from __future__ import annotations

from .live import LiveView, live
from .progress import report_run_html, stage_run_html
from .results import report_html, stage_result_html

__all__ = ["LiveView", "live", "report_html", "report_run_html", "stage_result_html",
           "stage_run_html"]
