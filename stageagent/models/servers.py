"""What an OpenAI-compatible server can do: capability flags per server kind.

OpenAI's own API accepts every request shape the adapter builds. Local servers do not, and
they refuse differently (llama-cpp-python answers HTTP 500 where OpenAI would say 400). So
instead of string checks scattered through the adapter, each server kind is one
`ServerCapabilities` value, and the adapter asks it how to send constrained output, a
forced tool call and an assistant turn without text. The figures behind the built-in
profiles are in the project's local-model notes (measured, not assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..exceptions import UnknownModelError

#: how the server takes a JSON schema for the reply
JsonMode = Literal["json_schema", "json_object_schema", "json_object"]


@dataclass(frozen=True)
class ServerCapabilities:
    """The request shapes one kind of server accepts.

    * `json_mode`: `json_schema` (OpenAI's `response_format`), `json_object_schema`
      (llama-cpp-python's non-standard `{"type": "json_object", "schema": ...}`,
      grammar-constrained), or `json_object` (JSON without a schema: the schema goes in
      the system prompt and only the runtime's validation holds the model to it).
    * `schema_with_tools`: the schema still holds while tools are offered (with
      `tool_choice: "none"`); where it does not, the format turn sends no tools.
    * `strict_json_strings`: constrained JSON never has raw control characters inside
      strings. llama-cpp-python's grammar lets raw newlines through, which strict JSON
      (and pydantic) refuse; where this is False the adapter escapes them.
    * `tool_choice_required`: `tool_choice="required"` works; without it a forced call
      becomes a named `tool_choice` when exactly one tool is offered.
    * `named_tool_choice`: `tool_choice={"type": "function", ...}` is enforced.
    * `null_content`: an assistant message with tool calls may carry `content: null`.
    * `parallel_tool_calls`: the `parallel_tool_calls` flag is accepted.
    * `stream_usage`: `stream_options.include_usage` sends a usage chunk.
    * `max_tokens_field`: which name the server reads for the output limit.
    """

    name: str
    json_mode: JsonMode = "json_schema"
    schema_with_tools: bool = True
    strict_json_strings: bool = True
    tool_choice_required: bool = True
    named_tool_choice: bool = True
    null_content: bool = True
    parallel_tool_calls: bool = True
    stream_usage: bool = True
    max_tokens_field: str = "max_tokens"

    def without(self, **flags: bool | str) -> "ServerCapabilities":
        """A copy with some flags switched off (what a server's refusal taught us)."""
        return replace(self, **flags)  # type: ignore[arg-type]


OPENAI = ServerCapabilities("openai", max_tokens_field="max_completion_tokens")
#: vLLM, SGLang, LM Studio and other servers that follow the API closely
GENERIC = ServerCapabilities("generic")
#: llama-cpp-python's server with `--chat_format chatml-function-calling`
LLAMA_CPP_PYTHON = ServerCapabilities(
    "llama-cpp-python", json_mode="json_object_schema", schema_with_tools=False,
    strict_json_strings=False,    tool_choice_required=False,
    null_content=False, parallel_tool_calls=False, stream_usage=False)
#: llama.cpp's own `llama-server` (and xllamacpp, which embeds it)
LLAMA_CPP = ServerCapabilities("llama.cpp", tool_choice_required=False, named_tool_choice=False)
#: Ollama's OpenAI-compatible endpoint
OLLAMA = ServerCapabilities("ollama", tool_choice_required=False, named_tool_choice=False,
                            parallel_tool_calls=False)

SERVER_KINDS: dict[str, ServerCapabilities] = {
    c.name: c for c in (OPENAI, GENERIC, LLAMA_CPP_PYTHON, LLAMA_CPP, OLLAMA)}
SERVER_KINDS["vllm"] = replace(GENERIC, name="vllm")
SERVER_KINDS["xllamacpp"] = replace(LLAMA_CPP, name="xllamacpp")


def server_capabilities(kind: str | ServerCapabilities | None,
                        base_url: str | None) -> ServerCapabilities:
    """The profile for `kind`; with none given, OpenAI's for the hosted API and the
    generic one for any other `base_url`."""
    if isinstance(kind, ServerCapabilities):
        return kind
    if kind is None:
        return GENERIC if base_url else OPENAI
    try:
        return SERVER_KINDS[kind]
    except KeyError:
        raise UnknownModelError(
            f"unknown server kind {kind!r} (known: {', '.join(sorted(SERVER_KINDS))})"
        ) from None
