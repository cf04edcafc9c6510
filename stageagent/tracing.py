"""OpenTelemetry spans for runs, built from the typed event stream (GenAI conventions).

    async for event in traced(run):       # any event stream: a StageRun, a ReportRun, ...
        ...

Facade runs are traced by themselves (`StageAwareFacade.run` wraps its stream). The tree:

    invoke_workflow report              run_started .. run_completed / run_failed
      plan {plan_id}                    plan_created / plan_started .. plan_completed / _failed
        step {step_id}                  step_started .. step_completed / _failed / _skipped
      invoke_agent {stage}              stage_started .. stage_completed
        chat {model}                    one per model call (each turn, each format attempt)
        execute_tool {tool}             tool_called .. tool_result

Spans are made from events, not from inside the runtime: each gets explicit start and end
times (the events' `ts`) and an explicit parent, and nothing is attached to the OTel
context across the generator's yields (an attach there leaks into whatever the consumer
does between two events, and detaches in the wrong task). The runtime's hot path knows
nothing about tracing, and an event log replayed later makes the same tree.

Off costs nothing: without `opentelemetry-api` installed, or with no tracer provider
configured (the API's default proxy), `traced()` returns the stream it was given.

Message content (model text, tool arguments and results, the question) is recorded only
with `capture_content=True` or `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.

Plan events (from `stageagent.plan`) map by type name; ids come from their `plan_id` /
`step_id` fields. A stage span nests under the step whose `step_event` carries its
`stage_started`, else under the only running step, else under the plan or the run.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from .events import BaseEvent

E = TypeVar("E", bound=BaseEvent)

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SCOPE = "stageagent"

PLAN_STARTS = frozenset({"plan_created", "plan_started"})
PLAN_ENDS = frozenset({"plan_completed", "plan_failed", "plan_cancelled"})
STEP_STARTS = frozenset({"step_started"})
STEP_ENDS = frozenset({"step_completed", "step_failed", "step_skipped", "step_cancelled"})
_OK_REASONS = frozenset({"passed", "completed"})
_IN_FLIGHT_REASONS = frozenset({"error", "timeout", "cancelled"})

_UNSET: Any = object()
_trace_module: Any = _UNSET


def _otel_trace() -> Any:
    """`opentelemetry.trace`, or None when opentelemetry-api is not installed (cached)."""
    global _trace_module
    if _trace_module is _UNSET:
        try:
            from opentelemetry import trace
        except ImportError:
            trace = None  # type: ignore[assignment]
        _trace_module = trace
    return _trace_module


def tracing_active(tracer_provider: Any = None) -> bool:
    """True when opentelemetry-api is installed and a real tracer provider is in place."""
    trace = _otel_trace()
    if trace is None:
        return False
    provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def content_capture_default() -> bool:
    return os.environ.get(CONTENT_ENV, "").strip().lower() in ("1", "true", "yes")


@overload
def traced(events: AsyncGenerator[E, None], *, tracer_provider: Any = ...,
           capture_content: bool | None = ..., workflow: str = ...) -> AsyncGenerator[E, None]:
    ...


@overload
def traced(events: AsyncIterator[E], *, tracer_provider: Any = ...,
           capture_content: bool | None = ..., workflow: str = ...) -> AsyncIterator[E]:
    ...


def traced(events: AsyncIterator[E], *, tracer_provider: Any = None,
           capture_content: bool | None = None, workflow: str = "report") -> AsyncIterator[E]:
    """The same events, recorded as spans on the way; `events` itself when tracing is off.

    Args:
        events: any stream of stageagent events (a `StageRun`, a `ReportRun`, a generator).
        tracer_provider: default: the global one (`opentelemetry.trace.set_tracer_provider`).
        capture_content: record message content; default from `CONTENT_ENV`.
        workflow: the name of the root span of a facade run (`invoke_workflow {workflow}`).
    """
    if not tracing_active(tracer_provider):
        return events
    builder = SpanBuilder(tracer_provider=tracer_provider, capture_content=capture_content,
                          workflow=workflow)
    return _traced(events, builder)


async def _traced(events: AsyncIterator[E], builder: SpanBuilder) -> AsyncGenerator[E, None]:
    failure: BaseException | None = None
    spans: SpanBuilder | None = builder
    try:
        async for event in events:
            if spans is not None:
                try:
                    spans.on_event(event)
                except Exception as exc:  # noqa: BLE001 - tracing never breaks a run
                    _give_up(spans, exc)
                    spans = None
            yield event
    except BaseException as exc:
        failure = exc
        raise
    finally:
        if spans is not None:
            spans.close(failure)
        aclose = getattr(events, "aclose", None)
        if aclose is not None and failure is not None:
            await aclose()


def _give_up(spans: SpanBuilder, exc: Exception) -> None:
    """A span could not be built: log it, end what is open, trace no further."""
    from .log import get_logger

    get_logger().opt(exception=exc).warning("tracing stopped for this run: {}", exc)
    try:
        spans.close(exc)
    except Exception:  # noqa: BLE001, S110 - already failing; the run goes on untraced
        pass


def tool_error_type(content: str) -> str:
    """A low-cardinality `error.type` for a failed tool call, from its observation text
    (the wording of `stageagent.toolcalls`: "Tool 'x' raised KeyError: ..." -> KeyError)."""
    for pattern, kind in _TOOL_ERRORS:
        match = re.search(pattern, content)  # re caches the compiled patterns
        if match:
            return match.group(1) if kind is None else kind
    return "tool_error"


_TOOL_ERRORS: list[tuple[str, str | None]] = [
    (r"^Tool '[^']*' raised (\w+)", None),
    (r"^Tool '[^']*' timed out", "timeout"),
    (r"^(Invalid arguments for tool|Arguments for tool .* are not a JSON)", "invalid_arguments"),
    (r"^Tool '[^']*' is not enabled in stage", "tool_not_enabled"),
    (r"^Unknown tool", "unknown_tool"),
    (r"^The call to '[^']*' was refused", "refused"),
]


def _ns(ts: float) -> int:
    return int(ts * 1e9)


def _usage_attributes(usage: Any) -> dict[str, int]:
    if usage is None:
        return {}
    attrs = {"gen_ai.usage.input_tokens": usage.input_tokens,
             "gen_ai.usage.output_tokens": usage.output_tokens}
    if usage.cache_read_tokens:
        attrs["gen_ai.usage.cache_read.input_tokens"] = usage.cache_read_tokens
    if usage.cache_write_tokens:
        attrs["gen_ai.usage.cache_creation.input_tokens"] = usage.cache_write_tokens
    return attrs


def _error_type(reason: str, error: str | None) -> str:
    """`error.type` of a stage that did not pass: the exception class, else the reason."""
    if reason == "error" and error:
        match = re.match(r"(\w+(?:\.\w+)*): ", error)
        if match:
            return match.group(1)
    return reason


@dataclass
class _Stage:
    """The spans of one running stage, and where its current model call stands."""

    span: Any
    context: Any                      # the OTel context holding `span`: its children's parent
    provider: str
    model: str
    chat_start: float | None = None   # a model call may be under way since then
    chat: Any = None                  # the turn's answered call, ended once usage arrives
    chat_end: float = 0.0
    parts: list[dict[str, Any]] = field(default_factory=list)
    first_chunk: float | None = None
    iterations_done: int = 0
    last_ts: float = 0.0
    tools: dict[str, tuple[Any, float]] = field(default_factory=dict)


class SpanBuilder:
    """Turns one run's events into spans; `on_event` per event, `close` at the end.

    Usable on its own where events arrive some other way (a server relaying a run).
    """

    def __init__(self, *, tracer_provider: Any = None, capture_content: bool | None = None,
                 workflow: str = "report", parent: Any = None):
        trace = _otel_trace()
        if trace is None:
            raise ImportError("tracing needs opentelemetry-api: pip install 'stageagent[otel]'")
        from opentelemetry import context

        self._trace = trace
        self._tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        self._content = content_capture_default() if capture_content is None \
            else capture_content
        self._workflow = workflow
        #: the caller's current span (if any) becomes the parent of the tree
        self._parent = parent if parent is not None else context.get_current()
        self._run: Any = None
        self._plans: dict[str, Any] = {}
        self._steps: dict[str, Any] = {}
        self._stages: dict[str, _Stage] = {}
        self._nested_step: str | None = None  # the step of the `step_event` being read
        self._handlers = {
            "run_started": self._run_started, "run_completed": self._run_ended,
            "run_failed": self._run_ended, "stage_started": self._stage_started,
            "stage_completed": self._stage_completed, "thought": self._thought,
            "text_delta": self._text_delta, "tool_called": self._tool_called,
            "tool_approval": self._tool_approval, "tool_result": self._tool_result,
            "iteration_completed": self._iteration_completed,
            "output_formatted": self._output_formatted, "quality_gate": self._quality_gate,
            "grounding_checked": self._grounding_checked,
        }

    # --- entry points -------------------------------------------------------------------

    def on_event(self, event: BaseEvent) -> None:
        kind = getattr(event, "type", "")
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(event)
        elif kind in PLAN_STARTS or kind in PLAN_ENDS or kind == "plan_revised":
            self._plan_event(event, kind)
        elif kind in STEP_STARTS or kind in STEP_ENDS:
            self._step_event(event, kind)
        elif kind == "step_event":  # a plan step's stage event, nested as it ran
            self._nested_step = str(event.step_id)  # type: ignore[attr-defined]
            try:
                self.on_event(event.event)  # type: ignore[attr-defined]
            finally:
                self._nested_step = None
        stage = self._stages.get(event.stage)
        if stage is not None:
            stage.last_ts = event.ts

    def close(self, failure: BaseException | None = None) -> None:
        """End every span still open (the stream stopped early): error.type says why."""
        now = time.time()
        if failure is None:
            why = "interrupted"
        elif isinstance(failure, GeneratorExit) or type(failure).__name__ == "CancelledError":
            why = "cancelled"
        else:
            why = type(failure).__name__
        for stage in list(self._stages.values()):
            self._end_stage(stage, now, why, f"the event stream ended ({why})")
        self._stages.clear()
        for span in [*self._steps.values(), *self._plans.values()]:
            self._fail(span, why, f"the event stream ended ({why})")
            span.end(end_time=_ns(now))
        self._steps.clear()
        self._plans.clear()
        if self._run is not None:
            self._fail(self._run, why, f"the event stream ended ({why})")
            self._run.end(end_time=_ns(now))
            self._run = None

    # --- helpers ------------------------------------------------------------------------

    def _start(self, name: str, parent: Any, ts: float, attributes: dict[str, Any],
               kind: Any = None) -> Any:
        """A span at `ts` under `parent` (a span, a `_Stage`, or None for the caller's)."""
        if isinstance(parent, _Stage):
            context = parent.context
        elif parent is not None:
            context = self._trace.set_span_in_context(parent)
        else:
            context = self._parent
        return self._tracer.start_span(
            name, context=context, kind=kind if kind is not None else
            self._trace.SpanKind.INTERNAL, attributes=attributes, start_time=_ns(ts))

    def _fail(self, span: Any, error_type: str, description: str | None = None) -> None:
        from opentelemetry.trace import Status, StatusCode

        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, description or error_type))

    def _json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    # --- the run ------------------------------------------------------------------------

    def _run_started(self, event: Any) -> None:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": self._workflow,
            "gen_ai.conversation.id": event.run_id, "stageagent.run.stages": event.stages}
        if self._content:
            attrs["gen_ai.input.messages"] = self._json(
                [{"role": "user", "parts": [{"type": "text", "content": event.input}]}])
        self._run = self._start(f"invoke_workflow {self._workflow}", None, event.ts, attrs)

    def _run_ended(self, event: Any) -> None:
        span, self._run = self._run, None
        if span is None:
            return
        if event.type == "run_failed":
            span.set_attribute("stageagent.run.failed_stage", event.failed_stage)
            self._fail(span, event.error_type or "run_failed", event.error)
        else:
            span.set_attributes(_usage_attributes(event.usage))
            if event.cost_usd is not None:
                span.set_attribute("stageagent.cost_usd", event.cost_usd)
        span.end(end_time=_ns(event.ts))

    # --- plans and steps ----------------------------------------------------------------

    def _plan_event(self, event: Any, kind: str) -> None:
        plan_id = str(getattr(event, "plan_id", None) or "plan")
        span = self._plans.get(plan_id)
        if kind in PLAN_STARTS:
            if span is None:
                self._plans[plan_id] = self._start(
                    f"plan {plan_id}", self._run, event.ts,
                    {"stageagent.plan.id": plan_id, "gen_ai.operation.name": "plan"})
            return
        if span is None:
            return
        if kind == "plan_revised":
            span.add_event("plan_revised", timestamp=_ns(event.ts))
            return
        if kind != "plan_completed":
            self._fail(span, str(getattr(event, "error_type", "") or kind),
                       getattr(event, "error", None))
        span.end(end_time=_ns(event.ts))
        del self._plans[plan_id]

    def _step_event(self, event: Any, kind: str) -> None:
        step_id = str(getattr(event, "step_id", None) or event.seq)
        if kind in STEP_STARTS:
            plan_id = getattr(event, "plan_id", None)
            plan = self._plans.get(str(plan_id)) if plan_id is not None else None
            if plan is None and self._plans:
                plan = next(reversed(self._plans.values()))
            self._steps[step_id] = self._start(
                f"step {step_id}", plan if plan is not None else self._run, event.ts,
                {"stageagent.step.id": step_id})
            return
        span = self._steps.pop(step_id, None)
        if span is None:
            return
        if kind == "step_skipped":
            span.set_attribute("stageagent.step.skipped", True)
        elif kind != "step_completed":
            self._fail(span, str(getattr(event, "error_type", "") or kind),
                       getattr(event, "error", None))
        span.end(end_time=_ns(event.ts))

    def _stage_parent(self, event: Any) -> Any:
        step_id = self._nested_step
        if step_id is not None and step_id in self._steps:
            return self._steps[step_id]
        if len(self._steps) == 1:
            return next(iter(self._steps.values()))
        if self._plans:
            return next(reversed(self._plans.values()))
        return self._run

    # --- stages -------------------------------------------------------------------------

    def _stage_started(self, event: Any) -> None:
        provider, _, model = event.model.partition(":")
        if not model:
            provider, model = "", provider
        model = model.split("@", 1)[0]  # "name@http://host/v1": the base URL is not the name
        attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": event.stage,
                 "gen_ai.conversation.id": event.run_id, "gen_ai.request.model": model,
                 "stageagent.stage.max_iterations": event.max_iterations,
                 "stageagent.stage.quality_threshold": event.quality_threshold}
        if provider:
            attrs["gen_ai.provider.name"] = provider
        span = self._start(f"invoke_agent {event.stage}", self._stage_parent(event),
                           event.ts, attrs)
        self._stages[event.stage] = _Stage(
            span=span, context=self._trace.set_span_in_context(span), provider=provider,
            model=model, chat_start=event.ts, last_ts=event.ts)

    def _stage_completed(self, event: Any) -> None:
        stage = self._stages.pop(event.stage, None)
        if stage is None:
            return
        span = stage.span
        span.set_attributes({
            "stageagent.stage.reason": event.reason, "stageagent.stage.iterations":
            event.iterations, **_usage_attributes(event.usage)})
        if event.score is not None:
            span.set_attribute("stageagent.stage.score", event.score)
        if event.cost_usd is not None:
            span.set_attribute("stageagent.cost_usd", event.cost_usd)
        if self._content and event.output is not None:
            output = event.output if isinstance(event.output, str) else self._json(event.output)
            span.set_attribute("gen_ai.output.messages", self._json(
                [{"role": "assistant", "parts": [{"type": "text", "content": output}]}]))
        in_flight = event.iteration > stage.iterations_done and stage.chat_start is not None
        if in_flight and event.reason in _IN_FLIGHT_REASONS:
            self._chat_answered(stage, event.ts)
            self._fail(stage.chat, event.reason, event.error)
        elif in_flight:  # the answer came (e.g. a repeated call stopped the loop)
            self._chat_answered(stage, event.ts)
        failed = event.reason not in _OK_REASONS
        self._end_stage(stage, event.ts, _error_type(event.reason, event.error) if failed
                        else None, event.error or event.reason)

    def _end_stage(self, stage: _Stage, ts: float, error_type: str | None,
                   description: str) -> None:
        if stage.chat is not None:
            self._end_chat(stage, None)
        for span, _ in stage.tools.values():
            self._fail(span, error_type or "interrupted", description)
            span.end(end_time=_ns(ts))
        stage.tools.clear()
        if error_type is not None:
            self._fail(stage.span, error_type, description)
        stage.span.end(end_time=_ns(ts))

    # --- model calls --------------------------------------------------------------------

    def _chat_attributes(self, stage: _Stage) -> dict[str, Any]:
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": stage.model}
        if stage.provider:
            attrs["gen_ai.provider.name"] = stage.provider
        return attrs

    def _chat_answered(self, stage: _Stage, ts: float) -> None:
        """The turn's model call returned by `ts`: open its span (usage comes later)."""
        start, stage.chat_start = stage.chat_start, None
        if start is None:
            return
        stage.chat = self._start(f"chat {stage.model}", stage, start,
                                 self._chat_attributes(stage), self._trace.SpanKind.CLIENT)
        if stage.first_chunk is not None:
            stage.chat.set_attribute("gen_ai.response.time_to_first_chunk",
                                     stage.first_chunk - start)
            stage.first_chunk = None
        stage.chat_end = ts

    def _end_chat(self, stage: _Stage, event: Any) -> None:
        span, stage.chat = stage.chat, None
        if event is not None:
            span.set_attributes(_usage_attributes(event.usage))
            if event.response_model:
                span.set_attribute("gen_ai.response.model", event.response_model)
            if event.finish_reason:
                span.set_attribute("gen_ai.response.finish_reasons", [event.finish_reason])
        if self._content and stage.parts:
            span.set_attribute("gen_ai.output.messages", self._json(
                [{"role": "assistant", "parts": stage.parts}]))
        stage.parts = []
        span.end(end_time=_ns(stage.chat_end))

    def _text_delta(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is not None and stage.chat_start is not None and stage.first_chunk is None:
            stage.first_chunk = event.ts

    def _thought(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is None:
            return
        self._chat_answered(stage, event.ts)
        if self._content:
            stage.parts.append({"type": "text", "content": event.text})

    def _iteration_completed(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is None:
            return
        self._chat_answered(stage, event.ts)  # an answer with neither text nor tool calls
        if stage.chat is not None:
            self._end_chat(stage, event)
        stage.iterations_done = event.iteration
        stage.chat_start = event.ts  # the next iteration's model call starts from here

    def _output_formatted(self, event: Any) -> None:
        """One format attempt: a model call of its own, from the previous event to this."""
        stage = self._stages.get(event.stage)
        if stage is None:
            return
        self._chat_answered(stage, stage.last_ts)
        span = self._start(f"chat {stage.model}", stage, stage.last_ts,
                           {**self._chat_attributes(stage), "stageagent.phase": "format",
                            "gen_ai.output.type": "json", **_usage_attributes(event.usage)},
                           self._trace.SpanKind.CLIENT)
        if event.response_model:
            span.set_attribute("gen_ai.response.model", event.response_model)
        if not event.ok:
            self._fail(span, "invalid_output", "; ".join(event.errors[:5]))
        span.end(end_time=_ns(event.ts))

    def _quality_gate(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is None:
            return
        self._chat_answered(stage, event.ts)
        attrs: dict[str, Any] = {"score": event.score, "threshold": event.threshold,
                                 "passed": event.passed, "iteration": event.iteration}
        if self._content and event.critiques:
            attrs["critiques"] = event.critiques
        stage.span.add_event("quality_gate", attrs, timestamp=_ns(event.ts))

    def _grounding_checked(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is not None:
            stage.span.add_event("grounding_checked", {"grounded": event.grounded,
                                                       "ungrounded": len(event.ungrounded)},
                                 timestamp=_ns(event.ts))

    # --- tools --------------------------------------------------------------------------

    def _tool_called(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        if stage is None:
            return
        self._chat_answered(stage, event.ts)
        attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": event.tool,
                 "gen_ai.tool.call.id": event.tool_call_id, "gen_ai.tool.type": "function"}
        if self._content:
            arguments = self._json(event.arguments)
            attrs["gen_ai.tool.call.arguments"] = arguments
            stage.parts.append({"type": "tool_call", "id": event.tool_call_id,
                                "name": event.tool, "arguments": event.arguments})
        span = self._start(f"execute_tool {event.tool}", stage, event.ts, attrs)
        stage.tools[event.tool_call_id] = (span, event.ts)

    def _tool_approval(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        entry = stage.tools.get(event.tool_call_id) if stage is not None else None
        if entry is not None:
            entry[0].add_event("tool_approval", {"approved": event.approved,
                                                 "reason": event.reason},
                               timestamp=_ns(event.ts))

    def _tool_result(self, event: Any) -> None:
        stage = self._stages.get(event.stage)
        entry = stage.tools.pop(event.tool_call_id, None) if stage is not None else None
        if entry is None:
            return
        span, started = entry
        if event.truncated:
            span.set_attribute("stageagent.tool.truncated", True)
        if self._content:
            span.set_attribute("gen_ai.tool.call.result", event.content)
        if event.is_error:
            self._fail(span, tool_error_type(event.content), event.content[:300])
        # tools of one turn report together: their own duration dates the end
        end = started + event.duration_ms / 1000 if event.duration_ms else event.ts
        span.end(end_time=_ns(min(end, event.ts)))
