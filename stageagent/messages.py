"""Provider-neutral conversation messages.

Providers translate to and from these classes; nothing else in stageagent sees SDK
objects. Messages are small plain classes (`stageagent.plainclass`: slotted, validated and
serialised by pydantic at the boundaries) discriminated by `role`; an assistant turn is a
list of parts discriminated by `kind`. The runtime builds the ones of every turn from
values it trusts with the builders at the end of this module (attribute stores, no
validation); everything from outside - a provider's response, a saved history - is
validated.

One `ToolReturnMessage` carries every result of one assistant turn, so a tool call can
never be separated from its result (the Anthropic API needs them in one user message;
the OpenAI adapter fans them out to one `tool` message each).
"""


from typing import TYPE_CHECKING, Annotated, Any, Literal, Union


from .jsontext import dumps
from .plainclass import PlainClass, Tagged, adapter_for, field

_new = object.__new__


class Usage(PlainClass):
    """Token usage of one model call (or a sum of them)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    #: True when the counts are our tiktoken estimate, not the provider's report.
    estimated: bool = False

    def __add__(self, other: "Usage") -> "Usage":
        return usage_of(self.input_tokens + other.input_tokens,
                        self.output_tokens + other.output_tokens,
                        self.cache_read_tokens + other.cache_read_tokens,
                        self.cache_write_tokens + other.cache_write_tokens,
                        self.requests + other.requests,
                        self.estimated or other.estimated)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def usage_of(input_tokens: int, output_tokens: int, cache_read_tokens: int = 0,
             cache_write_tokens: int = 0, requests: int = 1, estimated: bool = False) -> Usage:
    """A `Usage` from the runtime's own counts (no validation)."""
    u = _new(Usage)
    u.input_tokens = input_tokens
    u.output_tokens = output_tokens
    u.cache_read_tokens = cache_read_tokens
    u.cache_write_tokens = cache_write_tokens
    u.requests = requests
    u.estimated = estimated
    return u


def no_usage() -> Usage:
    """Zero usage: no request made (the default of an assistant message)."""
    return usage_of(0, 0, 0, 0, 0)


# --- assistant parts -----------------------------------------------------------------


class TextPart(PlainClass):
    """Model-written text (a thought, or the final answer when no tool is called)."""

    kind: Literal["text"] = "text"
    text: str


class ThinkingPart(PlainClass):
    """Extended-thinking block; kept in history verbatim (with its signature) because
    Anthropic requires it back unchanged on the next turn of a tool loop."""

    kind: Literal["thinking"] = "thinking"
    thinking: str = ""
    signature: str | None = None
    #: opaque payload of a redacted thinking block
    redacted: str | None = None


class ToolCallPart(PlainClass):
    """A request by the model to call a tool."""

    kind: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    #: The arguments exactly as the model sent them when they were not a JSON object;
    #: the runtime turns this into an error observation instead of calling the tool.
    raw_arguments: str | None = None


AssistantPart = Annotated[Union[TextPart, ThinkingPart, ToolCallPart], Tagged("kind")]


# --- messages ------------------------------------------------------------------------


class SystemMessage(PlainClass):
    role: Literal["system"] = "system"
    content: str


class UserMessage(PlainClass):
    role: Literal["user"] = "user"
    content: str


class AssistantMessage(PlainClass):
    """One model turn: text, thinking and tool calls, with usage and stop reason."""

    role: Literal["assistant"] = "assistant"
    parts: list[AssistantPart] = field(default_factory=list)
    usage: Usage = field(default_factory=no_usage)
    #: normalised: "end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", ...
    stop_reason: str | None = None
    model: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if p.kind == "text")

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.parts if p.kind == "tool_call"]


class ToolResult(PlainClass):
    """The observation for one tool call: its (possibly truncated) content, ok or error."""

    tool_call_id: str
    name: str
    content: str
    is_error: bool = False


class ToolReturnMessage(PlainClass):
    """All results answering one assistant turn's tool calls, in call order."""

    role: Literal["tool"] = "tool"
    results: list[ToolResult]


Message = Annotated[
    Union[SystemMessage, UserMessage, AssistantMessage, ToolReturnMessage],
    Tagged("role"),
]

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    #: Validates/serialises a list of messages (e.g. a saved notebook history).
    MessagesAdapter: TypeAdapter[list[Message]]


def __getattr__(name: str) -> Any:
    """`MessagesAdapter`, built on first use: `import stageagent` loads no schema machinery."""
    if name == "MessagesAdapter":
        return adapter_for(list[Message])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def message_text(message: Any) -> str:
    """The text a message contributes to the context, for token counting."""
    role = message.role
    if role == "assistant":
        return parts_text(message.parts)
    if role == "tool":
        results = message.results
        if len(results) == 1:
            return results[0].content
        return "\n".join([r.content for r in results])
    return message.content


def parts_text(parts: list[Any]) -> str:
    """The text an assistant turn's parts contribute to the context (`message_text`)."""
    if len(parts) == 1:
        return part_text(parts[0])
    return "\n".join([part_text(part) for part in parts])


def part_text(part: Any) -> str:
    """One assistant part's text: its text, its thinking, or a call's name and JSON."""
    kind = part.kind
    if kind == "text":
        return part.text
    if kind == "thinking":
        return part.thinking
    arguments = part.raw_arguments
    if arguments is None:
        arguments = dumps(part.arguments)
    return f"{part.name}\n{arguments}"


# --- builders: a turn's messages from the runtime's own values, without validation ------
# (`tests/core/test_plainclass.py` holds each to validated construction)

def text_part(text: str) -> TextPart:
    p = _new(TextPart)
    p.kind = "text"
    p.text = text
    return p


def tool_call_part(id: str, name: str, arguments: dict[str, Any]) -> ToolCallPart:
    p = _new(ToolCallPart)
    p.kind = "tool_call"
    p.id = id
    p.name = name
    p.arguments = arguments
    p.raw_arguments = None
    return p


def assistant_message(parts: list[Any], usage: Usage, stop_reason: str | None,
                      model: str | None) -> AssistantMessage:
    m = _new(AssistantMessage)
    m.role = "assistant"
    m.parts = parts
    m.usage = usage
    m.stop_reason = stop_reason
    m.model = model
    return m


def system_message(content: str) -> SystemMessage:
    m = _new(SystemMessage)
    m.role = "system"
    m.content = content
    return m


def user_message(content: str) -> UserMessage:
    m = _new(UserMessage)
    m.role = "user"
    m.content = content
    return m


def tool_result(tool_call_id: str, name: str, content: str, is_error: bool) -> ToolResult:
    r = _new(ToolResult)
    r.tool_call_id = tool_call_id
    r.name = name
    r.content = content
    r.is_error = is_error
    return r


def tool_return(results: list[ToolResult]) -> ToolReturnMessage:
    m = _new(ToolReturnMessage)
    m.role = "tool"
    m.results = results
    return m
