"""The format turn shows the stage's tools (the history refers to them) but runs none."""

from __future__ import annotations

from pydantic import BaseModel

from stageagent import ScriptedModel, call, tool

from .helpers import make_runtime, stage

calls: list[int] = []


@tool(read_only=True)
async def count(n: int) -> int:
    """Count a call.

    Args:
        n: any number
    """
    calls.append(n)
    return n


class Out(BaseModel):
    n: int


async def test_a_tool_call_in_the_format_turn_is_refused_and_not_run():
    calls.clear()
    model = ScriptedModel([call("count", {"n": 1}), "n is 1",
                           call("count", {"n": 2}),      # format attempt 1: a tool call
                           '{"n": 1}'])                  # format attempt 2
    run = make_runtime(count).run_stage(stage(tools=["count"], output_schema=Out), "n?",
                                        model=model)
    events = [e async for e in run]
    formatted = [e for e in events if e.type == "output_formatted"]
    assert [f.ok for f in formatted] == [False, True]
    assert formatted[0].errors == ["tools are not available in the format step"]
    assert calls == [1]  # the format turn's call never ran
    assert [t.name for t in model.requests[2].tools] == ["count"]
    assert run.result.output == Out(n=1)
