"""Executing one turn's tool calls: the runtime's "act" step.

Everything that can go wrong with a tool call becomes an error observation the model sees
and can correct - an unknown or disabled tool, arguments that are not JSON or fail
validation, a refusal by the approver, an exception, a timeout - never a crashed run.
Consecutive failures of one tool are counted against its retry budget; the runtime ends
the stage when a tool's budget is spent.

Parallel-safe tools asked for in the same turn run concurrently; other tools run one at
a time in the order the model asked for them. Tools running concurrently each get a copy
of the run's `state`; their writes are applied to the shared state in call order once
all of them are done, so the outcome never depends on which call finished first.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence, Union

from pydantic_core import ValidationError

from .deadline import DeadlineExpired, finish_within
from .exceptions import ToolError
from .messages import ToolCallPart, ToolResult, tool_result
from .tokens import TokenCounter
from .function_tools import Tool, ToolContext, format_validation_error, render_output

_clock = time.perf_counter

#: how many consecutive bad calls to an unknown/disabled tool name are tolerated
UNKNOWN_TOOL_RETRIES = 2


@dataclass
class ApprovalRequest:
    """What an approver is asked: may `tool` run with `arguments` in this run?"""

    tool: str
    arguments: dict[str, Any]
    tool_call_id: str
    run_id: str
    stage: str


#: returns True/False, or (approved, reason)
Approver = Callable[[ApprovalRequest], Awaitable[Union[bool, tuple[bool, str]]]]


@dataclass(slots=True)
class Outcome:
    """The result of one call, ready to become an observation and an event."""

    result: ToolResult
    duration_ms: float
    truncated: bool = False
    approval: tuple[bool, str] | None = None


class ToolRunner:
    """Runs tool calls for one stage run with its enabled tools and limits."""

    def __init__(
        self,
        tools: dict[str, Tool],
        *,
        stage: str,
        known: Callable[[str], bool],
        counter: TokenCounter,
        output_tokens: int,
        default_timeout: float | None,
        approver: Approver | None,
    ):
        self.tools = tools
        self.stage = stage
        self._known = known
        self._counter = counter
        self._output_tokens = output_tokens
        self._default_timeout = default_timeout
        self._approver = approver
        #: consecutive failures per tool name
        self.failures: dict[str, int] = {}

    @property
    def _available(self) -> str:
        """The enabled tools, for error observations (built only when one is needed)."""
        return ", ".join(self.tools) or "none"

    def budget_spent(self, name: str) -> str | None:
        """A message if `name` has failed more often than its retry budget allows."""
        failures = self.failures.get(name, 0)
        tool = self.tools.get(name)
        limit = tool.max_retries if tool is not None else UNKNOWN_TOOL_RETRIES
        if failures > limit:
            return (f"tool {name!r} failed {failures} times in a row (retry budget "
                    f"{limit}); last error ends the stage")
        return None

    async def run_all(self, calls: Sequence[ToolCallPart], ctx: ToolContext) -> list[Outcome]:
        """Run a turn's calls; results in call order."""
        if len(calls) == 1:
            return [await self.run_one(calls[0], ctx)]
        outcomes: list[Outcome] = []
        batch: list[ToolCallPart] = []
        for call in calls:
            tool = self.tools.get(call.name)
            if tool is not None and tool.parallel_safe and not tool.requires_approval:
                batch.append(call)
                continue
            if batch:
                outcomes.extend(await self._concurrent(batch, ctx))
                batch = []
            outcomes.append(await self.run_one(call, ctx))
        if batch:
            outcomes.extend(await self._concurrent(batch, ctx))
        return outcomes

    async def _concurrent(self, calls: list[ToolCallPart], ctx: ToolContext) -> list[Outcome]:
        if len(calls) == 1:
            return [await self.run_one(calls[0], ctx)]
        before = dict(ctx.state)
        states = [dict(before) for _ in calls]  # each call writes its own copy...
        tasks = [asyncio.ensure_future(self.run_one(c, ctx, state))
                 for c, state in zip(calls, states)]
        try:
            outcomes = list(await asyncio.gather(*tasks))
            apply_in_order(ctx.state, before, states)  # ...applied in call order
            return outcomes
        finally:
            for task in tasks:  # cancellation of the run cancels running tools too
                if not task.done():
                    task.cancel()
            if any(not t.done() for t in tasks):
                await asyncio.gather(*tasks, return_exceptions=True)

    async def run_one(self, call: ToolCallPart, ctx: ToolContext,
                      state: dict[str, Any] | None = None) -> Outcome:
        """Run one call (with `state` instead of `ctx.state` when given)."""
        outcome = self.start_one(call, ctx, state)
        return outcome if isinstance(outcome, Outcome) else await outcome

    def start_one(self, call: ToolCallPart, ctx: ToolContext,
                  state: dict[str, Any] | None = None) -> Outcome | Awaitable[Outcome]:
        """Run one call as far as it goes without waiting: its `Outcome` when it finished
        (most tools finish without suspending, and then no coroutine is made for the
        call), else an awaitable of it. `state` replaces `ctx.state` when given."""
        start = _clock()
        name = call.name
        tool = self.tools.get(name)
        if tool is None:
            return self._fail(call, self._not_available(name), start)
        if call.raw_arguments is not None:
            return self._fail(call, (
                f"Arguments for tool {name!r} are not a JSON object: "
                f"{call.raw_arguments[:300]!r}. Call it again with a JSON object matching "
                "its schema."), start)
        try:
            kwargs = tool.validate(call.arguments)
        except ValidationError as exc:
            return self._fail(call, format_validation_error(name, exc), start)
        if tool.requires_approval:
            return self._approved(tool, call, ctx, state, kwargs, start)
        return self._started(tool, call, ctx, state, kwargs, start, None)

    async def _approved(self, tool: Tool, call: ToolCallPart, ctx: ToolContext,
                        state: dict[str, Any] | None, kwargs: dict[str, Any],
                        start: float) -> Outcome:
        """Ask the approver, then run the call if it was approved."""
        approval = await self._approve(tool, call, ctx)
        if not approval[0]:
            why = f": {approval[1]}" if approval[1] else ""
            refused = self._fail(call, f"The call to {call.name!r} was refused{why}. "
                                       "Do not retry it unchanged.", start, count=False)
            refused.approval = approval
            return refused
        outcome = self._started(tool, call, ctx, state, kwargs, start, approval)
        return outcome if isinstance(outcome, Outcome) else await outcome

    def _started(self, tool: Tool, call: ToolCallPart, ctx: ToolContext,
                 state: dict[str, Any] | None, kwargs: dict[str, Any], start: float,
                 approval: tuple[bool, str] | None) -> Outcome | Awaitable[Outcome]:
        """Start the tool and step it once by hand: no timer for a call that never waits."""
        call_ctx = ctx
        if tool.takes_ctx:  # a context of its own: tools running together differ by call id
            call_ctx = ToolContext(run_id=ctx.run_id, stage=ctx.stage, iteration=ctx.iteration,
                                   deps=ctx.deps, state=ctx.state if state is None else state,
                                   tool_call_id=call.id)
        try:
            coro = tool.start(kwargs, call_ctx)
            pending = coro.send(None)
        except StopIteration as stop:
            return self._succeeded(tool, call, stop.value, start, approval)
        except BaseException as exc:  # noqa: BLE001 - the model sees it and may correct
            return self._fail(call, self._failure(call.name, exc), start,
                              approval=approval)
        timeout = tool.timeout if tool.timeout is not None else self._default_timeout
        return self._finished(tool, call, coro, pending, timeout, start, approval)

    async def _finished(self, tool: Tool, call: ToolCallPart, coro: Any, pending: Any,
                        timeout: float | None, start: float,
                        approval: tuple[bool, str] | None) -> Outcome:
        """Drive a call that suspended to its end, within its timeout."""
        try:
            value = await finish_within(coro, pending, timeout)
        except BaseException as exc:  # noqa: BLE001 - the model sees it and may correct
            return self._fail(call, self._failure(call.name, exc), start,
                              approval=approval)
        return self._succeeded(tool, call, value, start, approval)

    def _succeeded(self, tool: Tool, call: ToolCallPart, value: Any, start: float,
                   approval: tuple[bool, str] | None) -> Outcome:
        """A returned value as the observation: text, cut to the tool's output limit."""
        name = call.name  # the name it was called by (a tool may be registered under another)
        self.failures[name] = 0
        text = value if type(value) is str else render_output(value)
        limit = tool.max_output_tokens or self._output_tokens
        truncated = False
        if len(text) > limit:  # a token is at least one character: shorter needs no count
            text, truncated = self._truncated(text, limit)
        return Outcome(tool_result(call.id, name, text, False), (_clock() - start) * 1000,
                       truncated, approval)

    def _not_available(self, name: str) -> str:
        if self._known(name):
            return (f"Tool {name!r} is not enabled in stage {self.stage!r}. "
                    f"Available tools: {self._available}.")
        return f"Unknown tool {name!r}. Available tools: {self._available}."

    @staticmethod
    def _failure(name: str, exc: BaseException) -> str:
        """What the model is told about a call that raised; re-raises what is not the
        tool's failure (a cancellation of the run, KeyboardInterrupt)."""
        if isinstance(exc, ToolError):
            return str(exc)
        if isinstance(exc, DeadlineExpired):
            return f"Tool {name!r} timed out after {exc.seconds:g} s."
        if isinstance(exc, asyncio.CancelledError) and not _run_cancelled():
            # e.g. the tool awaited a future someone else cancelled: its own failure
            return (f"Tool {name!r} raised CancelledError{_detail(exc)} (the tool's own, "
                    "not a cancellation of the run)")
        if not isinstance(exc, Exception):
            raise exc
        return f"Tool {name!r} raised {type(exc).__name__}: {exc}"

    def _truncated(self, text: str, limit: int) -> tuple[str, bool]:
        """`text` cut to `limit` tokens, with a marker saying so."""
        cut, total = self._counter.truncate(text, limit)
        if cut is text:
            return text, False
        return f"{cut}\n[... output truncated: showing {limit} of {total} tokens]", True

    async def _approve(self, tool: Tool, call: ToolCallPart, ctx: ToolContext) -> tuple[bool, str]:
        if self._approver is None:
            return False, "no approver is configured for tools that require approval"
        request = ApprovalRequest(tool=tool.name, arguments=call.arguments,
                                  tool_call_id=call.id, run_id=ctx.run_id, stage=ctx.stage)
        try:
            answer = await self._approver(request)
        except Exception as exc:  # noqa: BLE001 - a failing approver refuses
            return False, f"the approver failed ({type(exc).__name__}: {exc})"
        if isinstance(answer, tuple):
            return bool(answer[0]), str(answer[1])
        return bool(answer), ""

    def _fail(self, call: ToolCallPart, text: str, start: float, *, count: bool = True,
              approval: tuple[bool, str] | None = None) -> Outcome:
        name = call.name
        if count:
            self.failures[name] = self.failures.get(name, 0) + 1
        return Outcome(tool_result(call.id, name, text, True), (_clock() - start) * 1000,
                       False, approval)


def _run_cancelled() -> bool:
    """Whether the task running us is being cancelled (not just a CancelledError raised)."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def _detail(exc: BaseException) -> str:
    text = str(exc)
    return f": {text}" if text else ""


def apply_in_order(shared: dict[str, Any], base: dict[str, Any],
                   states: Sequence[dict[str, Any]]) -> None:
    """Apply what each copy of `base` changed to `shared`, copy after copy: a later call's
    write wins over an earlier one's, whichever finished first."""
    for state in states:
        for key, value in state.items():
            if key not in base or base[key] is not value:
                shared[key] = value
        for key in base:
            if key not in state:
                shared.pop(key, None)
