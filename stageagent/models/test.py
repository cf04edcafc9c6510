"""Deterministic public test doubles: `ScriptedModel` and `FunctionModel`.

They are real `Model`s (requests, streams, usage), so tests exercise the runtime exactly as
production does. Every test in the project fakes the model with these or talks to a real
SDK over the wire; nothing else stands in for a model.
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any, Awaitable, Callable, Iterable, Union

from ..exceptions import ScriptError
from ..messages import (AssistantMessage, TextPart, ThinkingPart, ToolCallPart, assistant_message,
                        text_part, tool_call_part, usage_of)
from .base import Model, ModelRequest

_ids = itertools.count(1)
#: built without validation, so importing the test doubles builds no schema
_ONE_REQUEST = usage_of(0, 0, 0, 0, 1)


def call(name: str, arguments: dict[str, Any] | None = None, *, id: str | None = None,
         raw_arguments: str | None = None) -> ToolCallPart:
    """A scripted tool call. `raw_arguments` simulates a model that sent non-JSON."""
    if type(name) is str and (arguments is None or type(arguments) is dict) \
            and (id is None or type(id) is str) and raw_arguments is None:
        # already the right types: nothing for validation to check (scripts build many)
        return tool_call_part(id or f"call_{next(_ids)}", name, dict(arguments or ()))
    return ToolCallPart(id=id or f"call_{next(_ids)}", name=name, arguments=arguments or {},
                        raw_arguments=raw_arguments)


Turn = Union[str, ToolCallPart, list[Union[str, ToolCallPart]], AssistantMessage]


def to_message(turn: Turn, model_name: str) -> AssistantMessage:
    """Normalise a scripted turn: text, a call, a list of both, or a full message."""
    kind = type(turn)
    if kind is AssistantMessage:
        return turn  # type: ignore[return-value]
    if kind is ToolCallPart:
        parts: list[Any] = [turn]
        stop = "tool_use"
    elif kind is str:
        parts = [text_part(turn)]  # type: ignore[arg-type]
        stop = "end_turn"
    else:
        if isinstance(turn, AssistantMessage):
            return turn
        items = turn if isinstance(turn, list) else [turn]
        parts = [text_part(i) if isinstance(i, str) else i for i in items]
        for part in parts:
            if not isinstance(part, (TextPart, ThinkingPart, ToolCallPart)):
                raise ScriptError(
                    f"a scripted turn must be text, a call(...), a list of them or an "
                    f"AssistantMessage, not {type(part).__name__}: {part!r:.80}")
        stop = "tool_use" if any(p.kind == "tool_call" for p in parts) else "end_turn"
    return assistant_message(parts, _ONE_REQUEST, stop, model_name)


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

    async def __aexit__(self, *exc: object) -> None:
        if not exc or exc[0] is None:
            self.assert_used_up()


_TURN_TYPES = (str, ToolCallPart, list, AssistantMessage)

ModelFunction = Callable[[ModelRequest], Union[Turn, Awaitable[Turn]]]


class FunctionModel(Model):
    """Answers each request by calling a function of the request (sync or async)."""

    provider = "function"

    def __init__(self, function: ModelFunction, *, name: str = "function"):
        self._function = function
        self._name = name
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    async def request(self, request: ModelRequest) -> AssistantMessage:
        self.calls += 1
        result = self._function(request)
        if type(result) is AssistantMessage:  # a whole turn: nothing to normalise
            return result
        # an async function's coroutine is not a turn: awaiting it covers both kinds
        if not isinstance(result, _TURN_TYPES) and inspect.isawaitable(result):
            result = await result
        return to_message(result, self._name)
