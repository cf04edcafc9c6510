"""Server capability profiles: what OpenAIModel sends to each kind of compatible server,
seen on the wire through the real `openai` SDK (the real llama-cpp-python server is
exercised in tests/localmodel)."""

from __future__ import annotations

import pytest

from stageagent.exceptions import ModelBadRequestError, UnknownModelError
from stageagent.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCallPart,
    ToolResult,
    ToolReturnMessage,
    UserMessage,
)
from stageagent.models import infer_model
from stageagent.models.base import ModelRequest, ModelSettings, OutputSchema, ToolDefinition
from stageagent.models.servers import LLAMA_CPP_PYTHON, OPENAI, ServerCapabilities

from .conftest import within
from .wire_server import Reply, fixture_json, fixture_text

ADD = ToolDefinition(name="add", description="Add two integers.",
                     parameters={"type": "object", "properties": {
                         "a": {"type": "integer"}, "b": {"type": "integer"}}})
NOTE = ToolDefinition(name="note", description="Write a note.",
                      parameters={"type": "object", "properties": {"text": {"type": "string"}}})
SCHEMA = OutputSchema(name="Sum", schema={"type": "object", "properties": {
    "total": {"type": "integer"}}, "required": ["total"]})


def with_tool_history(**kw) -> ModelRequest:
    return ModelRequest(messages=[
        SystemMessage(content="You add."), UserMessage(content="40 + 2?"),
        AssistantMessage(parts=[ToolCallPart(id="call_1", name="add",
                                             arguments={"a": 40, "b": 2})]),
        ToolReturnMessage(results=[ToolResult(tool_call_id="call_1", name="add",
                                              content="42")]),
    ], **kw)


async def test_llama_cpp_python_gets_empty_content_and_schema_in_json_object(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
    model = make_model("openai", name="smollm2", server="llama-cpp-python")
    await within(model.request(with_tool_history(tools=[ADD], output_schema=SCHEMA)))
    body = wire.received[0].body
    assistant = body["messages"][2]
    assert assistant["role"] == "assistant" and assistant["content"] == ""
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"a": 40, "b": 2}'
    # grammar-constrained JSON through the server's own json_object schema
    assert body["response_format"] == {"type": "json_object", "schema": SCHEMA.schema_}
    assert '"total"' in body["messages"][0]["content"]
    # the schema is not honoured while tools are offered there: the format turn sends none
    assert "tools" not in body and "tool_choice" not in body


async def test_openai_keeps_null_content_and_strict_schema(make_model, wire):
    wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
    model = make_model("openai", name="gpt-4o-mini", server=OPENAI)
    await within(model.request(with_tool_history(tools=[ADD], output_schema=SCHEMA)))
    body = wire.received[0].body
    assert body["messages"][2]["content"] is None
    assert body["response_format"]["type"] == "json_schema"
    assert body["tool_choice"] == "none" and body["tools"][0]["function"]["name"] == "add"


@pytest.mark.parametrize("choice, tools, server, sent", [
    ("required", [ADD, NOTE], "generic", "required"),
    ("required", [ADD], "llama-cpp-python", {"type": "function", "function": {"name": "add"}}),
    ("required", [ADD, NOTE], "llama-cpp-python", None),
    ("note", [ADD, NOTE], "llama-cpp-python", {"type": "function", "function": {"name": "note"}}),
    ("note", [ADD, NOTE], "ollama", None),
    ("none", [ADD], "llama-cpp-python", "none"),
    ("auto", [ADD], "generic", None),
])
async def test_tool_choice_maps_to_what_the_server_enforces(make_model, wire, choice, tools,
                                                            server, sent):
    wire.queue(Reply.json(fixture_json("openai/chat_tool_calls.json")))
    model = make_model("openai", name="m", server=server)
    request = ModelRequest(messages=[UserMessage(content="hi")], tools=tools,
                           settings=ModelSettings(tool_choice=choice))
    await within(model.request(request))
    assert wire.received[0].body.get("tool_choice") == sent


async def test_tool_choice_naming_no_offered_tool_is_a_typed_error(make_model):
    model = make_model("openai", name="m", server="llama-cpp-python")
    request = ModelRequest(messages=[UserMessage(content="hi")], tools=[ADD],
                           settings=ModelSettings(tool_choice="nope"))
    with pytest.raises(ModelBadRequestError, match="'nope'.*tools: add"):
        model.build_params(request)


async def test_stream_usage_only_where_the_server_sends_it(make_model, wire):
    wire.queue(Reply.sse(fixture_text("openai/stream_text.sse")))
    model = make_model("openai", name="smollm2", server=LLAMA_CPP_PYTHON)
    async for _ in model.stream(ModelRequest(messages=[UserMessage(content="hi")])):
        pass
    body = wire.received[0].body
    assert body["stream"] is True and "stream_options" not in body
    params = make_model("openai", name="m").build_params(
        ModelRequest(messages=[UserMessage(content="hi")]), stream=True)
    assert params["stream_options"] == {"include_usage": True}


async def test_local_model_id_resolves_to_the_llama_cpp_python_profile(wire, monkeypatch):
    monkeypatch.delenv("STAGEAGENT_LOCAL_MODEL_URL", raising=False)
    model = infer_model("local:smollm2")
    try:
        assert model.base_url.rstrip("/") == "http://127.0.0.1:8765/v1"
        assert model.capabilities == LLAMA_CPP_PYTHON
    finally:
        await model.aclose()
    monkeypatch.setenv("STAGEAGENT_LOCAL_MODEL_URL", f"{wire.url}/v1")
    model = infer_model("local:smollm2")
    try:
        wire.queue(Reply.json(fixture_json("openai/chat_text.json")))
        await within(model.request(ModelRequest(messages=[UserMessage(content="hi")])))
        assert wire.received[0].body["model"] == "smollm2"
    finally:
        await model.aclose()


def test_unknown_server_kind_is_named():
    with pytest.raises(UnknownModelError, match="'lamma'.*llama-cpp-python"):
        infer_model("openai:m@http://127.0.0.1:1/v1", server="lamma")


def test_capabilities_are_values():
    caps = ServerCapabilities("x")
    assert caps.without(null_content=False).null_content is False and caps.null_content


RAW_NEWLINE = '{"id": "c1", "object": "chat.completion", "created": 1, "model": "smollm2", ' \
    '"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", ' \
    '"content": "{\\"total\\": 42, \\"note\\": \\"a\\nb\\"}"}}], ' \
    '"usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}'


async def test_raw_control_characters_in_constrained_json_are_escaped(make_model, wire):
    import json

    wire.queue(Reply(status=200, body=RAW_NEWLINE.encode(),
                     headers={"content-type": "application/json"}))
    model = make_model("openai", name="smollm2", server="llama-cpp-python")
    message = await within(model.request(with_tool_history(output_schema=SCHEMA)))
    assert json.loads(message.text) == {"total": 42, "note": "a\nb"}
    # without a schema the text is the model's, untouched
    wire.queue(Reply(status=200, body=RAW_NEWLINE.encode(),
                     headers={"content-type": "application/json"}))
    plain = await within(model.request(with_tool_history()))
    assert plain.text == '{"total": 42, "note": "a\nb"}'


def test_local_models_cap_every_answer(monkeypatch):
    monkeypatch.delenv("STAGEAGENT_LOCAL_MAX_TOKENS", raising=False)
    model = infer_model("local:smollm2@http://127.0.0.1:9/v1")
    request = ModelRequest(messages=[UserMessage(content="hi")],
                           settings=ModelSettings(max_tokens=4096))
    assert model.build_params(request)["max_tokens"] == 512
    small = request.model_copy(update={"settings": ModelSettings(max_tokens=40)})
    assert model.build_params(small)["max_tokens"] == 40
    unset = request.model_copy(update={"settings": ModelSettings()})
    assert model.build_params(unset)["max_tokens"] == 512
    monkeypatch.setenv("STAGEAGENT_LOCAL_MAX_TOKENS", "64")
    assert infer_model("local:smollm2@http://127.0.0.1:9/v1").build_params(
        request)["max_tokens"] == 64


@pytest.mark.parametrize("choice, parallel, sent", [
    ("required", None, {"type": "any"}),
    ("add", False, {"type": "tool", "name": "add", "disable_parallel_tool_use": True}),
    ("none", None, {"type": "none"}),
])
async def test_anthropic_takes_the_same_tool_choice(make_model, wire, choice, parallel, sent):
    wire.queue(Reply.json(fixture_json("anthropic/message_tool_use.json")))
    model = make_model("anthropic")
    request = ModelRequest(messages=[UserMessage(content="hi")], tools=[ADD],
                           settings=ModelSettings(tool_choice=choice,
                                                  parallel_tool_calls=parallel))
    await within(model.request(request))
    assert wire.received[0].body["tool_choice"] == sent
