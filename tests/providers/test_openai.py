"""OpenAIModel through the real `openai` SDK against the local wire server, including the
fallbacks for OpenAI-compatible servers."""

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
    ToolCallDelta,
    ToolDefinition,
)
from stageagent.models.openai import OpenAIModel, strict_compatible

from .conftest import FAST, collect, within
from .wire_server import Reply, fixture_json, fixture_text

WEATHER = ToolDefinition(name="get_current_weather", description="Weather of a place.",
                         parameters={"type": "object",
                                     "properties": {"location": {"type": "string"}}})
STRICT = {"type": "object", "properties": {"total": {"type": "number"}},
          "required": ["total"], "additionalProperties": False}


def simple(text: str = "Hi", **kw) -> ModelRequest:
    return ModelRequest(messages=[SystemMessage(content="You are terse."),
                                  UserMessage(content=text)], **kw)


async def test_request_text_usage_and_wire_format(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
    message = await within(make_model("openai").request(
        simple(tools=[WEATHER], settings=ModelSettings(max_tokens=100, temperature=0.1,
                                                       parallel_tool_calls=False))))
    assert message.text == "Hello! How can I assist you today?"
    assert message.stop_reason == "end_turn"
    # cached prompt tokens are reported apart from the uncached input
    assert (message.usage.input_tokens, message.usage.cache_read_tokens,
            message.usage.output_tokens) == (1919 - 1792, 1792, 10)
    sent = wire.received[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = sent.body
    assert body["messages"] == [{"role": "system", "content": "You are terse."},
                                {"role": "user", "content": "Hi"}]
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_current_weather", "description": "Weather of a place.",
        "parameters": WEATHER.parameters}}]
    assert body["parallel_tool_calls"] is False and body["temperature"] == 0.1
    assert body["max_tokens"] == 100  # compatible server (base_url): the classic name
    assert "stream" not in body and "stream_options" not in body


async def test_parallel_tool_calls(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_tool_calls.json")))
    message = await within(make_model("openai").request(simple(tools=[WEATHER])))
    assert message.stop_reason == "tool_use"
    assert [(c.id, c.arguments) for c in message.tool_calls] == [
        ("call_abc123", {"location": "Boston, MA"}), ("call_def456", {"location": "Paris, FR"})]


async def test_non_json_arguments_are_kept_raw_not_raised(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_bad_arguments.json")))
    message = await within(make_model("openai").request(simple(tools=[WEATHER])))
    assert message.tool_calls == [ToolCallPart(id="call_bad1", name="add", arguments={},
                                               raw_arguments="{'a': 1, 'b': 2")]


async def test_history_translation(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
    history = [
        SystemMessage(content="sys"), UserMessage(content="go"),
        AssistantMessage(parts=[ThinkingPart(thinking="hidden"),
                                ToolCallPart(id="c1", name="f", arguments={"x": 1}),
                                ToolCallPart(id="c2", name="f", raw_arguments="{x: 2")]),
        ToolReturnMessage(results=[ToolResult(tool_call_id="c1", name="f", content="one"),
                                   ToolResult(tool_call_id="c2", name="f", content="bad",
                                              is_error=True)]),
        AssistantMessage(parts=[TextPart(text="done")]),
    ]
    await within(make_model("openai").request(ModelRequest(messages=history)))
    assert wire.received[0].body["messages"][2:] == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
            {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{x: 2"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "one"},
        {"role": "tool", "tool_call_id": "c2", "content": "bad"},
        {"role": "assistant", "content": "done"},
    ]


async def test_stream_parallel_tool_call_deltas_and_final_usage(make_model, wire):
    wire.queue(Reply.sse(fixture_text("openai/stream_tool_calls.sse"), split=11))
    events = await collect(make_model("openai").stream(simple(tools=[WEATHER])))
    body = wire.received[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    args0 = "".join(e.arguments_delta for e in events
                    if isinstance(e, ToolCallDelta) and e.index == 0)
    assert args0 == '{"location": "Paris"}'
    message = events[-1].message
    assert [(c.name, c.arguments) for c in message.tool_calls] == [
        ("get_weather", {"location": "Paris"}), ("get_time", {"timezone": "Europe/Paris"})]
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.cache_read_tokens,
            message.usage.output_tokens) == (56, 64, 40)


async def test_stream_text(make_model, wire):
    wire.queue(Reply.sse(fixture_text("openai/stream_text.sse")))
    events = await collect(make_model("openai").stream(simple()))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", " there!"]
    assert isinstance(events[-1], StreamComplete) and events[-1].message.text == "Hello there!"


async def test_output_schema_uses_strict_json_schema(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
    schema = OutputSchema(name="Answer", schema=STRICT, description="the total")
    await within(make_model("openai").request(simple(tools=[WEATHER], output_schema=schema)))
    body = wire.received[0].body
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "Answer", "schema": STRICT, "strict": True, "description": "the total"}}
    assert body["tool_choice"] == "none"


def test_strictness_detection():
    assert strict_compatible(STRICT)
    assert not strict_compatible({"type": "object", "properties": {"a": {"type": "string"}}})
    nested_open = dict(STRICT, properties={"total": {"type": "object", "properties": {}}})
    assert not strict_compatible(nested_open)


async def test_server_without_json_schema_falls_back_to_json_object(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/compat_json_schema_unsupported.json"), status=400),
               Reply.json(fixture_json("openai/chat_text.json")),
               Reply.json(fixture_json("openai/chat_text.json")))
    model = make_model("openai", name="llama3.1")
    schema = OutputSchema(name="Answer", schema=STRICT)
    await within(model.request(simple(output_schema=schema)))
    assert model.supports_json_schema is False
    retried = wire.received[1].body
    assert retried["response_format"] == {"type": "json_object"}
    assert retried["messages"][0]["role"] == "system"
    assert '"total"' in retried["messages"][0]["content"]
    await within(model.request(simple(output_schema=schema)))  # remembered: no second 400
    assert len(wire.received) == 3


async def test_server_without_parallel_tool_calls_falls_back(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/compat_parallel_tool_calls_unsupported.json"),
                          status=400),
               Reply.json(fixture_json("openai/chat_tool_calls.json")))
    model = make_model("openai", name="llama3.1")
    settings = ModelSettings(parallel_tool_calls=True)
    message = await within(model.request(simple(tools=[WEATHER], settings=settings)))
    assert len(message.tool_calls) == 2
    assert "parallel_tool_calls" in wire.received[0].body
    assert "parallel_tool_calls" not in wire.received[1].body


async def test_custom_base_url_needs_no_key(monkeypatch, wire):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = infer_model(f"openai:qwen2.5:7b@{wire.url}/v1", retry_policy=FAST)
    try:
        wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
        await within(model.request(simple()))
        assert wire.received[0].body["model"] == "qwen2.5:7b"
    finally:
        await model.aclose()


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        OpenAIModel("gpt-4o")


async def test_official_api_uses_max_completion_tokens():
    async with OpenAIModel("gpt-5", api_key="sk-x") as model:
        params = model.build_params(simple(settings=ModelSettings(max_tokens=50)), stream=True)
    assert params["max_completion_tokens"] == 50 and "max_tokens" not in params
    assert params["stream_options"] == {"include_usage": True}
    assert model.client.is_closed()
