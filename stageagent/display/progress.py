"""Rich display of runs in progress: a `StageRun` or `ReportRun` shown in a notebook cell
(`run` as a cell's last line) renders what it has done so far, without consuming it.

Everything comes from what the run keeps anyway - a stage run's `progress` (its
`RunState`, set once when it starts) and a report run's stamped events - so showing a run
costs the run nothing per event. A finished run shows its result.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .html import badge, esc, facts, fragment, money, score, section, short, table, tokens
from .live import LiveView
from .results import report_html, stage_result_html

if TYPE_CHECKING:
    from stageagent.facade import ReportRun
    from stageagent.stage_run import StageRun

SHOWN_CALLS = 20
_ENDS = frozenset({"run_completed", "run_failed"})


def stage_run_html(run: StageRun) -> str:
    """A stage run: not started, running (iteration, tool calls, score so far) or its result."""
    if run.result is not None:
        return stage_result_html(run.result)
    s = run.progress
    name = esc(run.config.name)
    if s is None:
        return fragment(f"<h3>{badge('pending')} stage {name}: not started</h3>"
                        + facts(f"run {run.run_id}", f"input: {short(run.input, 120)}"))
    usage = s.spend.usage
    head = (f"<h3>{badge('running')} stage {name}</h3>"
            + facts(f"run {run.run_id}",
                    f"iteration {s.iteration} of {run.config.max_iterations}",
                    f"{run.emitter.seq} events", f"tokens {tokens(usage)}",
                    f"cost {money(s.spend.cost_usd)}" if s.spend.cost_usd else None,
                    f"last score {score(s.score)}" if s.score is not None else None))
    parts = [head]
    calls = _calls(s)
    if calls:
        more = f" (latest {SHOWN_CALLS} of {len(calls)})" if len(calls) > SHOWN_CALLS else ""
        parts.append(section(f"Tool calls{more}", table(
            ["tool", "arguments", "status", "result"], calls[-SHOWN_CALLS:], raw={2})))
    if s.critiques:
        parts.append(section("Critiques", "<ul>" + "".join(
            f"<li>{esc(c)}</li>" for c in s.critiques) + "</ul>"))
    if s.text:
        parts.append(section("The model's latest text", f"<pre>{esc(short(s.text, 600))}</pre>"))
    return fragment("".join(parts), element_id=f"sa-run-{run.run_id}")


def _calls(s: Any) -> list[list[str]]:
    """Every tool call so far with its arguments and, once it has one, its observation."""
    observed = {o.tool_call_id: o for o in s.observations}
    messages = s.history.messages if s.history is not None else []
    parts = [p for m in messages if m.role == "assistant" for p in m.parts
             if p.kind == "tool_call"]
    seen = {p.id for p in parts}
    parts += [c for c in s.calls if c.id not in seen]  # this turn's, not in history yet
    rows = []
    for part in parts:
        arguments = short(json.dumps(part.arguments, ensure_ascii=False, default=str), 100)
        o = observed.get(part.id)
        status = badge("running") if o is None else badge("error" if o.is_error else "ok")
        rows.append([part.name, arguments, status, short(o.content, 100) if o else ""])
    return rows


def report_run_html(run: ReportRun) -> str:
    """A report run: its stages so far (from its events), or the report once it has ended."""
    events: list[Any] = run.result.events
    if events and events[-1].type in _ENDS:
        return report_html(run.result)
    view = LiveView(run_id=run.run_id, status="running" if events else "pending")
    for event in events:
        view.add(event)
    html = view.html()
    pending = _pending_approvals(run.plan_events)
    if pending:
        rows = [[e.step_id or "(plan)", e.approval_id, e.summary] for e in pending]
        html += fragment(section("Waiting for approval", table(
            ["step", "approval id", "what"], rows)))
    return html


def _pending_approvals(plan_events: list[Any]) -> list[Any]:
    decided = {e.approval_id for e in plan_events if e.type == "approval_decided"}
    return [e for e in plan_events
            if e.type == "approval_requested" and e.approval_id not in decided]
