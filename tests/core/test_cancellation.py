"""Stopping a run from outside: cancel(), closing the stream, cancelling the task.

In every case running tools are cancelled and no asyncio task is left behind.
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from stageagent import FunctionModel, ScriptedModel, call, tool

from .helpers import make_runtime, stage

def slow_tool_and_flags():
    flags = {"started": None, "cancelled": False, "finished": False}

    @tool(read_only=True)
    async def slow(n: int) -> str:
        """Takes long; records whether it was cancelled."""
        flags["started"].set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            flags["cancelled"] = True
            raise
        flags["finished"] = True
        return "late"

    return slow, flags


def leftover_tasks():
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_cancel_while_tools_run_cancels_them_and_reports_cancelled():
    slow, flags = slow_tool_and_flags()
    flags["started"] = asyncio.Event()
    # two concurrent calls: the tools run in tasks of their own
    model = ScriptedModel([[call("slow", {"n": 1}), call("slow", {"n": 2})]])
    run = make_runtime(slow).run_stage(stage(tools=["slow"]), "x", model=model)
    events = []

    async def consume():
        async for event in run:
            events.append(event)

    consumer = asyncio.ensure_future(consume())
    await asyncio.wait_for(flags["started"].wait(), 2)
    run.cancel()
    await asyncio.wait_for(consumer, 2)
    assert events[-1].type == "stage_completed" and events[-1].reason == "cancelled"
    assert flags["cancelled"] and not flags["finished"]
    assert run.result.reason == "cancelled"
    # the unanswered calls are answered in the saved history, so it can be continued
    assert run.result.messages[-1].role == "tool"
    assert not leftover_tasks()


async def test_cancel_while_one_tool_waits_cancels_it_and_reports_cancelled():
    """A single call runs in the run's own task (no task of its own): cancel() must
    still interrupt it where it waits."""
    slow, flags = slow_tool_and_flags()
    flags["started"] = asyncio.Event()
    model = ScriptedModel([call("slow", {"n": 1})])
    run = make_runtime(slow).run_stage(stage(tools=["slow"]), "x", model=model)
    consumer = asyncio.ensure_future(run.collect())
    await asyncio.wait_for(flags["started"].wait(), 2)
    run.cancel()
    result = await asyncio.wait_for(consumer, 2)
    assert result.reason == "cancelled"
    assert flags["cancelled"] and not flags["finished"]
    assert result.messages[-1].role == "tool"
    assert not leftover_tasks()


async def test_cancel_while_the_model_waits_stops_the_run_at_once():
    asked = asyncio.Event()

    async def never_answers(request):
        asked.set()
        await asyncio.sleep(30)
        return "too late"

    run = make_runtime().run_stage(stage(), "x", model=FunctionModel(never_answers))
    consumer = asyncio.ensure_future(run.collect())
    await asyncio.wait_for(asked.wait(), 2)
    run.cancel()
    result = await asyncio.wait_for(consumer, 2)
    assert result.reason == "cancelled" and result.error == "cancelled by request"
    assert not leftover_tasks()


async def test_cancel_between_events_stops_before_the_next_step():
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), "never requested"])
    run = make_runtime().run_stage(stage(), "x", model=model)
    events = []
    async for event in run:
        events.append(event)
        if event.type == "tool_result":
            run.cancel()
    assert events[-1].reason == "cancelled"
    assert model.remaining == 1  # the second turn was never asked for


async def test_consumer_closing_the_stream_cancels_running_work():
    slow, flags = slow_tool_and_flags()
    flags["started"] = asyncio.Event()
    model = ScriptedModel([[call("slow", {"n": 1}), call("slow", {"n": 2})]])
    run = make_runtime(slow).run_stage(stage(tools=["slow"]), "x", model=model)
    async for event in run:
        if event.type == "tool_called":
            break
    await run.aclose()
    assert run.result is not None and run.result.reason == "cancelled"
    assert not flags["finished"]
    assert not leftover_tasks()


async def test_cancelling_the_consumer_task_cancels_tools_and_leaks_nothing():
    slow, flags = slow_tool_and_flags()
    flags["started"] = asyncio.Event()
    model = ScriptedModel([[call("slow", {"n": 1}), call("slow", {"n": 2})]])
    run = make_runtime(slow).run_stage(stage(tools=["slow"]), "x", model=model)
    consumer = asyncio.ensure_future(run.collect())
    await asyncio.wait_for(flags["started"].wait(), 2)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert flags["cancelled"] and not flags["finished"]
    assert run.result.reason == "cancelled"
    assert not leftover_tasks()


async def test_abandoned_run_is_closed_without_leaks():
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), "x"])
    run = make_runtime().run_stage(stage(), "x", model=model)
    await run.__anext__()
    del run
    gc.collect()
    # the event loop's async-generator finalizer closes it on its next iterations
    for _ in range(5):
        await asyncio.sleep(0)
    assert not leftover_tasks()
    assert model.remaining == 2  # nothing was asked of the model after it was abandoned


async def test_many_runs_cancelled_at_once_leave_no_task():
    slow, flags = slow_tool_and_flags()
    flags["started"] = asyncio.Event()
    rt = make_runtime(slow)
    runs = [rt.run_stage(stage(tools=["slow"]), "x",
                         model=ScriptedModel([[call("slow", {"n": i}), call("slow", {"n": -i})]]))
            for i in range(50)]
    consumers = [asyncio.ensure_future(r.collect()) for r in runs]
    await asyncio.wait_for(flags["started"].wait(), 2)
    await asyncio.sleep(0.01)
    for r in runs:
        r.cancel()
    results = await asyncio.wait_for(asyncio.gather(*consumers), 5)
    assert {r.reason for r in results} == {"cancelled"}
    assert not leftover_tasks()
