"""Typed run events: one discriminated union of small plain classes.

Every event carries `run_id`, `stage`, `iteration`, `seq` (strictly increasing within a
run, across stages) and `ts` (UNIX seconds). They serialise to JSON for SSE and logs and
parse back with `parse_event`. The last event of a stage is `StageCompleted`, whose
`reason` says why it stopped.

Events are `PlainClass`es (`stageagent.plainclass`): slotted instances, built on the hot
path by plain attribute stores from values the runtime trusts, and validated and
serialised by pydantic at the boundaries (`parse_event`, `model_dump_json`, an event
built by hand). The events of every iteration have builders of their own on `Emitter`:
they are most of what the runtime allocates per iteration. Events are facts: a consumer
copies one (`model_copy(update=...)`) rather than change it.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, TypeVar, Union

from .messages import AssistantMessage, Usage
from .plainclass import PlainClass, Tagged, adapter_for, field, validate_json

StopReason = Literal[
    "passed",          # the quality gate scored the answer at or above the threshold
    "completed",       # the model answered and the stage has no evaluator to gate it
    "max_iterations",  # the iteration limit was reached before the gate passed
    "budget",          # the token or cost budget ran out
    "timeout",         # the stage timeout expired
    "cancelled",       # the consumer cancelled the run
    "loop_detected",   # the same tool call with the same arguments repeated too often
    "error",           # an unrecoverable error (model failure, tool retry budget, ...)
]


class BaseEvent(PlainClass):
    """Common stamp of every event."""

    run_id: str
    stage: str = ""
    iteration: int = 0
    seq: int = 0
    ts: float = 0.0


class RunStarted(BaseEvent):
    type: Literal["run_started"] = "run_started"
    input: str = ""
    stages: list[str] = field(default_factory=list)


class RunCompleted(BaseEvent):
    type: Literal["run_completed"] = "run_completed"
    ok: bool = True
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    duration_s: float = 0.0


class RunFailed(BaseEvent):
    type: Literal["run_failed"] = "run_failed"
    error: str
    error_type: str = ""
    failed_stage: str = ""


class StageStarted(BaseEvent):
    type: Literal["stage_started"] = "stage_started"
    model: str = ""
    tools: list[str] = field(default_factory=list)
    max_iterations: int = 0
    quality_threshold: float = 0.0


class StageCompleted(BaseEvent):
    type: Literal["stage_completed"] = "stage_completed"
    reason: StopReason
    score: float | None = None
    critiques: list[str] = field(default_factory=list)
    iterations: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    output: Any = None
    error: str | None = None


class Thought(BaseEvent):
    """Model text in a turn that also calls tools (its reasoning), or its final answer."""

    type: Literal["thought"] = "thought"
    text: str


class TextDeltaEvent(BaseEvent):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ToolCalled(BaseEvent):
    type: Literal["tool_called"] = "tool_called"
    tool_call_id: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)


class ToolApproval(BaseEvent):
    type: Literal["tool_approval"] = "tool_approval"
    tool_call_id: str
    tool: str
    approved: bool
    reason: str = ""


class ToolResultEvent(BaseEvent):
    type: Literal["tool_result"] = "tool_result"
    tool_call_id: str
    tool: str
    is_error: bool = False
    content: str = ""
    duration_ms: float = 0.0
    truncated: bool = False


class IterationCompleted(BaseEvent):
    type: Literal["iteration_completed"] = "iteration_completed"
    score: float | None = None
    critiques: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    context_tokens: int = 0
    #: the model that answered this iteration's turn, as the provider reported it
    response_model: str | None = None
    #: that turn's normalised stop reason ("end_turn", "tool_use", "max_tokens", ...)
    finish_reason: str | None = None


class QualityGate(BaseEvent):
    type: Literal["quality_gate"] = "quality_gate"
    score: float
    threshold: float
    passed: bool
    critiques: list[str] = field(default_factory=list)


class OutputFormatted(BaseEvent):
    """One attempt of the explore-then-format phase."""

    type: Literal["output_formatted"] = "output_formatted"
    attempt: int
    ok: bool
    errors: list[str] = field(default_factory=list)
    #: the format turn's own usage and answering model (not in any IterationCompleted)
    usage: Usage | None = None
    response_model: str | None = None


class GroundingChecked(BaseEvent):
    type: Literal["grounding_checked"] = "grounding_checked"
    grounded: bool
    ungrounded: list[str] = field(default_factory=list)


# --- plan-and-execute (stageagent.plan) ----------------------------------------------
# `run_id` is the plan run's id; `stage` is "" (a plan spans stages).


class PlanCreated(BaseEvent):
    type: Literal["plan_created"] = "plan_created"
    plan_id: str
    plan: dict[str, Any] = field(default_factory=dict)  # ExecutionPlan.model_dump(mode="json")


class PlanRevised(BaseEvent):
    """The re-planner replaced the remaining steps; `diff` says what changed."""

    type: Literal["plan_revised"] = "plan_revised"
    plan_id: str
    revision: int
    reason: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    diff: str = ""  # unified diff of the plan's JSON


class PlanStarted(BaseEvent):
    type: Literal["plan_started"] = "plan_started"
    plan_id: str
    steps: int = 0
    resumed: bool = False


class PlanCompleted(BaseEvent):
    """The plan's final status (completed, partial, failed, cancelled)."""

    type: Literal["plan_completed"] = "plan_completed"
    plan_id: str
    status: str
    progress: float = 1.0
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0


class StepStarted(BaseEvent):
    type: Literal["step_started"] = "step_started"
    plan_id: str
    step_id: str
    attempt: int = 1
    kind: str = ""
    target: str = ""


class StepCompleted(BaseEvent):
    type: Literal["step_completed"] = "step_completed"
    plan_id: str
    step_id: str
    attempt: int = 1
    duration_ms: float = 0.0


class StepFailed(BaseEvent):
    """One attempt failed; `will_retry` says whether another attempt follows."""

    type: Literal["step_failed"] = "step_failed"
    plan_id: str
    step_id: str
    attempt: int = 1
    error: str = ""
    error_type: str = ""
    will_retry: bool = False


class StepSkipped(BaseEvent):
    """A step that will not run: `status` is skipped (a dependency failed) or cancelled."""

    type: Literal["step_skipped"] = "step_skipped"
    plan_id: str
    step_id: str
    status: str = "skipped"
    reason: str = ""


class ApprovalRequested(BaseEvent):
    type: Literal["approval_requested"] = "approval_requested"
    plan_id: str
    approval_id: str
    step_id: str | None = None  # None: the whole plan
    summary: str = ""
    timeout_s: float | None = None


class ApprovalDecided(BaseEvent):
    type: Literal["approval_decided"] = "approval_decided"
    plan_id: str
    approval_id: str
    step_id: str | None = None
    approved: bool = False
    by: str = ""
    reason: str = ""


class StepEvent(BaseEvent):
    """An event of a stage step, nested as it was, tagged with the plan and step id."""

    type: Literal["step_event"] = "step_event"
    plan_id: str
    step_id: str
    event: "Event"  # defined below: the union includes this class


Event = Annotated[
    Union[
        RunStarted, RunCompleted, RunFailed, StageStarted, StageCompleted, Thought,
        TextDeltaEvent, ToolCalled, ToolApproval, ToolResultEvent, IterationCompleted,
        QualityGate, OutputFormatted, GroundingChecked,
        PlanCreated, PlanRevised, PlanStarted, PlanCompleted, StepStarted, StepCompleted,
        StepFailed, StepSkipped, ApprovalRequested, ApprovalDecided, StepEvent,
    ],
    Tagged("type"),
]


def parse_event(data: str | bytes | dict[str, Any]) -> BaseEvent:
    """Validate an event from JSON text or a dict (e.g. a line of events.jsonl)."""
    adapter = adapter_for(Event)  # built on first use: `StepEvent`'s `Event` exists then
    if isinstance(data, (str, bytes)):
        return validate_json(adapter, data)
    return adapter.validate_python(data)


class Emitter:
    """Stamps events with run id, stage, iteration, sequence number and time.

    One emitter per run: a facade passes it to each stage so `seq` keeps increasing.
    Events are built without validation: the runtime's values are trusted.
    """

    __slots__ = ("run_id", "stage", "iteration", "seq", "_clock")

    def __init__(self, run_id: str, stage: str = ""):
        self.run_id = run_id
        self.stage = stage
        self.iteration = 0
        self.seq = 0
        self._clock = time.time

    def make(self, cls: type[E], **fields: Any) -> E:
        """Any event; `fields` are its own fields (and optionally `stage`)."""
        self.seq = seq = self.seq + 1
        return cls.model_construct(**{
            "run_id": self.run_id, "stage": self.stage, "iteration": self.iteration,
            "seq": seq, "ts": self._clock(), **fields})

    # --- builders for the events of every iteration (and every stage) -------------------
    # One attribute store per field, in declaration order (`test_messages_events_budget`
    # holds each builder to validated construction). The per-iteration builders stamp
    # inline: a store site that sees one class is specialised by CPython, and a shared
    # `_stamped` sees them all - 5k instructions more per iteration, measured.

    def _stamped(self, cls: type[E]) -> E:
        """A new, unfilled event of `cls` with the common stamp set."""
        event = _new(cls)
        self.seq = seq = self.seq + 1
        event.run_id = self.run_id
        event.stage = self.stage
        event.iteration = self.iteration
        event.seq = seq
        event.ts = self._clock()
        return event

    def stage_started(self, model: str, tools: list[str], max_iterations: int,
                      quality_threshold: float) -> StageStarted:
        e = self._stamped(StageStarted)
        e.type = "stage_started"
        e.model = model
        e.tools = tools
        e.max_iterations = max_iterations
        e.quality_threshold = quality_threshold
        return e

    def stage_completed(self, reason: StopReason, score: float | None, critiques: list[str],
                        iterations: int, usage: Usage, cost_usd: float | None, output: Any,
                        error: str | None) -> StageCompleted:
        e = self._stamped(StageCompleted)
        e.type = "stage_completed"
        e.reason = reason
        e.score = score
        e.critiques = critiques
        e.iterations = iterations
        e.usage = usage
        e.cost_usd = cost_usd
        e.output = output
        e.error = error
        return e

    def thought(self, text: str) -> Thought:
        e = _new(Thought)
        self.seq = seq = self.seq + 1
        e.run_id = self.run_id
        e.stage = self.stage
        e.iteration = self.iteration
        e.seq = seq
        e.ts = self._clock()
        e.type = "thought"
        e.text = text
        return e

    def text_delta(self, text: str) -> TextDeltaEvent:
        e = _new(TextDeltaEvent)
        self.seq = seq = self.seq + 1
        e.run_id = self.run_id
        e.stage = self.stage
        e.iteration = self.iteration
        e.seq = seq
        e.ts = self._clock()
        e.type = "text_delta"
        e.text = text
        return e

    def tool_called(self, tool_call_id: str, tool: str, arguments: dict[str, Any]) -> ToolCalled:
        e = _new(ToolCalled)
        self.seq = seq = self.seq + 1
        e.run_id = self.run_id
        e.stage = self.stage
        e.iteration = self.iteration
        e.seq = seq
        e.ts = self._clock()
        e.type = "tool_called"
        e.tool_call_id = tool_call_id
        e.tool = tool
        e.arguments = arguments
        return e

    def tool_result(self, tool_call_id: str, tool: str, is_error: bool, content: str,
                    duration_ms: float, truncated: bool) -> ToolResultEvent:
        e = _new(ToolResultEvent)
        self.seq = seq = self.seq + 1
        e.run_id = self.run_id
        e.stage = self.stage
        e.iteration = self.iteration
        e.seq = seq
        e.ts = self._clock()
        e.type = "tool_result"
        e.tool_call_id = tool_call_id
        e.tool = tool
        e.is_error = is_error
        e.content = content
        e.duration_ms = duration_ms
        e.truncated = truncated
        return e

    def iteration_completed(self, usage: Usage, cost_usd: float | None, context_tokens: int,
                            score: float | None = None,
                            critiques: list[str] | None = None,
                            response: AssistantMessage | None = None) -> IterationCompleted:
        e = _new(IterationCompleted)
        self.seq = seq = self.seq + 1
        e.run_id = self.run_id
        e.stage = self.stage
        e.iteration = self.iteration
        e.seq = seq
        e.ts = self._clock()
        e.type = "iteration_completed"
        e.score = score
        e.critiques = [] if critiques is None else critiques
        e.usage = usage
        e.cost_usd = cost_usd
        e.context_tokens = context_tokens
        if response is None:
            e.response_model = e.finish_reason = None
        else:
            e.response_model = response.model
            e.finish_reason = response.stop_reason
        return e


E = TypeVar("E", bound=BaseEvent)
_new = object.__new__
