"""Lone UTF-16 surrogates in model text, tool arguments and tool output.

Python strings may hold them; UTF-8 cannot. Every event must still serialise, read back
unchanged with `parse_event`, and the stage must end as it would without them.
"""

from __future__ import annotations

import json

import pytest

from stageagent import ScriptedModel, call, parse_event, tool

from .helpers import make_runtime, stage

HIGH, LOW = "\ud83d", "\ude00"  # the two halves of one emoji, each alone


@tool(read_only=True)
async def echo(text: str) -> dict:
    """Return the text and its length.

    Args:
        text: any text
    """
    return {"echo": text, "length": len(text)}


def check_round_trip(events):
    for event in events:
        text = event.model_dump_json()
        assert parse_event(text) == event, event.type
        assert parse_event(text.encode()) == event
        assert json.loads(text)["type"] == event.type  # plain JSON readers cope too
        indented = event.model_dump_json(indent=2)
        assert parse_event(indented) == event


@pytest.mark.parametrize("stream", [False, True])
async def test_surrogates_everywhere_serialise_and_read_back(stream):
    model = ScriptedModel([
        [f"let me look {HIGH}", call("echo", {"text": f"a{LOW}b"})],
        f"The answer is {HIGH} and {LOW} done {LOW}",
    ])
    runtime = make_runtime(echo)
    run = runtime.run_stage(stage(tools=["echo"]), f"question {HIGH}", model=model,
                            stream=stream)
    events = [e async for e in run]
    assert run.result.reason == "completed", run.result
    result = next(e for e in events if e.type == "tool_result")
    assert not result.is_error and f"a{LOW}b" in json.loads(result.content)["echo"]  # nothing lost
    thoughts = [e.text for e in events if e.type == "thought"]
    assert any(HIGH in t for t in thoughts)
    check_round_trip(events)


def test_a_split_pair_reads_back_as_the_character_it_encodes():
    from stageagent.events import Thought

    # two halves that arrived in separate stream deltas: JSON cannot tell them from the
    # character they encode, and the character is what the model meant
    event = Thought(run_id="r", text=f"x{HIGH}{LOW}y")
    assert parse_event(event.model_dump_json()).text == "x\U0001f600y"


def test_clean_text_keeps_pydantic_output_byte_for_byte():
    from stageagent.events import Thought

    event = Thought(run_id="r", text="héllo ✓")
    assert event.model_dump_json() == ('{"run_id":"r","stage":"","iteration":0,"seq":0,'
                                       '"ts":0.0,"type":"thought","text":"héllo ✓"}')


def test_parse_event_still_refuses_broken_json():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        parse_event('{"type": "thought", "run_id": "r", "text": "x\\ud800')
