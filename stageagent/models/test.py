"""Deterministic public test doubles: `ScriptedModel` and `FunctionModel`.

They are real `Model`s (requests, streams, usage), so tests exercise the runtime exactly as
production does. Every test in the project fakes the model with these or talks to a real
SDK over the wire; nothing else stands in for a model.
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any, Awaitable, Callable, Iterable, Union

from ..construct import construct
from ..exceptions import ScriptError
from ..messages import AssistantMessage, TextPart, ToolCallPart, Usage
from .base import Model, ModelRequest

_ids = itertools.count(1)
_ONE_REQUEST = Usage(requests=1)


def call(name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None,
         raw_arguments: str | None = None) -> ToolCallPart:
    """A scripted tool call. `raw_arguments` simulates a model that sent non-JSON."""
    return ToolCallPart(id=id or f"call_{next(_ids)}", name=name, arguments=arguments or {},
                        raw_arguments=raw_arguments)


Turn = Union[str, ToolCallPart, list[Union[str, ToolCallPart]], AssistantMessage]


def to_message(turn: Turn, model_name: str) -> AssistantMessage:
    """Normalise a scripted turn: text, a call, a list of both, or a full message."""
    if isinstance(turn, AssistantMessage):
        return turn
    items = turn if isinstance(turn, list) else [turn]
    parts: list[Any] = [construct(TextPart, {"text": i}) if isinstance(i, str) else i
                        for i in items]
    has_calls = any(p.kind == "tool_call" for p in parts)
    return construct(AssistantMessage, {
        "parts": parts, "stop_reason": "tool_use" if has_calls else "end_turn",
        "model": model_name, "usage": _ONE_REQUEST})


class ScriptedModel(Model):
    """Plays a fixed list of turns, one per request; errors if asked for more.

    Use `assert_used_up()` (or `async with`) to check every scripted turn was consumed:
    a test whose agent stopped early fails instead of passing silently.
    An item may also be an exception instance, which the request raises.
    """

    provider = "scripted"

    def __init__(self, turns: Iterable[Turn | BaseException], *, name: str = "scripted"):
        self._turns = list(turns)
        self._name = name
        self.requests: list[ModelRequest] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def remaining(self) -> int:
        return len(self._turns) - len(self.requests)

    async def request(self, request: ModelRequest) -> AssistantMessage:
        index = len(self.requests)
        self.requests.append(request)
        if index >= len(self._turns):
            raise ScriptError(f"ScriptedModel {self._name!r} has only {len(self._turns)} "
                              f"turns but was asked for turn {index + 1}")
        turn = self._turns[index]
        if isinstance(turn, BaseException):
            raise turn
        return to_message(turn, self._name)

    def assert_used_up(self) -> None:
        if self.remaining > 0:
            raise ScriptError(f"ScriptedModel {self._name!r}: {self.remaining} of "
                              f"{len(self._turns)} scripted turns were never requested")

    async def __aexit__(self, exc_type: Any, *rest: object) -> None:
        if exc_type is None:
            self.assert_used_up()


ModelFunction = Callable[[ModelRequest], Union[Turn, Awaitable[Turn]]]


class FunctionModel(Model):
    """Answers each request by calling a function of the request (sync or async)."""

    provider = "function"

    def __init__(self, function: ModelFunction, *, name: str = "function"):
        self._function = function
        self._is_async = inspect.iscoroutinefunction(function)
        self._name = name
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    async def request(self, request: ModelRequest) -> AssistantMessage:
        self.calls += 1
        result = self._function(request)
        if self._is_async or inspect.isawaitable(result):
            result = await result  # type: ignore[misc]
        return to_message(result, self._name)  # type: ignore[arg-type]
