"""A live view of a run in a notebook cell, updated as its events stream in.

    result = await live(run)          # or: await run.display()

shows one output (an IPython display handle, `display_id=True`) that is updated in place:
the stages with their status, iteration, tool calls and scores, the text the model is
streaming, and the newest events. No ipywidgets and no JavaScript: every update is a plain
`update_display_data` message, so it works in JupyterLab, Notebook 7, VS Code and an
executed notebook file. Updates are throttled (`interval`), except at stage boundaries.
Outside IPython the run is consumed silently and its result returned.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from .html import badge, esc, fragment, money, score, short, table, tokens
from .results import iterations, iterations_table

_MILESTONES = frozenset({"run_started", "stage_started", "stage_completed", "run_completed",
                         "run_failed", "quality_gate"})
LOG_LINES = 12
SHOWN_ITERATIONS = 12


@dataclass
class _StageRow:
    status: str = "pending"
    iteration: int = 0
    calls: int = 0
    current: str = ""
    score: float | None = None
    usage: Any = None
    cost: float | None = None


@dataclass
class LiveView:
    """What is known of a run so far; renders as HTML (`_repr_html_`) and as text."""

    events: list[Any] = field(default_factory=list)
    stages: dict[str, _StageRow] = field(default_factory=dict)
    status: str = "running"
    run_id: str = ""
    streaming: str = ""
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    def add(self, event: Any) -> None:
        kind = event.type
        if kind == "text_delta":
            self.streaming += event.text
            return
        self.events.append(event)
        self.run_id = self.run_id or event.run_id
        if kind == "run_started":
            for name in event.stages:
                self.stages.setdefault(name, _StageRow())
            return
        if kind in ("run_completed", "run_failed"):
            self.status = "completed" if kind == "run_completed" else "failed"
            self.error = getattr(event, "error", "")
            return
        if event.stage:
            self._stage_event(self.stages.setdefault(event.stage, _StageRow()), event, kind)

    def _stage_event(self, row: _StageRow, event: Any, kind: str) -> None:
        row.iteration = max(row.iteration, event.iteration)
        if kind == "stage_started":
            row.status = "running"
        elif kind == "tool_called":
            row.calls += 1
            row.current = f"\u2192 {event.tool}"
        elif kind == "tool_result":
            row.current = f"{event.tool} {'failed' if event.is_error else 'returned'}"
        elif kind in ("thought", "iteration_completed"):
            self.streaming = ""
            if kind == "thought":
                row.current = short(event.text, 80)
        elif kind == "quality_gate":
            row.score = event.score
            row.current = f"quality {event.score:.2f} ({'passed' if event.passed else 'retry'})"
        elif kind == "stage_completed":
            row.status, row.score = event.reason, event.score
            row.usage, row.cost, row.current = event.usage, event.cost_usd, ""
            if event.error:
                row.current = short(event.error, 100)

    def finish(self, status: str, error: str = "") -> None:
        """The stream ended: a stage run ends with its stage; a stopped stream says so."""
        self.elapsed = time.monotonic() - self.started
        if self.status == "running":
            self.status = status
            self.error = self.error or error

    # --- rendering ------------------------------------------------------------------------

    def html(self) -> str:
        elapsed = self.elapsed or time.monotonic() - self.started
        run = esc(self.run_id or "\u2026")
        head = (f"<h3>{badge(self.status)} run {run}</h3>"
                f'<p class="sa-muted">{elapsed:.1f} s \u00b7 {len(self.events)} events</p>')
        rows = [[name, badge(r.status), r.iteration, r.calls, score(r.score),
                 tokens(r.usage) if r.usage is not None else "", money(r.cost), r.current]
                for name, r in self.stages.items()]
        parts = [head, table(["stage", "status", "iteration", "tool calls", "score", "tokens",
                              "cost", "now"], rows, numeric={2, 3, 4, 5, 6}, raw={1})]
        if self.error:
            parts.append(f'<div class="sa-failed">{esc(self.error)}</div>')
        if self.streaming:
            parts.append(f'<pre class="sa-stream">{esc(self.streaming[-600:])}</pre>')
        steps = iterations(self.events)
        if steps:
            more = f" (latest {SHOWN_ITERATIONS} of {len(steps)})" \
                if len(steps) > SHOWN_ITERATIONS else ""
            parts.append(f"<h4>Iterations{more}</h4>"
                         f"{iterations_table(steps[-SHOWN_ITERATIONS:])}")
        log = self.log_lines()
        if log:
            parts.append("<h4>Latest events</h4><pre class=\"sa-log\">"
                         + esc("\n".join(log)) + "</pre>")
        return fragment("".join(parts), element_id=f"sa-live-{self.run_id}")

    def log_lines(self) -> list[str]:
        from stageagent.report import event_summary

        lines = []
        for event in self.events[-3 * LOG_LINES:]:
            summary = event_summary(event)
            if summary is not None:
                where = event.stage or "run"
                lines.append(f"{event.seq:>4} {where}[{event.iteration}] {summary}")
        return lines[-LOG_LINES:]

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        stages = ", ".join(f"{n}={r.status}" for n, r in self.stages.items())
        return f"<LiveView {self.status} run={self.run_id} {stages}>"


def _display_handle(view: LiveView) -> Any:
    """An IPython display handle showing `view`, or None outside IPython."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    return display(view, display_id=True)


async def live(run: AsyncIterator[Any], *, interval: float = 0.25) -> Any:
    """Consume `run`, showing a live view in the cell; returns `run.result`.

    Args:
        run: a `StageRun`, a `ReportRun`, or any stream of events (then returns None).
        interval: at most one update per this many seconds (plus one per stage boundary).
    """
    view = LiveView()
    handle = _display_handle(view)
    last = 0.0
    status = "interrupted"
    try:
        async for event in run:
            view.add(event)
            if handle is not None:
                now = time.monotonic()
                if event.type in _MILESTONES or now - last >= interval:
                    handle.update(view)
                    last = now
        status = "completed"
    finally:
        result = getattr(run, "result", None)
        if status == "completed" and result is not None and hasattr(result, "reason"):
            status = result.reason  # a stage run: its stop reason is its status
        view.finish(status, getattr(result, "error", None) or "")
        if handle is not None:
            handle.update(view)
    return result
