"""Record/replay: cassettes of requests, responses, streams and errors."""

from __future__ import annotations

import json

import pytest

from stageagent.exceptions import ModelRateLimitError, RecordingMismatchError
from stageagent.messages import SystemMessage, UserMessage
from stageagent.models import ScriptedModel, call
from stageagent.models.base import ModelRequest, ModelSettings, OutputSchema, ToolDefinition
from stageagent.models.record import RecordingModel, ReplayModel, request_hash

from .conftest import collect
from .replies import turn_reply
from .test_stage_run import STAGE, TURNS, runtime


def ask(text: str, **kw) -> ModelRequest:
    return ModelRequest(messages=[SystemMessage(content="sys"), UserMessage(content=text)], **kw)


def test_hash_is_stable_and_covers_what_changes_the_answer():
    base = ask("hi", tools=[ToolDefinition(name="add")])
    assert request_hash(base) == request_hash(ask("hi", tools=[ToolDefinition(name="add")]))
    assert request_hash(base) != request_hash(ask("hi"))
    assert request_hash(base) != request_hash(ask("hi", tools=[ToolDefinition(name="add")],
                                                  settings=ModelSettings(temperature=0.5)))
    schema = OutputSchema(name="X", schema={"type": "object"})
    assert request_hash(ask("hi")) != request_hash(ask("hi", output_schema=schema))
    # the transport timeout does not change the answer
    assert request_hash(ask("hi")) == request_hash(ask("hi", settings=ModelSettings(timeout=9)))


async def test_requests_and_streams_replay_identically(tmp_path):
    path = tmp_path / "cassette.jsonl"
    inner = ScriptedModel([call("add", {"a": 1}, id="c1"), "done"], name="claude-sonnet-4-6")
    recorder = RecordingModel(inner, path)
    first = await recorder.request(ask("one"))
    streamed = await collect(recorder.stream(ask("two")))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["response", "stream"]
    assert lines[0]["hash"] == request_hash(ask("one"))

    replay = ReplayModel(path)
    assert replay.name == "claude-sonnet-4-6"
    assert await replay.request(ask("one")) == first
    assert await collect(replay.stream(ask("two"))) == streamed


async def test_unrecorded_request_fails_loudly_with_a_diff(tmp_path):
    path = tmp_path / "c.jsonl"
    await RecordingModel(ScriptedModel(["a"]), path).request(ask("what is 40 + 2?"))
    with pytest.raises(RecordingMismatchError) as info:
        await ReplayModel(path).request(ask("what is 40 + 3?"))
    text = str(info.value)
    assert "not recorded" in text and "entry 1" in text
    assert '-   "content": "what is 40 + 2?"' in text
    assert '+   "content": "what is 40 + 3?"' in text


async def test_repeats_are_refused_unless_allowed(tmp_path):
    path = tmp_path / "c.jsonl"
    await RecordingModel(ScriptedModel(["a"]), path).request(ask("q"))
    strict = ReplayModel(path)
    await strict.request(ask("q"))
    with pytest.raises(RecordingMismatchError, match="recorded 1 time"):
        await strict.request(ask("q"))
    lenient = ReplayModel(path, allow_repeats=True)
    assert (await lenient.request(ask("q"))).text == (await lenient.request(ask("q"))).text == "a"


async def test_errors_are_recorded_and_replayed_typed(tmp_path):
    path = tmp_path / "c.jsonl"
    failing = ScriptedModel([ModelRateLimitError("slow", retry_after=2.0, provider="openai",
                                                 model="gpt-4o", status=429)])
    with pytest.raises(ModelRateLimitError):
        await RecordingModel(failing, path).request(ask("q"))
    with pytest.raises(ModelRateLimitError) as info:
        await ReplayModel(path).request(ask("q"))
    assert (info.value.retry_after, info.value.status, info.value.provider) == (2.0, 429, "openai")


async def test_a_recorded_stage_run_over_the_wire_replays_to_the_same_events(tmp_path,
                                                                            make_model, wire):
    wire.queue(*[lambda r, items=items: turn_reply("anthropic", items,
                                                   stream=bool(r.body.get("stream")))
                 for items in TURNS])
    path = tmp_path / "run.jsonl"
    recorder = RecordingModel(make_model("anthropic"), path)
    recorded = await collect(runtime().run_stage(STAGE, "40+1+1?", model=recorder, stream=True),
                             seconds=20)
    assert recorded[-1].reason == "passed"
    wire.stop()  # replay must not touch the network

    replayed = await collect(runtime().run_stage(STAGE, "40+1+1?", model=ReplayModel(path),
                                                 stream=True), seconds=20)

    def neutral(events):  # ids, timestamps and durations aside
        return [e.model_dump(exclude={"run_id", "ts", "duration_s", "duration_ms"}) for e in events]
    assert neutral(replayed) == neutral(recorded)
