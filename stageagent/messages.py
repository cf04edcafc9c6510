"""Provider-neutral conversation messages.

Providers translate to and from these models; nothing else in stageagent sees SDK
objects. Messages are small pydantic models discriminated by `role`; an assistant turn is
a list of parts discriminated by `kind`.

One `ToolReturnMessage` carries every result of one assistant turn, so a tool call can
never be separated from its result (the Anthropic API needs them in one user message;
the OpenAI adapter fans them out to one `tool` message each).
"""


from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from .construct import constructible
from .jsontext import dumps


#: schemas are built on first use, not at import: `import stageagent` builds none
_DEFERRED = ConfigDict(defer_build=True)


@constructible
class Usage(BaseModel):
    """Token usage of one model call (or a sum of them)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    #: True when the counts are our tiktoken estimate, not the provider's report.
    estimated: bool = False

    def __add__(self, other: "Usage") -> "Usage":
        from .construct import construct

        return construct(Usage, {
            "input_tokens": self.input_tokens + other.input_tokens,
            "output_tokens": self.output_tokens + other.output_tokens,
            "cache_read_tokens": self.cache_read_tokens + other.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens + other.cache_write_tokens,
            "requests": self.requests + other.requests,
            "estimated": self.estimated or other.estimated,
        })

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


# --- assistant parts -----------------------------------------------------------------


@constructible
class TextPart(BaseModel):
    """Model-written text (a thought, or the final answer when no tool is called)."""

    model_config = _DEFERRED

    kind: Literal["text"] = "text"
    text: str


class ThinkingPart(BaseModel):
    """Extended-thinking block; kept in history verbatim (with its signature) because
    Anthropic requires it back unchanged on the next turn of a tool loop."""

    model_config = _DEFERRED

    kind: Literal["thinking"] = "thinking"
    thinking: str = ""
    signature: str | None = None
    #: opaque payload of a redacted thinking block
    redacted: str | None = None


@constructible
class ToolCallPart(BaseModel):
    """A request by the model to call a tool."""

    model_config = _DEFERRED

    kind: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    #: The arguments exactly as the model sent them when they were not a JSON object;
    #: the runtime turns this into an error observation instead of calling the tool.
    raw_arguments: str | None = None


AssistantPart = Annotated[Union[TextPart, ThinkingPart, ToolCallPart], Field(discriminator="kind")]


# --- messages ------------------------------------------------------------------------


@constructible
class SystemMessage(BaseModel):
    model_config = _DEFERRED

    role: Literal["system"] = "system"
    content: str


@constructible
class UserMessage(BaseModel):
    model_config = _DEFERRED

    role: Literal["user"] = "user"
    content: str


@constructible
class AssistantMessage(BaseModel):
    """One model turn: text, thinking and tool calls, with usage and stop reason."""

    model_config = _DEFERRED

    role: Literal["assistant"] = "assistant"
    parts: list[AssistantPart] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    #: normalised: "end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", ...
    stop_reason: str | None = None
    model: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if p.kind == "text")

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if p.kind == "tool_call"]


@constructible
class ToolResult(BaseModel):
    """The observation for one tool call: its (possibly truncated) content, ok or error."""

    model_config = _DEFERRED

    tool_call_id: str
    name: str
    content: str
    is_error: bool = False


@constructible
class ToolReturnMessage(BaseModel):
    """All results answering one assistant turn's tool calls, in call order."""

    model_config = _DEFERRED

    role: Literal["tool"] = "tool"
    results: list[ToolResult]


Message = Annotated[
    Union[SystemMessage, UserMessage, AssistantMessage, ToolReturnMessage],
    Field(discriminator="role"),
]

#: Validates/serialises a list of messages (e.g. a saved notebook history). Built on first
#: use (`defer_build`), like every model here: `import stageagent` builds no schema.
MessagesAdapter: TypeAdapter[list[Message]] = TypeAdapter(
    list[Message], config=ConfigDict(defer_build=True))


def message_text(message: BaseModel) -> str:
    """The text a message contributes to the context, for token counting."""
    role = message.role  # type: ignore[attr-defined]
    if role == "assistant":
        return parts_text(message.parts)  # type: ignore[attr-defined]
    if role == "tool":
        results = message.results  # type: ignore[attr-defined]
        if len(results) == 1:
            return results[0].content
        return "\n".join([r.content for r in results])
    return message.content  # type: ignore[attr-defined]


def parts_text(parts: list[Any]) -> str:
    """The text an assistant turn's parts contribute to the context (`message_text`)."""
    if len(parts) == 1:
        return _part_text(parts[0])
    return "\n".join([_part_text(part) for part in parts])


def _part_text(part: Any) -> str:
    kind = part.kind
    if kind == "text":
        return part.text
    if kind == "thinking":
        return part.thinking
    arguments = part.raw_arguments
    if arguments is None:
        arguments = dumps(part.arguments)
    return f"{part.name}\n{arguments}"
