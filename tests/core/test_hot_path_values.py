"""The loop's shortcuts give what the long way gives.

On the hot path the runtime carries plain copies of values instead of reading them back
from pydantic models (tool outcomes, the text of a turn, estimated usage) and renders
common tool outputs without the serialiser. Each test holds a shortcut to the long way.
"""

from __future__ import annotations

import enum

import pytest
from pydantic import BaseModel

from stageagent import FunctionModel, StageAwareRuntime, StageConfig, call, tool
from stageagent.budget import MESSAGE_OVERHEAD, Spend
from stageagent.events import IterationCompleted, ToolResultEvent
from stageagent.function_tools import render_output
from stageagent.jsontext import dumps
from stageagent.messages import AssistantMessage, TextPart, Usage, message_text, parts_text
from stageagent.models.test import to_message
from stageagent.tokens import TokenCounter


class Colour(str, enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    label: str = "p"


def long_way(value: object) -> str:
    """render_output as it was written before the shortcuts."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return dumps(value)


@pytest.mark.parametrize("value", [
    0, 7, -12, 2**63, -(10**40), 10**5000,  # the last is past Python's int-to-str limit
    True, False, None, 1.5, 1e300, float("inf"), "text", "", Colour.RED,
    {"a": [1, 2.5, None]}, [1, "x"], (1, 2), Point(x=1), {"p": Point(x=2)},
], ids=lambda v: type(v).__name__)
def test_render_output_gives_what_the_serialiser_gives(value):
    assert render_output(value) == long_way(value)


def test_a_str_subclass_stays_the_text_it_is():
    assert render_output(Colour.RED) is Colour.RED


def test_estimated_spend_adds_what_the_general_path_adds():
    def price(model: str, usage: Usage) -> float:
        return usage.input_tokens * 0.001 + usage.output_tokens * 0.002 + usage.requests

    usage = Usage(input_tokens=120, output_tokens=7, requests=1, estimated=True)
    general, estimated = Spend(price), Spend(price)
    for _ in range(3):
        assert estimated.add_estimated("m", usage, 120, 7) == general.add("m", usage)
    assert estimated.usage == general.usage
    assert estimated.cost_usd == general.cost_usd
    assert estimated.total_tokens == general.total_tokens == 381


@tool(read_only=True)
def shout(word: str) -> str:
    """Upper-case a word."""
    return word.upper()


@tool
def fail(why: str) -> str:
    """Always fails."""
    raise ValueError(why)


def turns(request):
    """Two calls with a text part, then a failing call and a bad one, then the answer."""
    n = (len(request.messages) - 2) // 2
    if n == 0:
        return ["Let me look.", call("shout", {"word": "é✓"}), call("shout", {"word": "b"})]
    if n == 1:
        return [call("fail", {"why": "no"}), call("nope", {}), call("shout", {"word": 3})]
    return "Done."


STAGE = StageConfig(name="values", tools=["shout", "fail"], prompt_text="Go: {{ input }}",
                    max_iterations=4)


async def test_every_estimated_input_count_is_the_count_of_the_messages_sent():
    requests = []

    def model(request):
        requests.append(request)
        return turns(request)

    run = StageAwareRuntime(tools=[shout, fail]).run_stage(STAGE, "x",
                                                          model=FunctionModel(model))
    usages = [e.usage for e in [e async for e in run] if isinstance(e, IterationCompleted)]
    count = TokenCounter(model="function").count
    assert len(usages) == len(requests) == 3
    for request, usage in zip(requests, usages):
        assert usage.estimated
        assert usage.input_tokens == sum(count(message_text(m)) + MESSAGE_OVERHEAD
                                         for m in request.messages)


async def test_tool_result_events_say_what_the_history_holds():
    run = StageAwareRuntime(tools=[shout, fail]).run_stage(STAGE, "x",
                                                          model=FunctionModel(turns))
    events = [e async for e in run if isinstance(e, ToolResultEvent)]
    assert run.result is not None and run.result.reason == "completed"
    results = [r for m in run.result.messages if m.role == "tool" for r in m.results]
    assert [(e.tool_call_id, e.tool, e.is_error, e.content) for e in events] == \
        [(r.tool_call_id, r.name, r.is_error, r.content) for r in results]
    assert [e.is_error for e in events] == [False, False, True, True, True]
    assert events[0].content == "É✓"


def test_the_text_of_a_turn_is_its_message_text():
    counter = TokenCounter(model="function")
    for turn in (["a", call("shout", {"word": "x"})], call("shout", {"word": "y"}), "z"):
        message = to_message(turn, "m")
        assert isinstance(message, AssistantMessage)
        assert parts_text(message.parts) == message_text(message)
        assert counter.count(parts_text(message.parts)) > 0
    assert message_text(AssistantMessage(parts=[TextPart(text="q")])) == "q"
