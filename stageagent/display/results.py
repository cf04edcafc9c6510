"""Rich HTML for finished runs: `ReportResult` and `StageResult` in a notebook.

A report shows its answer first (the text, the chart, the SQL and the data), then how it
got there: a table of stages and one of iterations with their tool calls and scores, from
the run's events. A stage result has no events, so its turns come from its messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .html import (
    badge,
    chart_html,
    details,
    esc,
    facts,
    fragment,
    json_html,
    money,
    score,
    section,
    short,
    sql_html,
    table,
    tokens,
)

if TYPE_CHECKING:
    from stageagent.facade import ReportResult
    from stageagent.runtime import StageResult

DATA_ROWS = 20
#: events stamped with an iteration that are not part of one (a stage failing mid-call)
_NOT_ITERATION = frozenset({"stage_started", "stage_completed"})


@dataclass
class Iteration:
    """One iteration of one stage, gathered from its events."""

    stage: str
    number: int
    tools: list[tuple[str, bool | None]] = field(default_factory=list)  # (name, ok?)
    score: float | None = None
    critiques: list[str] = field(default_factory=list)
    thought: str = ""
    usage: Any = None


def iterations(events: Iterable[Any]) -> list[Iteration]:
    """Iterations in the order they ran; a tool's ok is None until its result arrives."""
    out: dict[tuple[str, int], Iteration] = {}
    for event in events:
        if not event.iteration or not event.stage or event.type in _NOT_ITERATION:
            continue
        key = (event.stage, event.iteration)
        row = out.get(key)
        if row is None:
            row = out[key] = Iteration(event.stage, event.iteration)
        kind = event.type
        if kind == "tool_called":
            row.tools.append((event.tool, None))
        elif kind == "tool_result":
            for i, (name, ok) in enumerate(row.tools):
                if name == event.tool and ok is None:
                    row.tools[i] = (name, not event.is_error)
                    break
        elif kind == "thought":
            row.thought = event.text
        elif kind in ("quality_gate", "iteration_completed") and event.score is not None:
            row.score, row.critiques = event.score, list(event.critiques)
        if kind == "iteration_completed":
            row.usage = event.usage
    return list(out.values())


def tools_html(tools: Sequence[tuple[str, bool | None]]) -> str:
    marks = {True: "\u2713", False: '<span class="sa-err">\u2717</span>', None: "\u2026"}
    return " ".join(f'<span class="sa-tool">{esc(name)}&nbsp;{marks[ok]}</span>'
                    for name, ok in tools) or '<span class="sa-muted">answer</span>'


def iterations_table(rows: Sequence[Iteration], *, with_stage: bool = True) -> str:
    body = []
    for it in rows:
        note = " \u00b7 ".join(filter(None, [
            short(it.thought, 100), f"critique: {it.critiques[0]}" if it.critiques else ""]))
        cells: list[Any] = [it.number, tools_html(it.tools), score(it.score),
                            tokens(it.usage) if it.usage is not None else "", short(note, 220)]
        body.append([it.stage, *cells] if with_stage else cells)
    header = ["iteration", "tool calls", "score", "tokens", "critique / thought"]
    offset = 1 if with_stage else 0
    return table(["stage", *header] if with_stage else header, body,
                 numeric={offset, offset + 2, offset + 3}, raw={offset + 1})


def data_html(query: Any) -> str:
    numeric = {i for i, c in enumerate(query.columns) if c.kind in ("integer", "number")}
    shown = query.rows[:DATA_ROWS]
    note = (f'<p class="sa-muted">{len(shown)} of {query.row_count} rows'
            f'{" (row limit reached)" if query.truncated else ""}</p>'
            if query.row_count > len(shown) or query.truncated else "")
    return table(query.column_names, shown, numeric=numeric) + note


def text_html(text: str) -> str:
    from stageagent.report import markdown_to_html

    return f'<div class="sa-text">{markdown_to_html(text)}</div>'


def _failed(where: str, error: str | None) -> str:
    return f'<div class="sa-failed"><strong>Failed</strong> {where}: {esc(error or "")}</div>'


# --- a report ----------------------------------------------------------------------------

def report_html(result: ReportResult) -> str:
    """The whole report run: answer, chart, SQL, data, stages and iterations."""
    status = "ok" if result.ok else "failed"
    cost = money(result.cost_usd) if result.cost_usd is not None else None
    head = (f"<h3>{esc(result.question)}</h3><p>{badge(status)} "
            + facts(f"{result.duration_s:.2f} s", f"{tokens(result.usage)} tokens (in / out)",
                    cost, f"run {result.run_id}") + "</p>")
    parts = [head]
    if not result.ok:
        parts.append(_failed(f"in stage <code>{esc(result.failed_stage or '?')}</code>",
                             result.error))
    if result.document:
        parts.append(section("Answer", text_html(result.document)))
    if result.chart_spec:
        parts.append(section("Chart", chart_html(result.chart_spec)))
    if result.sql:
        parts.append(section("SQL", sql_html(result.sql)))
    if result.query_result is not None:
        parts.append(section("Data", data_html(result.query_result)))
    rows = iterations(result.events)
    parts.append(section("Stages", stages_table(result, rows)))
    parts.append(details(f"Iterations ({len(rows)})", iterations_table(rows),
                         open=not result.ok))
    return fragment("".join(parts), element_id=f"sa-report-{result.run_id}")


def stages_table(result: ReportResult, rows: Sequence[Iteration]) -> str:
    body = []
    for name, stage in result.stages.items():
        calls = sum(len(it.tools) for it in rows if it.stage == name)
        body.append([name, badge(stage.reason), stage.iterations, calls, score(stage.score),
                     tokens(stage.usage), money(stage.cost_usd)])
    return table(["stage", "stopped", "iterations", "tool calls", "score", "tokens", "cost"],
                 body, numeric={2, 3, 4, 5, 6}, raw={1})


# --- one stage ---------------------------------------------------------------------------

def turns(messages: Sequence[Any]) -> list[Iteration]:
    """A stage's turns from its message history (results matched to calls by id)."""
    out: list[Iteration] = []
    call_ids: list[str] = []
    seen_task = False
    for message in messages:
        role = message.role
        if role == "assistant":
            calls = message.tool_calls
            call_ids = [c.id for c in calls]
            out.append(Iteration("", len(out) + 1, [(c.name, None) for c in calls],
                                 thought=message.text, usage=message.usage))
        elif role == "tool" and out:
            failed = {r.tool_call_id: r.is_error for r in message.results}
            out[-1].tools = [(name, not failed[i]) if i in failed else (name, ok)
                             for (name, ok), i in zip(out[-1].tools, call_ids)]
        elif role == "user":
            if seen_task and out:  # a critique turn sent back by the quality gate
                out[-1].critiques.append(message.content)
            seen_task = True
    return out


def stage_result_html(result: StageResult) -> str:
    """One stage: why it stopped, its turns, its output (SQL highlighted), data, chart."""
    cost = money(result.cost_usd) if result.cost_usd is not None else None
    head = (f"<h3>Stage {esc(result.stage)}</h3><p>{badge(result.reason)} "
            + facts(f"score {score(result.score)}", f"{result.iterations} iteration(s)",
                    f"{tokens(result.usage)} tokens (in / out)", cost, f"run {result.run_id}")
            + "</p>")
    parts = [head]
    if result.error:
        parts.append(_failed(f"({esc(result.reason)})", result.error))
    if result.critiques and not result.ok:
        items = "".join(f"<li>{esc(c)}</li>" for c in result.critiques)
        parts.append(section("Critiques", f"<ul>{items}</ul>"))
    parts.append(section("Output", _output_html(result)))
    parts.extend(_produced_html(result))
    rows = turns(result.messages)
    if rows:
        rows[-1].score = result.score  # the gate scored the last answer
        parts.append(details(f"Turns ({len(rows)})", iterations_table(rows, with_stage=False),
                             open=not result.ok))
    return fragment("".join(parts), element_id=f"sa-stage-{result.run_id}-{result.stage}")


def _output_html(result: StageResult) -> str:
    output = result.output
    if output is None:
        return text_html(result.text) if result.text else '<p class="sa-muted">(none)</p>'
    sql = getattr(output, "sql", None)
    rest = output.model_dump(exclude={"sql"}) if hasattr(output, "model_dump") else output
    return (sql_html(sql) if isinstance(sql, str) else "") + json_html(rest)


def _produced_html(result: StageResult) -> list[str]:
    """The data or chart this stage's own tools left in the run state."""
    from stageagent.tools.results import STATE_CHART_SPEC, STATE_SQL_RESULT

    called = {c.name for m in result.messages if m.role == "assistant" for c in m.tool_calls}
    parts = []
    query = result.state.get(STATE_SQL_RESULT)
    if "sql_executor" in called and query is not None and hasattr(query, "columns"):
        parts.append(section("Data", data_html(query)))
    spec = result.state.get(STATE_CHART_SPEC)
    if "chart_generator" in called and isinstance(spec, dict):
        parts.append(section("Chart", chart_html(spec)))
    return parts
