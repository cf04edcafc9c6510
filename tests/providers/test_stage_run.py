"""A full stage run through each real adapter: several tool turns (two calls in one turn),
the quality gate sending a critique back, and the format phase - over the wire."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from stageagent import QualityReport, StageAwareRuntime, StageConfig, evaluator, tool

from .conftest import collect
from .replies import turn_reply


class Total(BaseModel):
    """The stage's typed result."""

    total: int


@tool(read_only=True)
async def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first addend
        b: the second addend
    """
    return a + b


@evaluator
def says_42(candidate):
    if candidate.output is not None and candidate.output.total == 42:
        return QualityReport(score=1.0)
    return QualityReport(score=0.1, critiques=["The total must be the sum, 42."])


STAGE = StageConfig(name="sum", tools=["add"], evaluators=["says_42"], quality_threshold=0.9,
                    max_iterations=4, output_schema=Total,
                    prompt_text="You add numbers. Task: {{ input }}")

TURNS = [
    ["Let me add both parts.", ("tool", "call_a", "add", {"a": 40, "b": 1}),
     ("tool", "call_b", "add", {"a": 1, "b": 0})],
    [("tool", "call_c", "add", {"a": 41, "b": 1})],
    ["The sum is 41."],                # explore answer
    ['{"total": 41}'],                 # format: valid, but the gate fails it
    ["Sorry - the sum is 42."],
    ['{"total": 42}'],
]


def script(provider: str) -> list:
    """One responder per turn, answering in the form asked for (the format phase may
    request while the rest streams)."""
    def responder(items):
        return lambda received: turn_reply(provider, items,
                                           stream=bool(received.body.get("stream")))
    return [responder(items) for items in TURNS]


def runtime() -> StageAwareRuntime:
    return StageAwareRuntime(tools=[add], evaluators={"says_42": says_42})


@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_full_stage_run(provider, stream, make_model, wire):
    wire.queue(*script(provider))
    model = make_model(provider)
    run = runtime().run_stage(STAGE, "What is 40 + 1 + 1?", model=model, stream=stream)
    events = await collect(run, seconds=20)

    kinds = [e.type for e in events]
    assert kinds.count("tool_called") == 3 and kinds.count("tool_result") == 3
    assert not any(e.is_error for e in events if e.type == "tool_result")
    assert [g.passed for g in events if g.type == "quality_gate"] == [False, True]
    assert events[-1].type == "stage_completed" and events[-1].reason == "passed"
    assert run.result.output == Total(total=42)
    assert events[-1].usage.requests == 6 and not events[-1].usage.estimated
    assert events[-1].cost_usd and events[-1].cost_usd > 0  # both models are priced
    if stream:
        assert "".join(e.text for e in events if e.type == "text_delta").startswith("Let me add")
    assert len(wire.received) == 6

    bodies = [r.body for r in wire.received]
    if provider == "anthropic":
        answer = bodies[1]["messages"][-1]
        assert [b["type"] for b in answer["content"]] == ["tool_result", "tool_result"]
        assert answer["content"][0]["content"] == "41"
        format_call = bodies[3]
        assert "JSON" in format_call["system"][-1]["text"]
        # the critique follows the formatted answer as a user turn
        assert "42" in str(bodies[4]["messages"][-1]["content"])
    else:
        tool_messages = [m for m in bodies[1]["messages"] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in tool_messages] == ["call_a", "call_b"]
        format_call = bodies[3]
        assert format_call["response_format"]["type"] == "json_schema"
        assert format_call["response_format"]["json_schema"]["name"] == "Total"
        if stream:
            assert bodies[0]["stream_options"] == {"include_usage": True}
    # the format turn's history holds tool calls and results: their definitions go along
    # (the real Anthropic API refuses the request without them), and calling is forbidden
    assert [t.get("name") or t["function"]["name"] for t in format_call["tools"]] == ["add"]
    assert format_call["tool_choice"] in ("none", {"type": "none"})
