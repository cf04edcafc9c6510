"""The model protocol: one request in, one response (or a stream of deltas) out.

Every adapter (Anthropic, OpenAI, test doubles, record/replay) implements `Model`.
`request()` returns a complete `AssistantMessage`; `stream()` yields deltas and always
ends with a `StreamComplete` carrying the fully assembled message, so consumers never
assemble tool calls themselves (and never see a half-assembled one).
"""


from abc import ABC, abstractmethod
from typing import Any, AsyncGenerator, AsyncIterator, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ..messages import AssistantMessage, Message
from ..plainclass import PlainClass, field

#: schemas are built on first use, not at import: `import stageagent` builds none
_DEFERRED = ConfigDict(defer_build=True)


class ToolDefinition(BaseModel):
    """What the model is told about a tool: name, description, JSON schema of arguments."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ModelSettings(BaseModel):
    """Sampling and transport settings; `None` means the provider's default."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = None
    #: seconds for one model call (the adapter's own HTTP timeout)
    timeout: float | None = None
    #: Anthropic extended thinking budget (tokens); None disables thinking.
    thinking_budget: int | None = None
    parallel_tool_calls: bool | None = None
    #: which tool the model must call while tools are offered: "auto" (its choice, the
    #: default), "required" (some tool), "none", or a tool's name (that tool). Adapters
    #: map it to what their server supports (a named choice where "required" is refused).
    tool_choice: str | None = None
    #: provider-specific extra body fields, passed through untouched
    extra: dict[str, Any] = Field(default_factory=dict)

    def merged(self, override: "ModelSettings | None") -> "ModelSettings":
        if override is None:
            return self
        data = self.model_dump(exclude_unset=True)
        data.update(override.model_dump(exclude_unset=True))
        return ModelSettings(**data)


class OutputSchema(BaseModel):
    """A JSON schema the response text must satisfy (the format phase)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    description: str = ""


class ModelRequest(PlainClass):
    """Everything a model call needs. Built by the runtime (`model_request`, every turn),
    read by adapters."""

    messages: list[Message]
    tools: list[ToolDefinition] = field(default_factory=list)
    settings: ModelSettings = field(default_factory=ModelSettings)
    output_schema: OutputSchema | None = None


def model_request(messages: list[Any], tools: list[ToolDefinition], settings: ModelSettings,
                  output_schema: OutputSchema | None = None) -> ModelRequest:
    """A request from the runtime's own values (no validation)."""
    r = _new(ModelRequest)
    r.messages = messages
    r.tools = tools
    r.settings = settings
    r.output_schema = output_schema
    return r


_new = object.__new__


# --- streaming -----------------------------------------------------------------------


class TextDelta(BaseModel):
    model_config = _DEFERRED

    kind: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(BaseModel):
    model_config = _DEFERRED

    kind: Literal["thinking_delta"] = "thinking_delta"
    text: str


class ToolCallDelta(BaseModel):
    """A fragment of a tool call: `index` identifies the call within the turn."""

    model_config = _DEFERRED

    kind: Literal["tool_call_delta"] = "tool_call_delta"
    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


class StreamComplete(BaseModel):
    """Always the last stream item: the whole, validated assistant message."""

    model_config = _DEFERRED

    kind: Literal["complete"] = "complete"
    message: AssistantMessage


StreamEvent = Union[TextDelta, ThinkingDelta, ToolCallDelta, StreamComplete]


class Model(ABC):
    """A chat model. Subclasses implement `request` and may override `stream`."""

    #: provider name, e.g. "anthropic", "openai", "scripted"
    provider: str = "unknown"

    @property
    @abstractmethod
    def name(self) -> str:
        """The model id, e.g. `claude-sonnet-4-6` (used for pricing and token encoding)."""

    @abstractmethod
    async def request(self, request: ModelRequest) -> AssistantMessage:
        """One complete response."""

    async def stream(self, request: ModelRequest) -> AsyncGenerator[StreamEvent, None]:
        """Deltas, then `StreamComplete`. Default: one request, replayed as deltas."""
        message = await self.request(request)
        for index, part in enumerate(message.parts):
            if part.kind == "text":
                yield TextDelta(text=part.text)
            elif part.kind == "thinking":
                yield ThinkingDelta(text=part.thinking)
            else:
                yield ToolCallDelta(index=index, id=part.id, name=part.name)
        yield StreamComplete(message=message)

    async def aclose(self) -> None:
        """Release network resources (HTTP clients). Idempotent."""

    async def __aenter__(self) -> "Model":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider}:{self.name})"
