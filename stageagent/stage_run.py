"""One stage run: the thought-tool loop, a flat event generator over small steps.

A turn is **think** (ask the model), then either **act** (run the tool calls it made) or,
when it answered, **format** (parse the answer into the stage's output schema), ground and
**gate** (score it against the threshold). `StageRun._events` is the one generator: it
yields the events the steps call for and, after every event, looks for a stop request.
The steps are plain methods that change the run's state (`RunState`) and never yield; the
stage ends in `_finish`, whatever the way out.

Stopping: `cancel()` and the stage deadline take effect at the next event boundary (or
interrupt the await the run is in), always; no tool starts after either. Closing the
iterator (`aclose()`, or abandoning it) or cancelling the consumer task stops the stage
too. Running tools are cancelled, no task is left behind, and `run.result` is set in every
case; `cancel()` and the deadline still deliver a final `StageCompleted`.

Time limits: `timeouts.stage_s` for the whole stage (one timer per loop: `watchdog`),
`timeouts.model_s` for each model turn whatever the model, `timeouts.tool_s` per tool call
(`toolcalls`). A model or tool raising `TimeoutError` itself is its own failure, not one of
our limits; a `CancelledError` that is not a cancellation of the run is an error too.
"""

from __future__ import annotations

import asyncio
import json
import sys
import weakref
from types import CoroutineType
from dataclasses import dataclass, field
from functools import partial
from typing import (TYPE_CHECKING, Any, AsyncGenerator, AsyncIterator, Awaitable, Callable,
                    Sequence)

from . import events as ev
from .budget import History, Spend
from .deadline import DeadlineExpired, call_within, finish_within, next_within
from .events import Emitter, StopReason
from .exceptions import ModelTimeoutError, StageAgentError
from .formatting import format_instruction, jsonable, parse_output, retry_instruction
from .function_tools import Tool, ToolContext
from .grounding import check_grounding
from .log import QUIET, run_logger
from .messages import (
    Message,
    ToolResult,
    part_text,
    system_message,
    tool_result,
    tool_return,
    usage_of,
    user_message,
)
from .models import Model
from .models.base import model_request
from .quality import Candidate, QualityReport, evaluate_all
from .stage_config import StageConfig
from .toolcalls import Outcome, ToolRunner
from .watchdog import Watchdog, watchdog_for

if TYPE_CHECKING:
    from .runtime import StageAwareRuntime

# A zero-argument `current_task` for one loop, as cheap as the Python version allows:
# the run records its driving task before every await that waits, for `cancel()`.
if sys.version_info >= (3, 12):
    def _task_getter(loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
        return asyncio.current_task  # implemented in C
else:
    from asyncio.tasks import _current_tasks  # type: ignore[attr-defined]  # 3.11's source

    def _task_getter(loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
        return partial(_current_tasks.get, loop)


@dataclass
class StageResult:
    """What a stage run produced and why it stopped."""

    run_id: str
    stage: str
    reason: StopReason
    text: str = ""
    output: Any = None
    score: float | None = None
    critiques: list[str] = field(default_factory=list)
    iterations: int = 0
    usage: Any = None
    cost_usd: float | None = None
    messages: list[Message] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.reason in ("passed", "completed")

    def _repr_html_(self) -> str:  # rich display in Jupyter
        from .display import stage_result_html
        return stage_result_html(self)


@dataclass
class PreparedStage:
    """A stage resolved against a runtime: tools, definitions, evaluators, schema."""

    config: StageConfig
    tools: dict[str, Tool]
    definitions: list[Any]
    evaluators: list[Any]
    output_cls: Any
    settings: Any
    output_schema: Any = None


class Stop(Exception):
    """Ends the loop with a reason (raised by the steps, caught by the generator).

    `propagate`: the exception that caused it must go on to the consumer (its task was
    cancelled, or it closed the stream) once the stage has ended.
    """

    def __init__(self, reason: StopReason, error: str | None = None,
                 exception: BaseException | None = None, propagate: bool = False):
        self.reason = reason
        self.error = error
        self.exception = exception
        self.propagate = propagate


class RunState:
    """Everything a run accumulates: conversation, spend, observations, current turn."""

    __slots__ = ("history", "spend", "runner", "ctx", "observations", "seen_calls",
                 "iteration", "response", "text", "calls", "usage", "cost", "window_tokens",
                 "output", "final_text", "score", "critiques", "format_errors", "gate_report",
                 "verdict", "budgeted", "model_name", "context_budget", "format_response",
                 "max_iterations", "loop_repeats", "model_s", "first_settings", "settings",
                 "failed")

    def __init__(self, spend: Spend):
        self.history: History | None = None
        self.spend = spend
        self.runner: ToolRunner | None = None
        self.ctx: ToolContext | None = None
        self.observations: list[ToolResult] = []
        self.seen_calls: dict[Any, int] = {}
        self.iteration = 0
        self.response: Any = None  # the current turn, its text and tool calls
        self.text = ""
        self.calls: list[Any] = []
        self.failed = False  # a tool call of this turn failed
        self.usage: Any = None
        self.cost: float | None = None
        self.window_tokens = 0
        self.output: Any = None
        self.final_text = ""
        self.score: float | None = None
        self.critiques: list[str] = []
        self.format_errors: list[str] = []
        #: the gate's verdict before the evaluators (format failure, grounding penalty)
        self.gate_report: QualityReport | None = None
        #: how the stage ends after an answer (None: the critique went back, go on)
        self.verdict: Stop | None = None
        self.format_response: Any = None  # the last format turn's reply
        self.budgeted = False  # the stage has a token or cost budget
        self.model_name = ""
        self.context_budget: int | None = None
        # the config's values the loop reads every turn, as plain attributes (reading a
        # pydantic model's field costs several times as much)
        self.max_iterations = 0
        self.loop_repeats = 0
        self.model_s: float | None = None
        self.first_settings: Any = None  # the first turn's model settings...
        self.settings: Any = None  # ...and every later turn's (no forced tool choice)


class StageRun:
    """One stage run: iterate it for events; `result` is set when it ends."""

    __slots__ = ("runtime", "config", "input", "model", "emitter", "result", "_prepared",
                 "_context", "_history", "_deps", "_state", "_stream", "_owns_model",
                 "_stop", "_interrupting", "_watchdog", "_ref", "_active_task",
                 "_current_task", "_log", "_gen", "progress", "__weakref__")

    def __init__(self, runtime: "StageAwareRuntime", prepared: PreparedStage, user_input: str,
                 *, model: Model, context: dict[str, Any], history: Sequence[Message] | None,
                 deps: Any, state: dict[str, Any], stream: bool, emitter: Emitter,
                 owns_model: bool = False):
        self.runtime = runtime
        self.config = prepared.config
        self.input = user_input
        self.model = model
        self.emitter = emitter
        self.result: StageResult | None = None
        self._prepared = prepared
        self._context = context
        self._history = history
        self._deps = deps
        self._state = state
        self._stream = stream
        self._owns_model = owns_model  # built from an id string: this run closes it
        self._stop: Stop | None = None  # set by cancel() or the deadline
        self._interrupting = False  # we cancelled the task to interrupt an await
        self._watchdog: Watchdog | None = None
        self._ref: weakref.ref[Any] | None = None
        self._active_task: asyncio.Task[Any] | None = None
        self._current_task: Callable[[], Any] = asyncio.current_task
        self._log: Any = QUIET
        self._gen: AsyncGenerator[ev.BaseEvent, None] = self._events()
        self.progress: RunState | None = None  # the state so far, for displays (read-only)

    @property
    def run_id(self) -> str:
        return self.emitter.run_id

    # --- iteration protocol and control ------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ev.BaseEvent]:
        return self._gen  # the generator itself: no wrapper call per event

    def __anext__(self) -> Any:
        return self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop the run (the consumer is not reading any more); `result` is set."""
        await self._gen.aclose()
        if self.result is None:  # closed before its first event
            self._finish(None, Stop("cancelled", "the consumer closed the event stream"))
            await self._close_model()

    def cancel(self) -> None:
        """Ask the run to stop; its next event is `StageCompleted(reason="cancelled")`."""
        if self._stop is None:
            self._stop = Stop("cancelled", "cancelled by request")
        self._interrupt()

    def expire(self) -> None:
        """The stage deadline passed (called by the watchdog): stop with "timeout"."""
        if self._stop is None:
            self._stop = Stop("timeout",
                              f"stage timeout of {self.config.timeouts.stage_s:g} s expired")
        self._interrupt()

    def _interrupt(self) -> None:
        task = self._active_task
        # ag_await is None while the run sits at a yield (the consumer holds an event):
        # nothing to interrupt then, the request is seen at the next event boundary
        awaiting = self._gen.ag_await  # type: ignore[attr-defined]
        if task is not None and not task.done() and awaiting is not None \
                and not self._interrupting:
            self._interrupting = True
            task.cancel()

    async def display(self) -> StageResult:
        """Run to the end with a live view in the notebook cell; returns the result."""
        from .display import live
        return await live(self)

    def _repr_html_(self) -> str:  # rich display in Jupyter, also while the run goes on
        from .display import stage_run_html
        return stage_run_html(self)

    async def collect(self) -> StageResult:
        """Run to the end, discarding events; returns the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    # --- the loop: yields events, checks for a stop after each ---------------------------

    async def _events(self) -> AsyncGenerator[ev.BaseEvent, None]:
        emit = self.emitter
        config = self.config
        s = self.progress = RunState(Spend(self.runtime.price))
        stop: Stop
        try:
            self._arm()
            yield emit.stage_started(f"{self.model.provider}:{self.model.name}",
                                     list(self._prepared.tools), config.max_iterations,
                                     config.quality_threshold)
            self._begin(s)
            while True:
                request = self._next_turn(s)
                if self._stream:
                    self._active_task = self._current_task()  # what cancel() interrupts
                    deltas = self._streamed(s, request)
                    try:
                        async for delta in deltas:
                            yield delta
                            if self._stop is not None:
                                raise self._stop
                    finally:  # a stop between deltas closes the model's stream now
                        await deltas.aclose()
                    response = s.response
                else:  # stepped by hand: an answer without suspending needs no timer
                    asked = self.model.request(request)  # what `await` would drive:
                    steps = asked if type(asked) is CoroutineType else asked.__await__()
                    try:
                        pending = steps.send(None)
                    except StopIteration as done:
                        response = done.value
                    else:  # it waits: from here on, cancel() interrupts this task
                        self._active_task = self._current_task()
                        response = await finish_within(steps, pending, s.model_s)
                self._think(s, response)
                if s.text:
                    yield emit.thought(s.text)
                    if self._stop is not None:
                        raise self._stop
                if not s.calls:  # the answer: format it, check it is grounded, gate it
                    answer = self._answered(s)
                    try:
                        async for event in answer:
                            yield event
                            if self._stop is not None:
                                raise self._stop
                    finally:
                        await answer.aclose()
                    if s.verdict is not None:
                        stop = s.verdict
                        break
                    continue
                for call in s.calls:
                    yield emit.tool_called(call.id, call.name, call.arguments)
                    if self._stop is not None:
                        raise self._stop  # no tool starts after a stop request
                outcomes = self._act(s)
                if not isinstance(outcomes, list):  # a tool is waiting for something
                    outcomes = await outcomes
                for outcome in outcomes:
                    if outcome.approval is not None:
                        yield self._approval(outcome)
                        if self._stop is not None:
                            raise self._stop
                    yield self._observed(s, outcome)
                    if self._stop is not None:
                        raise self._stop
                yield emit.iteration_completed(s.usage, s.cost, s.window_tokens, None, None,
                                               s.response)  # positional: a cheaper call
                if self._stop is not None:
                    raise self._stop
                if s.failed or s.budgeted:
                    self._after_act(s, outcomes)
        except BaseException as exc:  # every way out ends the stage with a result
            stop = self._stop_for(exc)
            if stop.propagate:
                self._finish(s, stop)
                await self._close_model()
                raise
        self._finish(s, stop)
        await self._close_model()
        assert self.result is not None
        yield emit.stage_completed(
            stop.reason, s.score, s.critiques, s.iteration, self.result.usage,
            s.spend.cost_usd,
            jsonable(s.output) if s.output is not None else (s.final_text or None),
            self.result.error)

    async def _streamed(self, s: RunState, request: Any) -> AsyncGenerator[ev.BaseEvent, None]:
        """Think, streamed: the model's text deltas as events; the turn in `s.response`."""
        s.response = None
        stream = self.model.stream(request)
        deadline = self._model_deadline()
        try:
            while (item := await next_within(stream, deadline)) is not None:
                if item.kind == "text_delta":
                    yield self.emitter.text_delta(item.text)
                elif item.kind == "complete":
                    s.response = item.message
        finally:
            await stream.aclose()

    async def _answered(self, s: RunState) -> AsyncGenerator[ev.BaseEvent, None]:
        """The model answered: format, ground, gate. Sets `s.verdict` when the stage ends
        (passed, completed); None means the critique went back and the loop goes on."""
        emit, config, prepared = self.emitter, self.config, self._prepared
        s.final_text, s.verdict = s.text, None
        if prepared.output_cls is not None:
            for attempt in range(1, config.limits.format_retries + 2):
                ok = await self._format(s, attempt)
                reply = s.format_response
                yield emit.make(ev.OutputFormatted, attempt=attempt, ok=ok,
                                errors=s.format_errors, usage=reply.usage,
                                response_model=reply.model)
                if ok:
                    break
            grounding = self._ground(s)
            if grounding is not None:
                yield grounding
        if not prepared.evaluators and prepared.output_cls is None:
            yield emit.iteration_completed(s.usage, s.cost, s.window_tokens,
                                           response=s.response)
            s.verdict = Stop("completed")
            return
        passed = await self._gate(s)
        yield emit.make(ev.QualityGate, score=s.score, threshold=config.quality_threshold,
                        passed=passed, critiques=s.critiques)
        yield emit.iteration_completed(s.usage, s.cost, s.window_tokens, s.score,
                                       s.critiques, s.response)
        if passed:
            s.verdict = Stop("passed")
        else:
            self._retry_after_gate(s)

    # --- the steps ---------------------------------------------------------------------

    def _arm(self) -> None:
        """Start the stage deadline (one timer per loop serves every run's)."""
        loop = asyncio.get_running_loop()
        self._current_task = _task_getter(loop)
        self.emitter.stage = self.config.name
        self.emitter.iteration = 0
        stage_s = self.config.timeouts.stage_s
        if stage_s:
            dog = self._watchdog = watchdog_for(loop)
            self._ref = weakref.ref(self, dog.forget)  # a collected run leaves by itself
            dog.watch(self._ref, loop.time() + stage_s)

    def _disarm(self) -> None:
        if self._watchdog is not None:
            self._watchdog.forget(self._ref)  # type: ignore[arg-type]
            self._watchdog = None

    def _begin(self, s: RunState) -> None:
        """The conversation so far (prompt, earlier history, task) and the tool runner."""
        if self._stop is not None:
            raise self._stop
        rt, config, prepared = self.runtime, self.config, self._prepared
        counter = rt.counter_for(self.model.name)
        system = rt.render_prompt(config, self.input, self._context, prepared)
        history = s.history = History(counter)
        history.append(system_message(system))
        for message in self._history or ():
            if message.role != "system":
                history.append(message)
        history.append(user_message(self.input))
        # the system prompt and the task are never trimmed; in a follow-up the task comes
        # after the earlier run's messages, which are trimmed like any turn
        task = len(history.messages) - 1
        history.pin(2 if task == 1 else 1, task=task)
        s.model_name = self.model.name
        s.context_budget = config.budget.context_tokens
        s.max_iterations = config.max_iterations
        s.loop_repeats = config.limits.loop_repeats
        s.model_s = config.timeouts.model_s
        # a stage's tool choice is for its first turn; then the model decides
        settings = s.first_settings = prepared.settings
        s.settings = (settings if settings.tool_choice is None
                      else settings.model_copy(update={"tool_choice": None}))
        s.budgeted = (config.budget.max_total_tokens is not None
                      or config.budget.max_cost_usd is not None)
        s.ctx = ToolContext(run_id=self.emitter.run_id, stage=config.name, deps=self._deps,
                            state=self._state)
        s.runner = ToolRunner(prepared.tools, stage=config.name, known=rt.tools.__contains__,
                              counter=counter, output_tokens=config.limits.tool_output_tokens,
                              default_timeout=config.timeouts.tool_s, approver=rt.approver)
        self._log = log = run_logger(run_id=self.emitter.run_id, stage=config.name)
        log.debug("stage started with {} tools", len(prepared.tools))

    def _next_turn(self, s: RunState) -> Any:
        """Start an iteration (or stop: a request, the limit); returns the model request."""
        if self._stop is not None:
            raise self._stop
        if s.iteration >= s.max_iterations:
            raise Stop("max_iterations")
        s.iteration = self.emitter.iteration = s.ctx.iteration = s.iteration + 1  # type: ignore[union-attr]
        history = s.history  # set by `_begin`, like the runner and the tools' context
        request = model_request(history.window(s.context_budget),  # type: ignore[union-attr]
                                self._prepared.definitions,
                                s.first_settings if s.iteration == 1 else s.settings)
        s.window_tokens = history.window_tokens  # type: ignore[union-attr]
        return request

    def _model_deadline(self) -> float | None:
        model_s = self.config.timeouts.model_s
        return None if model_s is None else asyncio.get_running_loop().time() + model_s

    def _think(self, s: RunState, response: Any) -> None:
        """Take in the model's turn: history, usage and cost, its text and tool calls;
        stop when a call repeats."""
        if response is None:
            raise Stop("error", "the model stream ended without a response")
        s.response = response
        counted, s.text, s.calls, keys = _read_turn(response.parts)
        out_tokens = s.history.append(response, counted)  # type: ignore[union-attr]
        usage = response.usage
        if not usage.input_tokens and not usage.output_tokens:  # estimated, from our counts
            usage = usage_of(s.window_tokens, out_tokens, 0, 0, 1, True)
            s.cost = s.spend.add_estimated(s.model_name, usage, s.window_tokens, out_tokens)
        else:
            s.cost = s.spend.add(s.model_name, usage)
        s.usage = usage
        if self._log is not QUIET:
            self._log.bind(iteration=s.iteration).debug(
                "model turn: {} tool call(s), {} chars of text, {} context tokens",
                len(s.calls), len(s.text), s.window_tokens)
        # the same call (tool and arguments) `loop_repeats` times: the model is stuck
        seen, repeated = s.seen_calls, -1
        for i, key in enumerate(keys):
            seen[key] = count = seen.get(key, 0) + 1
            if count >= s.loop_repeats:
                repeated = i
        if repeated >= 0:
            raise Stop("loop_detected", f"tool {s.calls[repeated].name!r} was called "
                       f"{s.loop_repeats} times with the same arguments")

    def _act(self, s: RunState) -> list[Outcome] | Awaitable[list[Outcome]]:
        """Run the turn's tool calls; their results join the history. Returns the outcomes
        or, when a call has to wait, an awaitable of them: a single call that finishes
        without suspending (the common case) needs no coroutine at all."""
        calls, runner, ctx = s.calls, s.runner, s.ctx
        if len(calls) == 1:
            outcome = runner.start_one(calls[0], ctx)  # type: ignore[union-attr,arg-type]
            if isinstance(outcome, Outcome):
                return self._returned(s, [outcome])
            return self._act_later(s, outcome)
        return self._act_later(s, runner.run_all(calls, ctx))  # type: ignore[union-attr,arg-type]

    async def _act_later(self, s: RunState, pending: Awaitable[Any]) -> list[Outcome]:
        self._active_task = self._current_task()  # what cancel() interrupts while it waits
        outcomes = await pending
        return self._returned(s, [outcomes] if isinstance(outcomes, Outcome) else outcomes)

    def _returned(self, s: RunState, outcomes: list[Outcome]) -> list[Outcome]:
        """The tool results join the history, as one tool message."""
        if len(outcomes) == 1:
            result = outcomes[0].result
            results, text, s.failed = [result], result.content, result.is_error
        else:
            results = [o.result for o in outcomes]
            text = "\n".join([r.content for r in results])  # as `message_text` has it
            s.failed = any(r.is_error for r in results)
        s.history.append(tool_return(results), text)  # type: ignore[union-attr]
        return outcomes

    def _approval(self, outcome: Outcome) -> ev.BaseEvent:
        approved, reason = outcome.approval  # type: ignore[misc]
        result = outcome.result
        return self.emitter.make(ev.ToolApproval, tool_call_id=result.tool_call_id,
                                 tool=result.name, approved=approved, reason=reason)

    def _observed(self, s: RunState, outcome: Outcome) -> ev.BaseEvent:
        """Record one tool outcome (an observation unless it failed); its event."""
        result = outcome.result
        if not result.is_error:
            s.observations.append(result)
        if self._log is not QUIET:
            self._log.bind(iteration=s.iteration).debug(
                "tool {} {} in {:.1f} ms", result.name,
                "failed" if result.is_error else "returned", outcome.duration_ms)
        return self.emitter.tool_result(result.tool_call_id, result.name, result.is_error,
                                        result.content, outcome.duration_ms,
                                        outcome.truncated)

    def _after_act(self, s: RunState, outcomes: list[Outcome]) -> None:
        """Stop when a tool's retry budget or the stage's token/cost budget is spent
        (called when a call failed or the stage has a budget)."""
        for outcome in outcomes:
            if outcome.result.is_error:  # only a failure spends a retry budget
                for call in s.calls:
                    spent = s.runner.budget_spent(call.name)  # type: ignore[union-attr]
                    if spent:
                        raise Stop("error", spent)
                break
        if s.budgeted:
            self._check_budget(s.spend)

    async def _format(self, s: RunState, attempt: int) -> bool:
        """One format turn: the model writes the output as JSON, no tools. True if valid."""
        prepared, history = self._prepared, s.history
        assert history is not None
        cls = prepared.output_cls
        if attempt == 1:
            history.append(user_message(format_instruction(cls)))
        # the tools go along (adapters forbid calling them: tool_choice none): a history
        # holding tool calls and results without their definitions is refused by Anthropic
        request = model_request(history.window(self.config.budget.context_tokens),
                                prepared.definitions, prepared.settings,
                                prepared.output_schema)
        self._active_task = self._current_task()
        response = await call_within(self.model.request(request),
                                     self.config.timeouts.model_s)
        history.append(response)
        s.format_response = response
        s.spend.add(s.model_name, response.usage)
        output, errors = parse_output(response.text, cls)
        if response.tool_calls:
            output, errors = None, ["tools are not available in the format step"]
        s.output, s.format_errors = output, errors
        s.gate_report = None
        if output is None:
            history.append(user_message(retry_instruction(errors)))
            s.gate_report = QualityReport(score=0.0, critiques=[
                "The final result could not be formatted as the required JSON: "
                + "; ".join(errors[:5])])
        return output is not None

    def _ground(self, s: RunState) -> ev.BaseEvent | None:
        """Check the output's literal values were observed; the event, if checked."""
        mode = self.config.grounding
        if s.output is None or mode == "off":
            return None
        grounding = check_grounding(s.output, (o.content for o in s.observations))
        if not grounding.grounded:
            penalty = 0.0 if mode == "fail" else grounding.fraction
            s.gate_report = QualityReport(score=penalty, critiques=[
                "These values in your result were not observed in any tool result; use "
                "only values the tools returned: " + ", ".join(grounding.ungrounded[:10])])
        return self.emitter.make(ev.GroundingChecked, grounded=grounding.grounded,
                                 ungrounded=grounding.ungrounded)

    async def _gate(self, s: RunState) -> bool:
        """Score the answer: evaluators, times the grounding penalty. True if it passes."""
        report = s.gate_report
        if s.output is not None or self._prepared.output_cls is None:
            candidate = Candidate(stage=self.config.name, input=self.input, text=s.final_text,
                                  output=s.output, observations=s.observations,
                                  state=self._state, context=self._context)
            self._active_task = self._current_task()
            evaluated = await evaluate_all(self._prepared.evaluators, candidate)
            if report is not None:  # the grounding penalty applies on top
                evaluated = QualityReport(
                    score=evaluated.score * report.score,
                    critiques=[*evaluated.critiques, *report.critiques],
                    evaluator=evaluated.evaluator, details=evaluated.details)
            report = evaluated
        assert report is not None
        s.score, s.critiques = report.score, report.critiques
        return report.score >= self.config.quality_threshold

    def _retry_after_gate(self, s: RunState) -> None:
        """The answer failed the gate: stop at a limit, or send the critique back."""
        if s.budgeted:
            self._check_budget(s.spend)
        if s.iteration >= self.config.max_iterations:
            raise Stop("max_iterations")
        s.history.append(user_message(  # type: ignore[union-attr]
            _critique_turn(s.score or 0.0, self.config, s.critiques)))

    def _check_budget(self, spend: Spend) -> None:
        budget = self.config.budget
        if budget.max_total_tokens is not None and spend.total_tokens > budget.max_total_tokens:
            raise Stop("budget", f"token budget of {budget.max_total_tokens} exceeded "
                                 f"({spend.total_tokens} tokens used)")
        if budget.max_cost_usd is not None and (spend.cost_usd or 0.0) > budget.max_cost_usd:
            raise Stop("budget", f"cost budget of ${budget.max_cost_usd:g} exceeded "
                                 f"(${spend.cost_usd:.4f} spent)")

    # --- the end -----------------------------------------------------------------------

    def _stop_for(self, exc: BaseException) -> Stop:
        """Why the stage ends, for whatever ended the loop."""
        interrupted, self._interrupting = self._interrupting, False
        if interrupted:  # the task.cancel() that interrupted an await was ours: undo it
            task = self._current_task()
            if task is not None and task.cancelling():
                task.uncancel()
        if isinstance(exc, Stop):
            return exc
        if isinstance(exc, asyncio.CancelledError):
            if interrupted and self._stop is not None:
                return self._stop
            task = self._current_task()
            if task is None or task.cancelling():  # the consumer's task was cancelled
                return Stop("cancelled", "the consumer cancelled the run", propagate=True)
            detail = f": {exc}" if str(exc) else ""
            return Stop("error", "CancelledError raised inside the run (the run itself was "
                        f"not cancelled){detail}", exc)
        if isinstance(exc, GeneratorExit):
            self._log.info("stage closed by the consumer")
            return Stop("cancelled", "the consumer closed the event stream", propagate=True)
        if isinstance(exc, DeadlineExpired):
            return Stop("timeout", f"model {self.model.name!r} did not answer within "
                                   f"timeouts.model_s = {self.config.timeouts.model_s:g} s",
                        exc)
        if isinstance(exc, ModelTimeoutError):
            return Stop("timeout", f"ModelTimeoutError: {exc}", exc)
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
            return Stop("error", f"{type(exc).__name__}: {exc}", exc, propagate=True)
        if not isinstance(exc, StageAgentError):
            self._log.opt(exception=exc).error("stage failed")
        return Stop("error", f"{type(exc).__name__}: {exc}", exc)

    def _finish(self, s: RunState | None, stop: Stop) -> None:
        """Set `result`; calls the model made that never ran are answered in its history."""
        self._disarm()
        reason = stop.reason
        history = s.history if s is not None else None
        messages = list(history.messages) if history is not None else []
        last = messages[-1] if messages else None
        if last is not None and last.role == "assistant" and last.tool_calls:
            messages.append(tool_return([
                tool_result(c.id, c.name, f"Not executed: stage stopped ({reason}).", True)
                for c in last.tool_calls]))
        spend = s.spend if s is not None else Spend()
        self.result = StageResult(
            run_id=self.emitter.run_id, stage=self.config.name, reason=reason,
            text=s.final_text if s else "", output=s.output if s else None,
            score=s.score if s else None, critiques=s.critiques if s else [],
            iterations=s.iteration if s else 0, usage=spend.usage, cost_usd=spend.cost_usd,
            messages=messages, state=self._state, error=stop.error, exception=stop.exception)
        self._log.debug("stage ended: {}", reason)

    async def _close_model(self) -> None:
        """Close a model this run built from an id string (a user's model stays open)."""
        if self._owns_model:
            self._owns_model = False
            try:
                await self.model.aclose()
            except Exception as exc:  # noqa: BLE001 - the stage's result stands
                self._log.opt(exception=exc).warning("closing the model failed")


def _read_turn(parts: list[Any]) -> tuple[str, str, list[Any], list[Any]]:
    """A model turn read in one pass, each part's text made once: the text its tokens are
    counted by (`parts_text`), its answer text, its tool calls and their loop keys."""
    if len(parts) == 1:  # the common turn: one call, or one text
        part = parts[0]
        kind = part.kind
        if kind == "tool_call":
            counted = part_text(part)
            return counted, "", parts, [_call_key(part, counted)]
        counted = part_text(part)
        return counted, (counted if kind == "text" else ""), [], []
    texts = [part_text(p) for p in parts]
    calls, keys = [], []
    for part, counted in zip(parts, texts):
        if part.kind == "tool_call":
            calls.append(part)
            keys.append(_call_key(part, counted))
    answer = "".join([p.text for p in parts if p.kind == "text"])
    return "\n".join(texts), answer, calls, keys


def _call_key(call: Any, counted: str) -> Any:
    """Identity of a call for loop detection: name + arguments, order-insensitive. With
    fewer than two arguments there is no order to ignore, and the call's counted text
    (its name and JSON arguments, or the raw text that was not JSON) is the key."""
    arguments = call.arguments
    if len(arguments) < 2 or call.raw_arguments is not None:
        return counted
    try:
        return call.name, frozenset(arguments.items())
    except TypeError:  # unhashable values (lists, dicts): canonical JSON
        return call.name, json.dumps(arguments, sort_keys=True, default=str)


def _critique_turn(score: float, config: StageConfig, critiques: list[str]) -> str:
    lines = "\n".join(f"- {c}" for c in critiques) or "- (no specific critique)"
    return (f"Your answer did not pass the quality check of stage {config.name!r} "
            f"(score {score:.2f}, needed {config.quality_threshold:.2f}). Fix these "
            f"problems and answer again:\n{lines}")

