"""AnthropicModel through the real `anthropic` SDK against the local wire server."""

from __future__ import annotations

import pytest

from stageagent.exceptions import MissingAPIKeyError
from stageagent.messages import (
    AssistantMessage,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResult,
    ToolReturnMessage,
    UserMessage,
)
from stageagent.models import infer_model
from stageagent.models.base import (
    ModelRequest,
    ModelSettings,
    OutputSchema,
    StreamComplete,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolDefinition,
)

from .conftest import collect, within
from .replies import anthropic_stream
from .wire_server import Reply, fixture_json, fixture_text

ADD = ToolDefinition(name="add", description="Add two numbers.",
                     parameters={"type": "object", "properties": {"a": {"type": "number"},
                                                                  "b": {"type": "number"}},
                                 "required": ["a", "b"]})
WEATHER = ToolDefinition(name="get_weather", description="Weather of a place.")


def simple(text: str = "Hi", **kw) -> ModelRequest:
    return ModelRequest(messages=[SystemMessage(content="You are terse."),
                                  UserMessage(content=text)], **kw)


async def test_request_text_usage_and_wire_format(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/message_text.json")))
    model = make_model("anthropic")
    message = await within(model.request(simple(tools=[ADD, WEATHER],
                                                settings=ModelSettings(stop_sequences=["END"]))))
    assert message.text == "Hello! How can I help you today?"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 9)
    assert (message.usage.cache_read_tokens, message.usage.cache_write_tokens) == (2048, 1024)
    assert message.usage.requests == 1
    sent = wire.received[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-ant-test"
    body = sent.body
    assert body["model"] == "claude-sonnet-4-6" and body["max_tokens"] == 4096
    assert body["stop_sequences"] == ["END"]
    # the stable prefix is cached: last system block and last tool definition
    assert body["system"] == [{"type": "text", "text": "You are terse.",
                               "cache_control": {"type": "ephemeral"}}]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][0]["input_schema"] == ADD.parameters
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


async def test_cache_prompt_off_sends_no_cache_control(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/message_text.json")))
    await within(make_model("anthropic", cache_prompt=False).request(simple(tools=[ADD])))
    body = wire.received[0].body
    assert "cache_control" not in body["system"][0] and "cache_control" not in body["tools"][0]


async def test_several_tool_calls_in_one_turn(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/message_tool_use.json")))
    message = await within(make_model("anthropic").request(simple(tools=[WEATHER])))
    assert message.stop_reason == "tool_use"
    assert message.text == "I'll look up the weather in both cities."
    assert [(c.id, c.arguments["location"]) for c in message.tool_calls] == [
        ("toolu_01A09q90qw90lq917835lq9", "San Francisco, CA"),
        ("toolu_01B19q90qw90lq917835lq8", "New York, NY")]


async def test_thinking_blocks_are_kept(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/message_thinking.json")))
    message = await within(make_model("anthropic").request(
        simple(settings=ModelSettings(thinking_budget=2048, max_tokens=8000))))
    thinking, redacted, text = message.parts
    assert thinking.kind == "thinking" and thinking.signature.startswith("EqQB")
    assert redacted.redacted.startswith("EmwK") and text.text == "2 + 2 = 4"
    assert wire.received[0].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_history_translation_round_trips_everything(make_model, wire):
    """tool_use answered by tool_result first in ONE user message (with the critique that
    follows), thinking back verbatim, no empty text blocks, raw arguments as `{}`."""
    wire.queue(Reply.json(fixture_json("anthropic/message_text.json")))
    history = [
        SystemMessage(content="sys"),
        UserMessage(content="add things"),
        AssistantMessage(parts=[
            ThinkingPart(thinking="plan", signature="sig-1"),
            ThinkingPart(redacted="opaque"),
            TextPart(text=""),
            ToolCallPart(id="t1", name="add", arguments={"a": 1, "b": 2}),
            ToolCallPart(id="t2", name="add", raw_arguments="{'a': 1"),
        ]),
        ToolReturnMessage(results=[
            ToolResult(tool_call_id="t1", name="add", content="3"),
            ToolResult(tool_call_id="t2", name="add", content="arguments are not JSON",
                       is_error=True)]),
        UserMessage(content="Quality 0.4: try again"),
    ]
    await within(make_model("anthropic").request(ModelRequest(messages=history, tools=[ADD])))
    messages = wire.received[0].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "plan", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "tool_use", "id": "t1", "name": "add", "input": {"a": 1, "b": 2}},
        {"type": "tool_use", "id": "t2", "name": "add", "input": {}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "3", "is_error": False},
        {"type": "tool_result", "tool_use_id": "t2", "content": "arguments are not JSON",
         "is_error": True},
        {"type": "text", "text": "Quality 0.4: try again"},
    ]


async def test_output_schema_instructs_json_and_forbids_tools(make_model, wire):
    wire.queue(Reply.json(fixture_json("anthropic/message_text.json")))
    schema = OutputSchema(name="Answer", schema={"type": "object",
                                                 "properties": {"total": {"type": "number"}}})
    await within(make_model("anthropic").request(simple(tools=[ADD], output_schema=schema)))
    body = wire.received[0].body
    cached, instruction = body["system"]
    assert cached["cache_control"] == {"type": "ephemeral"}
    assert "JSON" in instruction["text"] and '"total"' in instruction["text"]
    assert "cache_control" not in instruction
    assert body["tool_choice"] == {"type": "none"}


async def test_stream_assembles_tool_calls_from_split_chunks(make_model, wire):
    # events cut every 7 bytes: the SDK's SSE decoder must reassemble them
    wire.queue(Reply.sse(fixture_text("anthropic/stream_tool_use.sse"), split=7))
    events = await collect(make_model("anthropic").stream(simple(tools=[WEATHER])))
    assert isinstance(events[-1], StreamComplete)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == \
        "Okay, let's check the weather."
    starts = [e for e in events if isinstance(e, ToolCallDelta) and e.id]
    assert [(e.index, e.name) for e in starts] == [(0, "get_weather"), (1, "get_time")]
    args0 = "".join(e.arguments_delta for e in events
                    if isinstance(e, ToolCallDelta) and e.index == 0)
    assert args0 == '{"location": "San Francisco, CA"}'
    message = events[-1].message
    assert [c.arguments for c in message.tool_calls] == [
        {"location": "San Francisco, CA"}, {"timezone": "America/Los_Angeles"}]
    assert message.stop_reason == "tool_use"
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens,
            usage.cache_write_tokens) == (472, 89, 1200, 300)


async def test_stream_thinking_with_signature(make_model, wire):
    wire.queue(Reply.sse(fixture_text("anthropic/stream_thinking.sse")))
    events = await collect(make_model("anthropic").stream(simple()))
    assert any(isinstance(e, ThinkingDelta) for e in events)
    thinking, text = events[-1].message.parts
    assert thinking.thinking.endswith("453 = 400 + 50 + 3")
    assert thinking.signature == "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    assert text.text == "27 * 453 = 12,231"


async def test_stream_non_json_tool_arguments_become_raw(make_model, wire):
    wire.queue(Reply.sse(anthropic_stream([("tool", "t9", "add", "{'a': 1,")])))
    message = (await collect(make_model("anthropic").stream(simple(tools=[ADD]))))[-1].message
    assert message.tool_calls == [ToolCallPart(id="t9", name="add", arguments={},
                                               raw_arguments="{'a': 1,")]


async def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError) as info:
        infer_model("anthropic:claude-sonnet-4-6")
    assert info.value.variable == "ANTHROPIC_API_KEY"
    assert "ANTHROPIC_API_KEY" in str(info.value) and "anthropic" in str(info.value)


async def test_model_id_resolves_with_key_from_environment(monkeypatch, wire):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    model = infer_model(f"anthropic:claude-haiku-4-5@{wire.url}")
    try:
        wire.queue(Reply.json(fixture_json("anthropic/message_text.json")))
        await within(model.request(simple()))
        assert wire.received[0].headers["authorization"] == "Bearer sk-ant-env"
        assert wire.received[0].body["model"] == "claude-haiku-4-5"
    finally:
        await model.aclose()
    assert model.client.is_closed()
