"""Anthropic Messages API adapter on the official async `anthropic` SDK.

Translation rules that the API enforces (a violation is a 400 at runtime, not at import):
the system prompt is a parameter, not a message; every tool_use must be answered by a
tool_result in the very next user message, so consecutive user-role messages merge into
one (tool results first); thinking blocks go back verbatim with their signature; empty
text blocks are refused and therefore never sent.

Prompt caching: `cache_control` marks the last system block and the last tool definition
- the stable prefix of a stage - so every iteration after the first reads it from cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

from ..exceptions import ModelConnectionError
from ..log import logging_enabled, run_logger
from ..messages import (
    AssistantMessage,
    AssistantPart,
    TextPart,
    ThinkingPart,
    Usage,
)
from .base import (
    ModelRequest,
    ModelSettings,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .errors import ErrorMapper
from .provider import ProviderModel, json_only_instruction, tool_call_part

DEFAULT_MAX_TOKENS = 4096
_EPHEMERAL = {"type": "ephemeral"}
_STOP_REASONS = {
    "end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence", "refusal": "refusal", "pause_turn": "end_turn",
    "model_context_window_exceeded": "max_tokens",
}


class AnthropicModel(ProviderModel):
    """Claude through the Messages API (`ANTHROPIC_API_KEY`)."""

    provider = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"
    sdk = anthropic
    client_class = anthropic.AsyncAnthropic

    def __init__(self, name: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 3, timeout: float | None = None,
                 idle_timeout: float | None = None, client: Any = None,
                 cache_prompt: bool = True, max_tokens: int = DEFAULT_MAX_TOKENS,
                 **retry: Any) -> None:
        super().__init__(name, api_key=api_key, base_url=base_url, max_retries=max_retries,
                         timeout=timeout, idle_timeout=idle_timeout, client=client, **retry)
        self.cache_prompt = cache_prompt
        self.max_tokens = max_tokens

    # --- request translation ---------------------------------------------------------

    @staticmethod
    def ignored_settings(settings: ModelSettings) -> list[str]:
        """The settings this adapter cannot send (the Messages API has no such parameter)."""
        return [k for k in ("temperature", "top_p") if getattr(settings, k) is not None]

    def build_params(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments of `messages.create` for `request` (public for tests)."""
        settings = request.settings
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": settings.max_tokens or self.max_tokens,
            "messages": to_anthropic_messages(request),
        }
        system = self._system_blocks(request)
        if system:
            params["system"] = system
        if request.tools:
            tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                     for t in request.tools]
            if self.cache_prompt:
                tools[-1]["cache_control"] = _EPHEMERAL
            params["tools"] = tools
            if request.output_schema is not None:
                # history may hold tool_use blocks, which need the definitions; forbid calls
                params["tool_choice"] = {"type": "none"}
            elif settings.tool_choice not in (None, "auto"):
                params["tool_choice"] = tool_choice(settings.tool_choice,
                                                    settings.parallel_tool_calls)
            elif settings.parallel_tool_calls is False:
                params["tool_choice"] = {"type": "auto", "disable_parallel_tool_use": True}
        ignored = self.ignored_settings(settings)
        if ignored:
            # the Messages API of anthropic 2.x has no sampling parameters; say so once
            _warn_once(f"anthropic: ModelSettings {', '.join(ignored)} ignored (the Messages "
                       f"API has no such parameter; force with settings.extra)")
        if settings.stop_sequences:
            params["stop_sequences"] = list(settings.stop_sequences)
        if settings.thinking_budget:
            params["thinking"] = {"type": "enabled", "budget_tokens": settings.thinking_budget}
        params.update(self._call_options(request))
        return params

    def _system_blocks(self, request: ModelRequest) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [
            {"type": "text", "text": m.content}
            for m in request.messages if m.role == "system" and m.content]
        if blocks and self.cache_prompt:
            blocks[-1]["cache_control"] = _EPHEMERAL
        if request.output_schema is not None:
            # after the cached block, so the stage's stable prefix stays cacheable
            blocks.append({"type": "text", "text": json_only_instruction(request.output_schema)})
        return blocks

    # --- calls -----------------------------------------------------------------------

    async def _request_once(self, request: ModelRequest) -> AssistantMessage:
        response = await self.client.messages.create(**self.build_params(request))
        return self.parsed(from_anthropic_message, response, self.name)

    async def _stream_once(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        stream = await self.client.messages.create(**self.build_params(request), stream=True)
        async for event in self._assemble(stream, _StreamAssembler(self.name)):
            yield event


# --- translation helpers -------------------------------------------------------------


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Log `message` once per process - through stageagent's logger, silent until enabled."""
    if message not in _warned and logging_enabled():
        _warned.add(message)
        run_logger().warning(message)


def _assistant_blocks(message: AssistantMessage) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if part.kind == "text":
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif part.kind == "thinking":
            if part.redacted is not None:
                blocks.append({"type": "redacted_thinking", "data": part.redacted})
            else:
                blocks.append({"type": "thinking", "thinking": part.thinking,
                               "signature": part.signature or ""})
        else:
            # non-JSON arguments cannot be sent as `input`; the error observation explains
            arguments = part.arguments if part.raw_arguments is None else {}
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name,
                           "input": arguments})
    return blocks


def tool_choice(choice: str, parallel: bool | None) -> dict[str, Any]:
    """Our `ModelSettings.tool_choice` as the Messages API's `tool_choice`."""
    if choice == "none":
        return {"type": "none"}
    body: dict[str, Any] = ({"type": "any"} if choice == "required"
                            else {"type": "tool", "name": choice})
    if parallel is False:
        body["disable_parallel_tool_use"] = True
    return body


def to_anthropic_messages(request: ModelRequest) -> list[dict[str, Any]]:
    """Neutral history -> Anthropic `messages` (system messages go to `system`)."""
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            role, blocks = "assistant", _assistant_blocks(message)
        elif message.role == "tool":
            role, blocks = "user", [
                {"type": "tool_result", "tool_use_id": r.tool_call_id,
                 "content": r.content or "(empty)", "is_error": r.is_error}
                for r in message.results]
        else:
            role = "user"
            blocks = [{"type": "text", "text": message.content}] if message.content else []
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # tool results must open the user message that answers the calls
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return turns


def _usage(usage: Any) -> Usage:
    return Usage(input_tokens=usage.input_tokens or 0, output_tokens=usage.output_tokens or 0,
                 cache_read_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
                 cache_write_tokens=getattr(usage, "cache_creation_input_tokens", None) or 0,
                 requests=1)


def _stop_reason(reason: str | None) -> str | None:
    return _STOP_REASONS.get(reason, reason) if reason else None


def from_anthropic_message(message: Any, model: str) -> AssistantMessage:
    """SDK `Message` -> neutral `AssistantMessage`; raises AttributeError/TypeError on a
    body that is not a message (mapped to MalformedResponseError by the caller)."""
    if not isinstance(message.content, list):
        raise TypeError(f"`content` is {type(message.content).__name__}, not a list")
    parts: list[AssistantPart] = []
    for block in message.content:
        if block.type == "text":
            parts.append(TextPart(text=block.text))
        elif block.type == "thinking":
            parts.append(ThinkingPart(thinking=block.thinking, signature=block.signature))
        elif block.type == "redacted_thinking":
            parts.append(ThinkingPart(redacted=block.data))
        elif block.type == "tool_use":
            parts.append(tool_call_part(block.id, block.name, block.input))
    return AssistantMessage(parts=parts, usage=_usage(message.usage),
                            stop_reason=_stop_reason(message.stop_reason),
                            model=message.model or model)


class _StreamAssembler:
    """Raw Messages stream events -> our deltas, and the final message at the end."""

    def __init__(self, model: str):
        self.model = model
        self.blocks: dict[int, dict[str, Any]] = {}
        self.tool_index: dict[int, int] = {}
        self.usage: Any = None
        self.output_tokens = 0
        self.stop_reason: str | None = None
        self.response_model: str | None = None
        self.done = False

    def feed(self, event: Any) -> list[StreamEvent]:
        kind = event.type
        if kind == "message_start":
            self.usage = event.message.usage
            self.response_model = event.message.model
        elif kind == "content_block_start":
            block = event.content_block
            self.blocks[event.index] = {"type": block.type, "block": block, "text": "",
                                        "signature": getattr(block, "signature", None)}
            if block.type == "tool_use":
                ordinal = self.tool_index[event.index] = len(self.tool_index)
                return [ToolCallDelta(index=ordinal, id=block.id, name=block.name)]
            if block.type == "text" and block.text:
                self.blocks[event.index]["text"] = block.text
                return [TextDelta(text=block.text)]
        elif kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            if event.usage is not None:
                self.output_tokens = event.usage.output_tokens or self.output_tokens
        elif kind == "message_stop":
            self.done = True
        return []

    def _delta(self, index: int, delta: Any) -> list[StreamEvent]:
        state = self.blocks[index]
        if delta.type == "text_delta":
            state["text"] += delta.text
            return [TextDelta(text=delta.text)]
        if delta.type == "thinking_delta":
            state["text"] += delta.thinking
            return [ThinkingDelta(text=delta.thinking)]
        if delta.type == "signature_delta":
            state["signature"] = (state["signature"] or "") + delta.signature
        elif delta.type == "input_json_delta":
            state["text"] += delta.partial_json
            return [ToolCallDelta(index=self.tool_index[index], arguments_delta=delta.partial_json)]
        return []

    def finish(self, errors: ErrorMapper) -> AssistantMessage:
        """The assembled message; a stream cut before `message_stop` is a lost connection
        (a half-assembled tool call is never returned)."""
        if not self.done:
            raise errors.make(ModelConnectionError, "stream ended before message_stop")
        parts: list[AssistantPart] = []
        for index in sorted(self.blocks):
            state = self.blocks[index]
            block = state["block"]
            if state["type"] == "text":
                parts.append(TextPart(text=state["text"]))
            elif state["type"] == "thinking":
                parts.append(ThinkingPart(thinking=state["text"], signature=state["signature"]))
            elif state["type"] == "redacted_thinking":
                parts.append(ThinkingPart(redacted=block.data))
            elif state["type"] == "tool_use":
                parts.append(tool_call_part(block.id, block.name, state["text"]))
        usage = _usage(self.usage) if self.usage is not None else Usage(requests=1)
        usage = usage.model_copy(update={"output_tokens": self.output_tokens or usage.output_tokens})
        return AssistantMessage(parts=parts, usage=usage, stop_reason=_stop_reason(self.stop_reason),
                                model=self.response_model or self.model)
