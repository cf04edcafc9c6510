"""OpenAI Chat Completions adapter on the official async `openai` SDK.

Also the adapter for OpenAI-compatible servers (vLLM, llama.cpp server, Ollama) given a
`base_url`. Such servers often lack a feature; the adapter degrades instead of failing:
without `json_schema` it asks for `json_object` and puts the schema in the system prompt
(the runtime validates the text either way), without `parallel_tool_calls` it stops
sending the flag. Both are detected from the server's 400 and remembered per instance.

Wire rules the API enforces: `content` is null on tool-call messages, arguments are a JSON
*string*, each tool result is its own `tool` message, `stream_options` only with `stream`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import openai

from ..exceptions import ModelBadRequestError, ModelConnectionError
from ..messages import AssistantMessage, AssistantPart, TextPart, ThinkingPart, Usage
from .base import (
    ModelRequest,
    OutputSchema,
    StreamComplete,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .errors import ErrorMapper
from .provider import (
    ProviderModel,
    json_only_instruction,
    tool_arguments_text,
    tool_call_part,
)
from .servers import ServerCapabilities, server_capabilities

_FINISH_REASONS = {
    "stop": "end_turn", "tool_calls": "tool_use", "function_call": "tool_use",
    "length": "max_tokens", "content_filter": "content_filter",
}


class OpenAIModel(ProviderModel):
    """GPT models, or any OpenAI-compatible server via `base_url` (key optional there).

    `server` names the kind of server (`"llama-cpp-python"`, `"vllm"`, `"ollama"`, ... see
    `stageagent.models.servers`) or passes its `ServerCapabilities`; the adapter then
    builds only request shapes that server accepts.
    """

    provider = "openai"
    api_key_env = "OPENAI_API_KEY"
    sdk = openai
    client_class = openai.AsyncOpenAI

    def __init__(self, name: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 3, timeout: float | None = None,
                 idle_timeout: float | None = None, client: Any = None,
                 server: str | ServerCapabilities | None = None,
                 max_output_tokens: int | None = None,
                 supports_json_schema: bool = True, supports_parallel_tool_calls: bool = True,
                 **retry: Any) -> None:
        super().__init__(name, api_key=api_key, base_url=base_url, max_retries=max_retries,
                         timeout=timeout, idle_timeout=idle_timeout, client=client,
                         key_required=base_url is None, **retry)
        caps = server_capabilities(server, base_url)
        if not supports_json_schema and caps.json_mode == "json_schema":
            caps = caps.without(json_mode="json_object")
        if not supports_parallel_tool_calls:
            caps = caps.without(parallel_tool_calls=False)
        self.capabilities = caps
        #: a ceiling on every answer's length (small local models ramble to the limit)
        self.max_output_tokens = max_output_tokens

    @property
    def supports_json_schema(self) -> bool:
        return self.capabilities.json_mode == "json_schema"

    @property
    def supports_parallel_tool_calls(self) -> bool:
        return self.capabilities.parallel_tool_calls

    # --- request translation ---------------------------------------------------------

    def build_params(self, request: ModelRequest, *, stream: bool = False) -> dict[str, Any]:
        """The keyword arguments of `chat.completions.create` (public for tests)."""
        settings = request.settings
        caps = self.capabilities
        messages = to_openai_messages(request, null_content=caps.null_content)
        params: dict[str, Any] = {"model": self.name, "messages": messages}
        if request.output_schema is not None:
            params["response_format"] = response_format(request.output_schema, caps, messages)
        if request.tools and (request.output_schema is None or caps.schema_with_tools):
            params["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description,
                                                  "parameters": t.parameters}}
                for t in request.tools]
            if request.output_schema is not None:
                params["tool_choice"] = "none"
            else:
                choice = tool_choice(settings.tool_choice, [t.name for t in request.tools], caps)
                if choice is not None:
                    params["tool_choice"] = choice
                if settings.parallel_tool_calls is not None and caps.parallel_tool_calls:
                    params["parallel_tool_calls"] = settings.parallel_tool_calls
        limit = settings.max_tokens
        if self.max_output_tokens is not None:
            limit = min(limit or self.max_output_tokens, self.max_output_tokens)
        if limit is not None:
            params[caps.max_tokens_field] = limit
        if settings.temperature is not None:
            params["temperature"] = settings.temperature
        if settings.top_p is not None:
            params["top_p"] = settings.top_p
        if settings.stop_sequences:
            params["stop"] = list(settings.stop_sequences)
        if stream:
            params["stream"] = True
            if caps.stream_usage:
                params["stream_options"] = {"include_usage": True}
        params.update(self._call_options(request))
        return params

    def _fall_back(self, exc: Exception) -> bool:
        """Switch off a feature the server just refused; True when a retry may succeed."""
        if not isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
            return False
        text = str(exc).lower()
        caps = self.capabilities
        if caps.json_mode == "json_schema" and ("json_schema" in text or "response_format" in text):
            self.capabilities = caps.without(json_mode="json_object")
            return True
        if caps.parallel_tool_calls and "parallel_tool_calls" in text:
            self.capabilities = caps.without(parallel_tool_calls=False)
            return True
        return False

    async def _create(self, request: ModelRequest, *, stream: bool) -> Any:
        while True:
            try:
                return await self.client.chat.completions.create(
                    **self.build_params(request, stream=stream))
            except Exception as exc:
                if not self._fall_back(exc):
                    raise

    # --- calls -----------------------------------------------------------------------

    async def _request_once(self, request: ModelRequest) -> AssistantMessage:
        response = await self._create(request, stream=False)
        return self._clean(request, self.parsed(from_openai_completion, response, self.name))

    async def _stream_once(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        stream = await self._create(request, stream=True)
        async for event in self._assemble(stream, _StreamAssembler(self.name)):
            if isinstance(event, StreamComplete):
                event = StreamComplete(message=self._clean(request, event.message))
            yield event

    def _clean(self, request: ModelRequest, message: AssistantMessage) -> AssistantMessage:
        """Constrained JSON from a server whose grammar lets raw control characters into
        strings, escaped so that strict JSON parsers read what the model meant."""
        if request.output_schema is None or self.capabilities.strict_json_strings:
            return message
        text = message.text
        fixed = escape_control_characters(text)
        if fixed == text:
            return message
        return message.model_copy(update={"parts": [TextPart(text=fixed)] + [
            p for p in message.parts if not isinstance(p, TextPart)]})


# --- translation helpers -------------------------------------------------------------


def strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts `schema`: every object closed
    (`additionalProperties: false`) with all its properties required."""
    if isinstance(schema, list):
        return all(strict_compatible(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required", [])) != set(properties):
            return False
    return all(strict_compatible(value) for value in schema.values())


def response_format(schema: OutputSchema, caps: ServerCapabilities,
                    messages: list[dict[str, Any]]) -> dict[str, Any]:
    """`response_format` for the server's JSON mode; where the server cannot hold the
    model to the schema itself, the schema goes into the system prompt too."""
    if caps.json_mode == "json_schema":
        return json_schema_format(schema)
    _prepend_system(messages, json_only_instruction(schema))
    if caps.json_mode == "json_object_schema":
        return {"type": "json_object", "schema": schema.schema_}
    return {"type": "json_object"}


def tool_choice(choice: str | None, tools: list[str],
                caps: ServerCapabilities) -> str | dict[str, Any] | None:
    """Our `ModelSettings.tool_choice` as this server takes it (None: send nothing).

    A server that refuses `"required"` still enforces a named choice: with one tool on
    offer that is the same thing. With several, the choice is left to the model."""
    if choice is None or choice == "auto":
        return None
    if choice == "none":
        return "none"
    if choice == "required":
        if caps.tool_choice_required:
            return "required"
        choice = tools[0] if len(tools) == 1 else ""
        if not choice:
            return None
    if choice not in tools:
        raise ModelBadRequestError(
            f"tool_choice {choice!r} names no tool offered in this request "
            f"(tools: {', '.join(tools) or 'none'})")
    if not caps.named_tool_choice:
        return None
    return {"type": "function", "function": {"name": choice}}


def escape_control_characters(text: str) -> str:
    """`text` re-serialised when it is JSON only to a lenient parser (raw newlines or
    tabs inside strings); anything else is returned unchanged."""
    try:
        json.loads(text)
        return text
    except ValueError:
        pass
    try:
        value = json.loads(text, strict=False)
    except ValueError:
        return text
    return json.dumps(value, ensure_ascii=False)


def json_schema_format(schema: OutputSchema) -> dict[str, Any]:
    body: dict[str, Any] = {"name": schema.name, "schema": schema.schema_,
                            "strict": strict_compatible(schema.schema_)}
    if schema.description:
        body["description"] = schema.description
    return {"type": "json_schema", "json_schema": body}


def _prepend_system(messages: list[dict[str, Any]], text: str) -> None:
    """Add `text` to the first system message (some servers' chat templates refuse a
    system message anywhere but first)."""
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = f"{messages[0]['content']}\n\n{text}"
    else:
        messages.insert(0, {"role": "system", "content": text})


def _assistant_message(message: AssistantMessage, null_content: bool) -> dict[str, Any]:
    calls = [{"id": p.id, "type": "function",
              "function": {"name": p.name, "arguments": tool_arguments_text(p)}}
             for p in message.tool_calls]
    text = message.text
    empty = None if calls and null_content else ""
    result: dict[str, Any] = {"role": "assistant", "content": text or empty}
    if calls:
        result["tool_calls"] = calls
    return result


def to_openai_messages(request: ModelRequest, *, null_content: bool = True
                       ) -> list[dict[str, Any]]:
    """Neutral history -> Chat Completions `messages` (thinking parts are not sent).
    `null_content=False` sends `""` for a tool-call turn without text (llama-cpp-python
    answers 500 to the API's own `null`)."""
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "assistant":
            messages.append(_assistant_message(message, null_content))
        elif message.role == "tool":
            messages.extend({"role": "tool", "tool_call_id": r.tool_call_id, "content": r.content}
                            for r in message.results)
        else:
            messages.append({"role": message.role, "content": message.content})
    return messages


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage(requests=1)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", None) or 0) if details is not None else 0
    # neutral `input_tokens` are the uncached ones, as Anthropic reports them
    return Usage(input_tokens=(usage.prompt_tokens or 0) - cached,
                 output_tokens=usage.completion_tokens or 0, cache_read_tokens=cached,
                 requests=1)


def _call_id(id: str | None) -> str:
    """Some compatible servers send no tool-call id; the history needs one to pair results."""
    return id or f"call_{uuid.uuid4().hex[:16]}"


def _reasoning(message: Any) -> str | None:
    """vLLM/llama.cpp/Ollama put reasoning in a non-standard `reasoning_content` field."""
    return getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)


def from_openai_completion(response: Any, model: str) -> AssistantMessage:
    """SDK `ChatCompletion` -> neutral message; raises on a body of the wrong shape."""
    if not response.choices:
        raise ValueError("response has no choices")
    choice = response.choices[0]
    message = choice.message
    parts: list[AssistantPart] = []
    reasoning = _reasoning(message)
    if isinstance(reasoning, str) and reasoning:
        parts.append(ThinkingPart(thinking=reasoning))
    if message.content:
        parts.append(TextPart(text=message.content))
    refusal = getattr(message, "refusal", None)
    if refusal:
        parts.append(TextPart(text=refusal))
    for call in message.tool_calls or []:
        parts.append(tool_call_part(_call_id(call.id), call.function.name,
                                    call.function.arguments))
    stop = "refusal" if refusal else _FINISH_REASONS.get(choice.finish_reason, choice.finish_reason)
    return AssistantMessage(parts=parts, usage=_usage(response.usage), stop_reason=stop,
                            model=response.model or model)


class _StreamAssembler:
    """Chat completion chunks -> our deltas; tool-call fragments joined by index."""

    def __init__(self, model: str):
        self.model = model
        self.text = ""
        self.reasoning = ""
        self.refusal = ""
        self.calls: dict[int, dict[str, str]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.response_model: str | None = None
        self.done = False  # the SDK ends the iteration at `[DONE]` itself

    def feed(self, chunk: Any) -> list[StreamEvent]:
        self.response_model = self.response_model or chunk.model
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        if not chunk.choices:
            return []
        choice = chunk.choices[0]
        self.finish_reason = choice.finish_reason or self.finish_reason
        delta = choice.delta
        if delta is None:
            return []
        out: list[StreamEvent] = []
        reasoning = _reasoning(delta)
        if isinstance(reasoning, str) and reasoning:
            self.reasoning += reasoning
            out.append(ThinkingDelta(text=reasoning))
        if delta.content:
            self.text += delta.content
            out.append(TextDelta(text=delta.content))
        if getattr(delta, "refusal", None):
            self.refusal += delta.refusal
            out.append(TextDelta(text=delta.refusal))
        for position, fragment in enumerate(delta.tool_calls or []):
            index = fragment.index if fragment.index is not None else position
            function = fragment.function
            name = function.name if function is not None else None
            arguments = (function.arguments if function is not None else None) or ""
            call = self.calls.get(index)
            if call is None:
                call = self.calls[index] = {"id": _call_id(fragment.id), "name": name or "",
                                            "arguments": ""}
                out.append(ToolCallDelta(index=index, id=call["id"], name=name,
                                         arguments_delta=arguments))
            elif arguments:
                out.append(ToolCallDelta(index=index, arguments_delta=arguments))
            call["arguments"] += arguments
        return out

    def finish(self, errors: ErrorMapper) -> AssistantMessage:
        """The assembled message; no finish_reason means the stream was cut short."""
        if self.finish_reason is None:
            raise errors.make(ModelConnectionError, "stream ended before a finish_reason")
        parts: list[AssistantPart] = []
        if self.reasoning:
            parts.append(ThinkingPart(thinking=self.reasoning))
        if self.text:
            parts.append(TextPart(text=self.text))
        if self.refusal:
            parts.append(TextPart(text=self.refusal))
        for index in sorted(self.calls):
            call = self.calls[index]
            parts.append(tool_call_part(call["id"], call["name"], call["arguments"]))
        stop = "refusal" if self.refusal else _FINISH_REASONS.get(self.finish_reason,
                                                                   self.finish_reason)
        return AssistantMessage(parts=parts, usage=_usage(self.usage), stop_reason=stop,
                                model=self.response_model or self.model)
