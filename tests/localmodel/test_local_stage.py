"""Stage runs through the real llama-cpp-python server: a real tool call, a real stream,
constrained output, and a cassette that replays to the same events."""

from __future__ import annotations

import asyncio
import json
from typing import Literal

from pydantic import BaseModel, Field

from core.helpers import add  # tests/ is on sys.path: its packages import by name
from stageagent import StageAwareRuntime, StageConfig
from stageagent.models import RecordingModel, ReplayModel, infer_model

REASONS = {"passed", "completed", "max_iterations", "budget", "loop_detected"}


def adder_stage(**model) -> StageConfig:
    return StageConfig(name="adder", tools=["add"], max_iterations=2,
                       prompt_text="You add numbers with the add tool. Task: {{ input }}",
                       model={"id": "local:smollm2", "max_tokens": 48, "temperature": 0,
                              **model})


async def events_of(run) -> list:
    async def go() -> list:
        return [event async for event in run]
    async with asyncio.timeout(240):
        return await go()


async def test_a_stage_makes_a_real_tool_call(model_id):
    runtime = StageAwareRuntime(tools=[add])
    model = infer_model(model_id)
    try:
        run = runtime.run_stage(adder_stage(tool_choice="add"), "What is 40 + 2?", model=model)
        events = await events_of(run)
    finally:
        await model.aclose()
    called = [e for e in events if e.type == "tool_called"]
    results = [e for e in events if e.type == "tool_result"]
    assert called and called[0].tool == "add"  # forced on the first turn by a named choice
    assert len(results) >= 1 and results[0].tool_call_id == called[0].tool_call_id
    assert events[-1].type == "stage_completed" and events[-1].reason in REASONS


async def test_a_streamed_run_delivers_deltas_incrementally(model_id):
    runtime = StageAwareRuntime()
    stage = StageConfig(name="chat", max_iterations=1, prompt_text="Answer briefly: {{ input }}",
                        model={"id": "local:smollm2", "max_tokens": 32, "temperature": 0})
    model = infer_model(model_id)
    try:
        events = await events_of(runtime.run_stage(stage, "Name a colour.", model=model,
                                                   stream=True))
    finally:
        await model.aclose()
    deltas = [e for e in events if e.type == "text_delta"]
    thought = next(e for e in events if e.type == "thought")
    assert len(deltas) >= 3, "one delta per token, not one blob"
    assert "".join(d.text for d in deltas) == thought.text
    stamps = [d.ts for d in deltas]
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0]  # arrived over time


class Colour(BaseModel):
    name: str = Field(max_length=24)
    warm: bool
    kind: Literal["primary", "secondary", "other"]


async def test_explore_then_format_is_valid_20_of_20_under_constrained_decoding(model_id):
    runtime = StageAwareRuntime()
    stage = StageConfig(name="colour", max_iterations=1, output_schema=Colour,
                        prompt_text="Describe a colour in a few words: {{ input }}",
                        model={"id": "local:smollm2", "max_tokens": 64, "temperature": 0.8},
                        limits={"format_retries": 0})
    model = infer_model(model_id)
    valid = 0
    try:
        for i in range(20):
            run = runtime.run_stage(stage, f"colour number {i}", model=model)
            events = await events_of(run)
            formatted = [e for e in events if e.type == "output_formatted"]
            assert len(formatted) == 1, "no retry: the first formatted answer must be valid"
            if formatted[0].ok and isinstance(run.result.output, Colour):
                valid += 1
    finally:
        await model.aclose()
    assert valid == 20


async def test_a_recorded_local_run_replays_to_the_same_events(model_id, tmp_path):
    cassette = tmp_path / "local.jsonl"
    runtime = StageAwareRuntime(tools=[add])
    stage = adder_stage(tool_choice="add")
    recorder = RecordingModel(infer_model(model_id), cassette)
    try:
        live = await events_of(runtime.run_stage(stage, "What is 2 + 3?", model=recorder))
    finally:
        await recorder.model.aclose()
    replayed = await events_of(runtime.run_stage(stage, "What is 2 + 3?",
                                                 model=ReplayModel(cassette)))

    def shape(events: list) -> list:
        return [json.loads(e.model_dump_json(exclude={"run_id", "ts", "duration_ms", "duration_s"})) for e in events]
    assert shape(replayed) == shape(live)
    assert any(e.type == "tool_called" for e in live)
