"""The model protocol: one request in, one response (or a stream of deltas) out.

Every adapter (Anthropic, OpenAI, test doubles, record/replay) implements `Model`.
`request()` returns a complete `AssistantMessage`; `stream()` yields deltas and always
ends with a `StreamComplete` carrying the fully assembled message, so consumers never
assemble tool calls themselves (and never see a half-assembled one).
"""


from abc import ABC, abstractmethod
from typing import Any, AsyncGenerator, AsyncIterator, Literal, Union

from ..messages import AssistantMessage, Message
from ..plainclass import PlainClass, default_of, field, field_names


class ToolDefinition(PlainClass, frozen=True):
    """What the model is told about a tool: name, description, JSON schema of arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}})


class ModelSettings(PlainClass, extra="forbid"):
    """Sampling and transport settings; `None` means the provider's default."""

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
    extra: dict[str, Any] = field(default_factory=dict)

    def merged(self, override: "ModelSettings | None") -> "ModelSettings":
        """These settings with every setting `override` gives (not at its default) on top;
        `extra` is merged key by key."""
        if override is None:
            return self
        update = {name: getattr(override, name) for name in field_names(ModelSettings)
                  if getattr(override, name) != default_of(ModelSettings, name)}
        if "extra" in update:
            update["extra"] = {**self.extra, **update["extra"]}
        return self.model_copy(update=update) if update else self


class OutputSchema(PlainClass, frozen=True):
    """A JSON schema the response text must satisfy (the format phase)."""

    name: str
    schema: dict[str, Any]
    description: str = ""

    @property
    def schema_(self) -> dict[str, Any]:
        """`schema`, by the name it had when this was a pydantic model (`schema` clashed)."""
        return self.schema


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


class TextDelta(PlainClass):
    kind: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(PlainClass):
    kind: Literal["thinking_delta"] = "thinking_delta"
    text: str


class ToolCallDelta(PlainClass):
    """A fragment of a tool call: `index` identifies the call within the turn."""

    kind: Literal["tool_call_delta"] = "tool_call_delta"
    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


class StreamComplete(PlainClass):
    """Always the last stream item: the whole, validated assistant message."""

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
