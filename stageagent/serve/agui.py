"""Our events as AG-UI events (`?protocol=ag-ui`), built with the `ag-ui-protocol` types.

    run_started          -> RUN_STARTED (thread = run id)
    stage_started        -> STEP_STARTED (step = stage name)
    text_delta           -> TEXT_MESSAGE_START (once) + TEXT_MESSAGE_CONTENT
    thought              -> TEXT_MESSAGE_START / CONTENT / END (or END of the streamed one)
    tool_called          -> TOOL_CALL_START / TOOL_CALL_ARGS (the JSON) / TOOL_CALL_END
    tool_result          -> TOOL_CALL_RESULT
    stage_completed      -> STEP_FINISHED (and, for a single-stage run, the run's end)
    run_completed        -> RUN_FINISHED (result: usage, cost, duration)
    run_failed           -> RUN_ERROR, or RUN_FINISHED with a cancelled outcome
    quality_gate, iteration_completed, tool_approval, output_formatted,
    grounding_checked, approval_requested, approval_decided, plan_created, plan_started,
    plan_revised, step_skipped
                         -> CUSTOM "stageagent.<type>" with the event as value (a client
                            shows an approval_requested and answers it over REST)
  a plan run (`POST /v1/plans/runs`):
    step_started         -> STEP_STARTED (step = "plan:<step id>")
    step_completed, step_failed (no retry)
                         -> STEP_FINISHED
    step_event           -> the nested stage event, mapped as above
    plan_completed       -> RUN_FINISHED (completed; cancelled outcome), else RUN_ERROR

The last AG-UI message of one of our events carries that event's seq as `id:`, the ones
before it `seq.1`, `seq.2`...: `Last-Event-ID` resumes at exactly the next message. The
mapper replays earlier events (without sending them) to know which message is open.
"""

from __future__ import annotations

import json
from typing import Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunStartedEvent,
    StepFinishedEvent,
    StepStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from .eventlog import Entry

CUSTOM = {"quality_gate", "iteration_completed", "tool_approval", "output_formatted",
          "grounding_checked", "approval_requested", "approval_decided", "plan_created",
          "plan_started", "plan_revised", "step_skipped"}


class AGUIMapper:
    """Stateful: one per stream. `kind` is "report" or "stage" (no run_* events there)."""

    def __init__(self, run_id: str, kind: str):
        self.run_id = run_id
        self.kind = kind
        self.started = False
        self.open_message: str | None = None

    def map(self, event: dict[str, Any]) -> list[BaseEvent]:
        kind, ms = event["type"], int(event.get("ts", 0) * 1000)
        out: list[BaseEvent] = []
        if not self.started:
            self.started = True
            out.append(RunStartedEvent(thread_id=self.run_id, run_id=self.run_id, timestamp=ms))
            if kind == "run_started":
                return out
        if kind not in ("text_delta", "thought"):
            out += self._close_message(ms)
        out += self._map(kind, event, ms)
        return out

    def _close_message(self, ms: int) -> list[BaseEvent]:
        if self.open_message is None:
            return []
        message, self.open_message = self.open_message, None
        return [TextMessageEndEvent(message_id=message, timestamp=ms)]

    def _map(self, kind: str, e: dict[str, Any], ms: int) -> list[BaseEvent]:
        if kind == "stage_started":
            return [StepStartedEvent(step_name=e["stage"], timestamp=ms)]
        if kind == "text_delta":
            out: list[BaseEvent] = []
            if self.open_message is None:
                self.open_message = f"{self.run_id}-{e['seq']}"
                out.append(TextMessageStartEvent(message_id=self.open_message, role="assistant",
                                                 timestamp=ms))
            out.append(TextMessageContentEvent(message_id=self.open_message, delta=e["text"],
                                               timestamp=ms))
            return out
        if kind == "thought":
            if self.open_message is not None:  # its text was streamed as deltas already
                return self._close_message(ms)
            message = f"{self.run_id}-{e['seq']}"
            return [TextMessageStartEvent(message_id=message, role="assistant", timestamp=ms),
                    TextMessageContentEvent(message_id=message, delta=e["text"], timestamp=ms),
                    TextMessageEndEvent(message_id=message, timestamp=ms)]
        if kind == "tool_called":
            call_id = e["tool_call_id"]
            return [ToolCallStartEvent(tool_call_id=call_id, tool_call_name=e["tool"],
                                       timestamp=ms),
                    ToolCallArgsEvent(tool_call_id=call_id, delta=json.dumps(e["arguments"]),
                                      timestamp=ms),
                    ToolCallEndEvent(tool_call_id=call_id, timestamp=ms)]
        if kind == "tool_result":
            return [ToolCallResultEvent(message_id=f"{self.run_id}-{e['seq']}",
                                        tool_call_id=e["tool_call_id"], content=e["content"],
                                        timestamp=ms)]
        if kind == "stage_completed":
            out = [StepFinishedEvent(step_name=e["stage"], timestamp=ms)]
            if self.kind == "stage":
                out.append(self._stage_end(e, ms))
            return out
        if kind == "run_completed":
            return [RunFinishedEvent(thread_id=self.run_id, run_id=self.run_id, timestamp=ms,
                                     result={"usage": e.get("usage"), "cost_usd": e.get("cost_usd"),
                                             "duration_s": e.get("duration_s")})]
        if kind == "run_failed":
            if e.get("error_type") == "cancelled":
                return [RunFinishedEvent(thread_id=self.run_id, run_id=self.run_id, timestamp=ms,
                                         outcome=RunFinishedCancelledOutcome())]
            return [RunErrorEvent(message=e.get("error", ""), code=e.get("error_type") or None,
                                  timestamp=ms)]
        if kind in CUSTOM:
            return [CustomEvent(name=f"stageagent.{kind}", value=e, timestamp=ms)]
        return self._plan(kind, e, ms)

    def _plan(self, kind: str, e: dict[str, Any], ms: int) -> list[BaseEvent]:
        if kind == "step_event":
            inner = e["event"]
            return self._map(inner["type"], inner, int(inner.get("ts", 0) * 1000))
        if kind == "step_started":
            return [StepStartedEvent(step_name=f"plan:{e['step_id']}", timestamp=ms)]
        if kind == "step_completed" or (kind == "step_failed" and not e.get("will_retry")):
            return [StepFinishedEvent(step_name=f"plan:{e['step_id']}", timestamp=ms)]
        if kind == "plan_completed":
            status = e["status"]
            if status in ("completed", "cancelled"):
                outcome = RunFinishedCancelledOutcome() if status == "cancelled" else None
                return [RunFinishedEvent(thread_id=self.run_id, run_id=self.run_id,
                                         timestamp=ms, outcome=outcome,
                                         result={"status": status, "counts": e["counts"]})]
            return [RunErrorEvent(message=e.get("error") or f"the plan ended {status}",
                                  code=status, timestamp=ms)]
        return []

    def _stage_end(self, e: dict[str, Any], ms: int) -> BaseEvent:
        reason = e["reason"]
        if reason in ("passed", "completed"):
            return RunFinishedEvent(thread_id=self.run_id, run_id=self.run_id, timestamp=ms,
                                    result={"reason": reason, "score": e.get("score"),
                                            "output": e.get("output")})
        if reason == "cancelled":
            return RunFinishedEvent(thread_id=self.run_id, run_id=self.run_id, timestamp=ms,
                                    outcome=RunFinishedCancelledOutcome())
        return RunErrorEvent(message=e.get("error") or f"the stage stopped: {reason}",
                             code=reason, timestamp=ms)


class AGUIRenderer:
    """SSE text of the AG-UI messages of each of our events. The last message of an event
    has the event's seq as `id:`; the ones before it `seq.1`, `seq.2`, ... - EventSource
    resumes from exactly the message it last got."""

    def __init__(self, run_id: str, kind: str):
        self.mapper = AGUIMapper(run_id, kind)

    def render(self, entry: Entry, skip: int = 0) -> str:
        events = self.mapper.map(json.loads(entry.data))
        last = len(events)
        return "".join(
            f"id: {entry.seq if i == last else f'{entry.seq}.{i}'}\n"
            f"data: {e.model_dump_json(by_alias=True)}\n\n"
            for i, e in enumerate(events, 1) if i > skip)

    def skip(self, entry: Entry) -> None:
        self.mapper.map(json.loads(entry.data))
