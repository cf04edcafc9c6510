"""The thought-tool runtime: think, call tools, observe, and go again - per stage.

`StageAwareRuntime.run_stage(stage, input)` returns a `StageRun`: an async iterator of
typed events whose last event is `StageCompleted` with the reason the stage stopped. The
loop is flat (one generator, one `while`), so the cost of an iteration and of an event
does not grow with depth or history; each message is token-counted once, when appended.

Per stage, the runtime *enforces* the stage config: only the stage's tools are shown to
the model, and a call to any other tool is refused as an error observation; the stage's
prompt, quality gate, iteration limit, budgets, timeouts and loop detection apply.

Cancellation: `run.cancel()`, closing the iterator (`aclose()`, or abandoning it), or
cancelling the consumer task stops the stage; running tools are cancelled too and no
task is left behind. `cancel()` still delivers a final `StageCompleted(reason="cancelled")`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import weakref
from dataclasses import dataclass, field
from functools import partial
from typing import Any, AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence

from . import events as ev
from .budget import History, PriceFunction, Spend
from .construct import construct, every_field, trusted
from .events import Emitter, StopReason
from .exceptions import StageAgentError, StageConfigError
from .formatting import (
    format_instruction,
    jsonable,
    output_schema_for,
    parse_output,
    retry_instruction,
)
from .function_tools import Tool, ToolContext
from .grounding import check_grounding
from .log import QUIET, run_logger
from .messages import (
    Message,
    SystemMessage,
    ToolResult,
    ToolReturnMessage,
    Usage,
    UserMessage,
)
from .models import Model, infer_model
from .models.base import ModelRequest
from .quality import Candidate, QualityReport, evaluate_all
from .registry import Registry, evaluator_registry, tool_registry, with_toolkit
from .stage_config import StageConfig, StageConfigManager
from .templating import PromptEnvironment
from .tokens import TokenCounter
from .toolcalls import Approver, ToolRunner
from .watchdog import Watchdog, watchdog_for

# A zero-argument `current_task` for one loop, as cheap as the Python version allows:
# the run records its driving task before every await, for `cancel()`.
if sys.version_info >= (3, 12):
    def _task_getter(loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
        return asyncio.current_task  # implemented in C
else:
    from asyncio.tasks import _current_tasks  # type: ignore[attr-defined]  # 3.11's own read

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


@dataclass
class _Prepared:
    """A stage resolved against the runtime: tools, definitions, evaluators, schema."""

    config: StageConfig
    tools: dict[str, Tool]
    definitions: list[Any]
    evaluators: list[Any]
    output_cls: Any
    settings: Any


class _Stop(Exception):
    """Internal: ends the loop with a reason."""

    def __init__(self, reason: StopReason, error: str | None = None):
        self.reason = reason
        self.error = error


class StageRun:
    """One stage run: iterate it for events; `result` is set when it ends."""

    __slots__ = ("runtime", "config", "input", "model", "emitter", "result", "_prepared",
                 "_context", "_history", "_deps", "_state", "_stream", "_cancel_requested",
                 "_timed_out", "_watchdog", "_ref", "_active_task", "_current_task", "_gen",
                 "__weakref__")

    def __init__(self, runtime: "StageAwareRuntime", prepared: _Prepared, user_input: str, *,
                 model: Model, context: dict[str, Any], history: Sequence[Message] | None,
                 deps: Any, state: dict[str, Any], stream: bool, emitter: Emitter):
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
        self._cancel_requested = False
        self._timed_out = False
        self._watchdog: Watchdog | None = None  # the loop's timer for stage deadlines
        self._ref: weakref.ref[StageRun] | None = None
        self._active_task: asyncio.Task[Any] | None = None
        self._current_task: Callable[[], Any] = asyncio.current_task
        self._gen = self._run()

    @property
    def run_id(self) -> str:
        return self.emitter.run_id

    # --- iteration protocol ----------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ev.BaseEvent]:
        # the generator itself: no wrapper call per event (the run records the task
        # that drives it before each await, for cancel())
        return self._gen

    def __anext__(self) -> Any:
        return self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop the run (the consumer is not reading any more)."""
        await self._gen.aclose()

    def cancel(self) -> None:
        """Ask the run to stop; the next event is `StageCompleted(reason="cancelled")`."""
        self._cancel_requested = True
        self._interrupt()

    def _disarm(self) -> None:
        if self._watchdog is not None and self._ref is not None:
            self._watchdog.forget(self._ref)
            self._watchdog = None

    def expire(self) -> None:
        """The stage deadline passed: stop like `cancel()`, with reason "timeout"."""
        self._timed_out = True
        self._interrupt()

    def _interrupt(self) -> None:
        task = self._active_task
        # ag_await is None while the run sits at a yield (the consumer holds an event):
        # nothing to interrupt then, the flags are seen at the next step
        waiting = self._gen.ag_await  # type: ignore[attr-defined]  # (typeshed lacks it)
        if task is not None and not task.done() and waiting is not None:
            task.cancel()

    async def collect(self) -> StageResult:
        """Run to the end, discarding events; returns the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    # --- the loop --------------------------------------------------------------------

    async def _run(self) -> AsyncGenerator[ev.BaseEvent, None]:
        config = self.config
        prepared = self._prepared
        emit = self.emitter
        emit.stage = config.name
        emit.iteration = 0
        rt = self.runtime
        counter = rt.counter_for(self.model.name)
        limits = config.limits
        timeouts = config.timeouts
        loop = asyncio.get_running_loop()
        self._current_task = current_task = _task_getter(loop)
        if timeouts.stage_s:  # one timer per loop serves every run's deadline
            dog = rt._watchdog
            if dog is None or dog.loop is not loop:
                dog = rt._watchdog = watchdog_for(loop)
            self._watchdog = dog
            self._ref = weakref.ref(self, dog.forget)  # a collected run leaves by itself
            dog.watch(self._ref, loop.time() + timeouts.stage_s)
        settings = prepared.settings
        definitions = prepared.definitions
        context_budget = config.budget.context_tokens
        budgeted = (config.budget.max_total_tokens is not None
                    or config.budget.max_cost_usd is not None)
        ctx = ToolContext(run_id=emit.run_id, stage=config.name, deps=self._deps, state=self._state)
        runner = ToolRunner(prepared.tools, stage=config.name, known=rt.tools.__contains__,
                            counter=counter, output_tokens=limits.tool_output_tokens,
                            default_timeout=timeouts.tool_s, approver=rt.approver)
        spend = Spend(rt.price)
        model_name = self.model.name
        observations: list[ToolResult] = []
        seen_calls: dict[str, int] = {}
        score: float | None = None
        critiques: list[str] = []
        output: Any = None
        final_text = ""
        iteration = 0
        reason: StopReason = "error"
        error: str | None = None
        exception: BaseException | None = None
        history: History | None = None
        log = run_logger(run_id=emit.run_id, stage=config.name)

        yield emit.stage_started(f"{self.model.provider}:{model_name}", list(prepared.tools),
                                 config.max_iterations, config.quality_threshold)
        try:
            system = rt.render_prompt(config, self.input, self._context, prepared)
            history = History(counter)
            history.append(construct(SystemMessage, {"content": system}))
            for message in self._history or ():
                if message.role != "system":
                    history.append(message)
            history.append(construct(UserMessage, {"content": self.input}))
            history.pin(2)  # the system prompt and the task (the first user message)
            log.debug("stage started with {} tools", len(prepared.tools))

            while True:
                if self._cancel_requested:
                    raise _Stop("cancelled")
                if self._timed_out:
                    raise TimeoutError
                if iteration >= config.max_iterations:
                    raise _Stop("max_iterations")
                iteration += 1
                emit.iteration = iteration
                ctx.iteration = iteration
                # who drives the run now: cancel() interrupts the await it is in
                self._active_task = current_task()

                # --- think --------------------------------------------------------
                request = trusted(ModelRequest, {
                    "messages": history.window(context_budget), "tools": definitions,
                    "settings": settings, "output_schema": None}, _REQUEST_FIELDS)
                window_tokens = history.window_tokens
                if self._stream:
                    response = None
                    stream = self.model.stream(request)
                    try:
                        while True:
                            try:
                                self._active_task = current_task()
                                item = await stream.__anext__()
                            except StopAsyncIteration:
                                break
                            if item.kind == "text_delta":
                                yield emit.text_delta(item.text)
                            elif item.kind == "complete":
                                response = item.message
                    finally:
                        await stream.aclose()
                    if response is None:
                        raise _Stop("error", "the model stream ended without a response")
                else:
                    response = await self.model.request(request)
                out_tokens = history.append(response)
                usage = response.usage
                if not usage.input_tokens and not usage.output_tokens:
                    usage = trusted(Usage, {
                        "input_tokens": window_tokens, "output_tokens": out_tokens,
                        "cache_read_tokens": 0, "cache_write_tokens": 0, "requests": 1,
                        "estimated": True}, _USAGE_FIELDS)
                cost = spend.add(model_name, usage)
                text, calls = _split(response.parts)
                if log is not QUIET:
                    log.bind(iteration=iteration).debug(
                        "model turn: {} tool call(s), {} chars of text, {} context tokens",
                        len(calls), len(text), window_tokens)
                if text:
                    yield emit.thought(text)

                # --- act ----------------------------------------------------------
                if calls:
                    repeated = None
                    for call in calls:
                        key = _call_key(call)
                        seen = seen_calls.get(key, 0) + 1
                        seen_calls[key] = seen
                        if seen >= limits.loop_repeats:
                            repeated = call
                    if repeated is not None:
                        self._unanswered(history, calls, "stage stopped: loop detected")
                        raise _Stop("loop_detected",
                                    f"tool {repeated.name!r} was called {limits.loop_repeats} "
                                    "times with the same arguments")
                    if self._cancel_requested:
                        self._unanswered(history, calls, "the run was cancelled")
                        raise _Stop("cancelled")
                    for call in calls:
                        yield emit.tool_called(call.id, call.name, call.arguments)
                    self._active_task = current_task()
                    try:
                        if len(calls) == 1:
                            outcomes = [await runner.run_one(calls[0], ctx)]
                        else:
                            outcomes = await runner.run_all(calls, ctx)
                    except BaseException:
                        self._unanswered(history, calls, "stage stopped before the tool ran")
                        raise
                    results = ([outcomes[0].result] if len(outcomes) == 1
                               else [o.result for o in outcomes])
                    history.append(trusted(ToolReturnMessage, {"role": "tool", "results": results},
                                           _RETURN_FIELDS))
                    failed = None
                    for outcome in outcomes:
                        r = outcome.result
                        if r.is_error:
                            failed = r.name if failed is None else failed
                        else:
                            observations.append(r)
                        if outcome.approval is not None:
                            yield emit.make(ev.ToolApproval, tool_call_id=r.tool_call_id,
                                            tool=r.name, approved=outcome.approval[0],
                                            reason=outcome.approval[1])
                        yield emit.tool_result(r.tool_call_id, r.name, r.is_error, r.content,
                                               outcome.duration_ms, outcome.truncated)
                        if log is not QUIET:
                            log.bind(iteration=iteration).debug(
                                "tool {} {} in {:.1f} ms", r.name,
                                "failed" if r.is_error else "returned", outcome.duration_ms)
                    yield emit.iteration_completed(usage, cost, window_tokens)
                    if failed is not None:  # only a failure can spend a tool's retry budget
                        for call in calls:
                            spent = runner.budget_spent(call.name)
                            if spent:
                                raise _Stop("error", spent)
                    if budgeted:
                        self._check_budget(spend)
                    continue

                # --- final answer: format, ground, gate -----------------------------
                final_text = text
                report: QualityReport | None = None
                gate_critiques: list[str] = []
                if prepared.output_cls is not None:
                    output = None
                    self._active_task = current_task()
                    async for event_or_result in self._format(history, prepared, settings,
                                                              spend, limits):
                        if isinstance(event_or_result, ev.BaseEvent):
                            yield event_or_result
                        else:
                            output, format_errors = event_or_result
                    if output is None:
                        gate_critiques.append(
                            "The final result could not be formatted as the required JSON: "
                            + "; ".join(format_errors[:5]))
                        report = QualityReport(score=0.0, critiques=gate_critiques)
                    elif config.grounding != "off":
                        grounding = check_grounding(
                            output, (o.content for o in observations))
                        yield emit.make(ev.GroundingChecked, grounded=grounding.grounded,
                                        ungrounded=grounding.ungrounded)
                        if not grounding.grounded:
                            gate_critiques.append(
                                "These values in your result were not observed in any tool "
                                "result; use only values the tools returned: "
                                + ", ".join(grounding.ungrounded[:10]))
                            penalty = 0.0 if config.grounding == "fail" else grounding.fraction
                            report = QualityReport(score=penalty, critiques=list(gate_critiques))
                if prepared.evaluators or report is not None or prepared.output_cls is not None:
                    if output is not None or not prepared.output_cls:
                        candidate = Candidate(stage=config.name, input=self.input,
                                              text=final_text, output=output,
                                              observations=observations, state=self._state,
                                              context=self._context)
                        self._active_task = current_task()
                        evaluated = await evaluate_all(prepared.evaluators, candidate)
                        if report is not None:  # grounding penalty applies on top
                            evaluated = QualityReport(
                                score=evaluated.score * report.score,
                                critiques=[*evaluated.critiques, *gate_critiques],
                                evaluator=evaluated.evaluator, details=evaluated.details)
                        report = evaluated
                    assert report is not None
                    score = report.score
                    critiques = report.critiques
                    passed = score >= config.quality_threshold
                    yield emit.make(ev.QualityGate, score=score,
                                    threshold=config.quality_threshold, passed=passed,
                                    critiques=critiques)
                    yield emit.iteration_completed(usage, cost, window_tokens, score, critiques)
                    if passed:
                        reason = "passed"
                        break
                    if budgeted:
                        self._check_budget(spend)
                    if iteration >= config.max_iterations:
                        raise _Stop("max_iterations")
                    history.append(UserMessage(content=_critique_turn(score, config, critiques)))
                    continue
                yield emit.iteration_completed(usage, cost, window_tokens)
                reason = "completed"  # a normal end leaves the loop without an exception
                break
        except _Stop as stop:
            reason, error = stop.reason, stop.error
        except TimeoutError as exc:
            reason, error, exception = "timeout", f"stage timeout of {timeouts.stage_s:g} s expired", exc
        except asyncio.CancelledError:
            if not (self._cancel_requested or self._timed_out):
                self._disarm()
                self._finish(history, "cancelled", final_text, output, score, critiques,
                             iteration, spend, "the consumer cancelled the run", None)
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            if self._cancel_requested:
                reason = "cancelled"
            else:
                reason, error = "timeout", f"stage timeout of {timeouts.stage_s:g} s expired"
        except GeneratorExit:
            self._disarm()
            self._finish(history, "cancelled", final_text, output, score, critiques, iteration,
                         spend, "the consumer closed the event stream", None)
            log.info("stage closed by the consumer")
            raise
        except StageAgentError as exc:
            reason, error, exception = "error", f"{type(exc).__name__}: {exc}", exc
        except Exception as exc:  # noqa: BLE001 - a run never crashes the consumer
            reason, error, exception = "error", f"{type(exc).__name__}: {exc}", exc
            log.opt(exception=exc).error("stage failed")
        self._disarm()
        if reason == "cancelled" and error is None:
            error = "cancelled by request"
        self._finish(history, reason, final_text, output, score, critiques, iteration, spend,
                     error, exception)
        log.debug("stage ended: {}", reason)
        assert self.result is not None  # _finish set it
        yield emit.stage_completed(
            reason, score, critiques, iteration, self.result.usage, spend.cost_usd,
            jsonable(output) if output is not None else (final_text or None), error)

    async def _format(self, history: History, prepared: _Prepared, settings: Any, spend: Spend,
                      limits: Any) -> AsyncIterator[Any]:
        """The format phase: yields events, then finally (output | None, errors)."""
        cls = prepared.output_cls
        schema = self.runtime.output_schema(cls)
        history.append(UserMessage(content=format_instruction(cls)))
        errors: list[str] = []
        for attempt in range(1, limits.format_retries + 2):
            # the tools go along (adapters forbid calling them: tool_choice none): a history
            # holding tool calls and results without their definitions is refused by Anthropic
            request = construct(ModelRequest, {
                "messages": history.window(self.config.budget.context_tokens),
                "tools": prepared.definitions, "settings": settings, "output_schema": schema})
            self._active_task = self._current_task()
            response = await self.model.request(request)
            history.append(response)
            spend.add(self.model.name, response.usage)
            output, errors = parse_output(response.text, cls)
            if response.tool_calls:
                output, errors = None, ["tools are not available in the format step"]
            yield self.emitter.make(ev.OutputFormatted, attempt=attempt, ok=output is not None,
                                    errors=errors)
            if output is not None:
                yield (output, [])
                return
            history.append(UserMessage(content=retry_instruction(errors)))
        yield (None, errors)

    def _check_budget(self, spend: Spend) -> None:
        budget = self.config.budget
        if budget.max_total_tokens is not None and spend.total_tokens > budget.max_total_tokens:
            raise _Stop("budget", f"token budget of {budget.max_total_tokens} exceeded "
                                  f"({spend.total_tokens} tokens used)")
        if budget.max_cost_usd is not None and (spend.cost_usd or 0.0) > budget.max_cost_usd:
            raise _Stop("budget", f"cost budget of ${budget.max_cost_usd:g} exceeded "
                                  f"(${spend.cost_usd:.4f} spent)")

    @staticmethod
    def _unanswered(history: History, calls: Sequence[Any], why: str) -> None:
        """Answer calls that will not run, so the history stays valid for a follow-up."""
        if history.messages and history.messages[-1].role == "tool":
            return
        history.append(ToolReturnMessage(results=[
            ToolResult(tool_call_id=c.id, name=c.name, content=f"Not executed: {why}.",
                       is_error=True) for c in calls]))

    def _finish(self, history: History | None, reason: StopReason, text: str, output: Any,
                score: float | None, critiques: list[str], iterations: int, spend: Spend,
                error: str | None, exception: BaseException | None) -> None:
        messages = list(history.messages) if history is not None else []
        last = messages[-1] if messages else None
        if last is not None and last.role == "assistant" and last.tool_calls:
            messages.append(ToolReturnMessage(results=[
                ToolResult(tool_call_id=c.id, name=c.name, is_error=True,
                           content=f"Not executed: stage stopped ({reason}).")
                for c in last.tool_calls]))
        self.result = StageResult(
            run_id=self.emitter.run_id, stage=self.config.name, reason=reason, text=text,
            output=output, score=score, critiques=critiques, iterations=iterations,
            usage=spend.usage, cost_usd=spend.cost_usd, messages=messages, state=self._state,
            error=error, exception=exception)


#: Jinja's delimiters: a prompt without any of them renders to itself
_JINJA_SYNTAX = re.compile(r"\{[{%#]")
_USAGE_FIELDS = every_field(Usage)
_REQUEST_FIELDS = every_field(ModelRequest)
_RETURN_FIELDS = every_field(ToolReturnMessage)


def _split(parts: list[Any]) -> tuple[str, list[Any]]:
    """A turn's text and its tool calls, in one pass (one part is the common case)."""
    if len(parts) == 1:
        kind = parts[0].kind
        if kind == "tool_call":
            return "", parts
        return (parts[0].text if kind == "text" else ""), []
    text = "".join([p.text for p in parts if p.kind == "text"])
    return text, [p for p in parts if p.kind == "tool_call"]


def _call_key(call: Any) -> Any:
    """Identity of a call for loop detection: name + arguments, order-insensitive."""
    try:
        return call.name, frozenset(call.arguments.items())
    except TypeError:  # unhashable values (lists, dicts): canonical JSON
        return call.name, json.dumps(call.arguments, sort_keys=True, default=str)


def _critique_turn(score: float, config: StageConfig, critiques: list[str]) -> str:
    lines = "\n".join(f"- {c}" for c in critiques) or "- (no specific critique)"
    return (f"Your answer did not pass the quality check of stage {config.name!r} "
            f"(score {score:.2f}, needed {config.quality_threshold:.2f}). Fix these "
            f"problems and answer again:\n{lines}")


class StageAwareRuntime:
    """Runs stages: switches tools, prompt, gate and limits per stage, for real.

    Args:
        stages: where stage names are resolved (default: bundled + user stage files,
            loaded on first use).
        model: a `Model` or model id that overrides every stage's `[model] id`.
        tools: the tools (Tool objects or typed functions) stages may name; a stage may
            also name a toolkit of its own (`StageConfig.toolkit`, as the bundled stages do).
        evaluators: the evaluators stages may name, by name.
        deps: default `ToolContext.deps` for tools.
        approver: async callable deciding on `requires_approval` tool calls.
        price: cost function (model name, usage) -> USD or None.
    """

    def __init__(
        self,
        stages: StageConfigManager | None = None,
        *,
        model: Model | str | None = None,
        tools: Iterable[Any] | Registry[Tool] | None = None,
        evaluators: dict[str, Any] | Registry[Any] | None = None,
        deps: Any = None,
        approver: Approver | None = None,
        prompts: PromptEnvironment | None = None,
        price: PriceFunction | None = None,
    ):
        self.tools = tools if isinstance(tools, Registry) else tool_registry(tools or ())
        self.evaluators = (evaluators if isinstance(evaluators, Registry)
                           else evaluator_registry(evaluators))
        self._stages = stages
        self.model = model
        self.deps = deps
        self.approver = approver
        self.price = price
        self._prompts = prompts
        self._prepared: dict[int, _Prepared] = {}
        self._counters: dict[str, TokenCounter] = {}
        self._templates: dict[str, Any] = {}
        self._schemas: dict[type, Any] = {}
        self._watchdog: Watchdog | None = None  # the last loop's, looked up once per loop

    @property
    def stages(self) -> StageConfigManager:
        if self._stages is None:
            self._stages = StageConfigManager(tools=self.tools, evaluators=self.evaluators,
                                              prompts=self._prompts)
        return self._stages

    @property
    def prompts(self) -> PromptEnvironment:
        if self._prompts is None:
            self._prompts = self._stages.prompts if self._stages is not None else PromptEnvironment()
        return self._prompts

    def counter_for(self, model_name: str) -> TokenCounter:
        counter = self._counters.get(model_name)
        if counter is None:
            counter = self._counters[model_name] = TokenCounter(model=model_name)
        return counter

    def output_schema(self, cls: type) -> Any:
        schema = self._schemas.get(cls)
        if schema is None:
            schema = self._schemas[cls] = output_schema_for(cls)
        return schema

    def prepare(self, stage: str | StageConfig) -> _Prepared:
        """Resolve a stage's tools, evaluators and output schema (cached per config)."""
        config = self.stages.get(stage) if isinstance(stage, str) else stage
        prepared = self._prepared.get(id(config))
        if prepared is not None and prepared.config is config:
            return prepared
        known_tools, known_evaluators = with_toolkit(config.toolkit, self.tools,
                                                     self.evaluators)
        tools: dict[str, Tool] = {}
        for index, name in enumerate(config.tools):
            if name not in known_tools:
                raise StageConfigError(f"unknown tool {name!r}", path=config.source,
                                       key=f"tools[{index}]")
            tools[name] = known_tools.get(name)
        evaluators = []
        for index, name in enumerate(config.evaluators):
            if name not in known_evaluators:
                raise StageConfigError(f"unknown evaluator {name!r}", path=config.source,
                                       key=f"evaluators[{index}]")
            evaluators.append(known_evaluators.get(name))
        prepared = _Prepared(config=config, tools=tools,
                             definitions=[t.definition for t in tools.values()],
                             evaluators=evaluators, output_cls=config.output_model(),
                             settings=config.model.settings(config.timeouts.model_s))
        self._prepared[id(config)] = prepared
        return prepared

    def render_prompt(self, config: StageConfig, user_input: str, context: dict[str, Any],
                      prepared: _Prepared) -> str:
        variables = {"input": user_input, "stage": config,
                     "tools": prepared.definitions, **context}
        if config.prompt:
            return self.prompts.render(config.prompt, variables)
        if config.prompt_text is not None:
            template = self._templates.get(config.prompt_text)
            if template is None:
                source = config.prompt_text
                if not _JINJA_SYNTAX.search(source):
                    template = source  # plain text: it renders to itself, no Jinja needed
                else:
                    template = self.prompts.compile(source, name=f"{config.name}.prompt_text")
                self._templates[source] = template
            if type(template) is str:
                return template
            return self.prompts.render_compiled(template, variables,
                                                name=f"{config.name}.prompt_text")
        return config.description or f"You are the {config.name} stage."

    def resolve_model(self, config: StageConfig, model: Model | str | None) -> Model:
        return infer_model(model or self.model or config.model.id)

    def run_stage(
        self,
        stage: str | StageConfig,
        input: str,
        *,
        context: dict[str, Any] | None = None,
        history: Sequence[Message] | None = None,
        model: Model | str | None = None,
        deps: Any = None,
        state: dict[str, Any] | None = None,
        stream: bool = False,
        run_id: str | None = None,
        emitter: Emitter | None = None,
    ) -> StageRun:
        """Start a stage run. Iterate the returned `StageRun` for its events.

        `history` continues an earlier run (e.g. `previous.result.messages`): the stage's
        system prompt replaces the old one and `input` is the follow-up question.
        """
        if not isinstance(input, str):
            raise TypeError(f"run_stage(): input must be a str, not {type(input).__name__}")
        prepared = self.prepare(stage)
        resolved = self.resolve_model(prepared.config, model)
        emitter = emitter or Emitter(run_id or os.urandom(8).hex())
        return StageRun(self, prepared, input, model=resolved, context=dict(context or {}),
                        history=history, deps=deps if deps is not None else self.deps,
                        state=state if state is not None else {}, stream=stream,
                        emitter=emitter)

    async def run(self, stage: str | StageConfig, input: str, **kwargs: Any) -> StageResult:
        """Run a stage to the end and return its result (events discarded)."""
        return await self.run_stage(stage, input, **kwargs).collect()
