"""Faults the runtime must survive: time limits, stray cancellations, closing the stream
early, cancelling mid-event, trimming a follow-up, many derived configs, concurrent state
writes. Each test failed before its fix (issue 8)."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import tracemalloc
import weakref

import pytest

from stageagent import FunctionModel, ScriptedModel, ToolContext, UserMessage, call, tool
from stageagent.exceptions import ModelTimeoutError
from stageagent.runtime import CACHE_SIZE
from stageagent.stage_config import StageBudget, StageLimits, StageTimeouts
from stageagent.watchdog import watchdog_for

from .helpers import add, events_of, make_runtime, stage


async def never_answers(request):
    await asyncio.Event().wait()


def leftover_tasks():
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


# --- 2: time limits --------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
async def test_model_timeout_is_enforced_for_any_model(stream):
    config = stage(timeouts=StageTimeouts(stage_s=None, model_s=0.05))
    run = make_runtime().run_stage(config, "x", model=FunctionModel(never_answers),
                                   stream=stream)
    events = await asyncio.wait_for(events_of(run), 5)
    assert events[-1].reason == "timeout"
    assert "timeouts.model_s = 0.05 s" in events[-1].error
    assert not leftover_tasks()


async def test_adapter_model_timeout_error_ends_the_stage_as_timeout():
    error = ModelTimeoutError("request timed out", provider="anthropic", model="m")
    events = await events_of(make_runtime().run_stage(stage(), "x", model=ScriptedModel([error])))
    assert events[-1].reason == "timeout" and "request timed out" in events[-1].error


@pytest.mark.parametrize("stage_s", [None, 30.0])
async def test_a_model_raising_timeout_error_is_an_error_not_the_stage_deadline(stage_s):
    def upstream_gave_up(request):
        raise TimeoutError("upstream gave up")

    config = stage(timeouts=StageTimeouts(stage_s=stage_s))
    events = await events_of(make_runtime().run_stage(config, "x",
                                                      model=FunctionModel(upstream_gave_up)))
    assert events[-1].reason == "error"
    assert events[-1].error == "TimeoutError: upstream gave up"


async def test_a_tool_raising_timeout_error_under_a_timeout_is_not_reported_as_ours():
    @tool(timeout=30)
    async def flaky() -> str:
        """Its own client timed out, long before our limit."""
        await asyncio.sleep(0)
        raise TimeoutError("upstream took too long")

    model = ScriptedModel([call("flaky"), "gave up"])
    events = await events_of(make_runtime(flaky).run_stage(stage(tools=["flaky"]), "x",
                                                           model=model))
    result = next(e for e in events if e.type == "tool_result")
    assert result.content == "Tool 'flaky' raised TimeoutError: upstream took too long"


# --- 3: a CancelledError that is not a cancellation of the run -------------------------


async def test_a_tool_awaiting_a_cancelled_future_is_an_error_observation():
    @tool
    async def waits_on_cancelled() -> str:
        """Awaits a future someone else cancelled."""
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        return await future

    @tool
    async def cancelled_later() -> str:
        """Suspends first, then the future it waits on is cancelled."""
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.cancel)
        return await future

    model = ScriptedModel([call("waits_on_cancelled"), call("cancelled_later"), "done"])
    rt = make_runtime(waits_on_cancelled, cancelled_later)
    run = rt.run_stage(stage(tools=["waits_on_cancelled", "cancelled_later"]), "x", model=model)
    events = await events_of(run)
    results = [e for e in events if e.type == "tool_result"]
    assert [r.is_error for r in results] == [True, True]
    assert all("raised CancelledError" in r.content for r in results)
    assert events[-1].reason == "completed"


async def test_a_model_raising_cancelled_error_ends_with_error_and_spares_the_consumer():
    def confused(request):
        raise asyncio.CancelledError()

    events = await events_of(make_runtime().run_stage(stage(), "x", model=FunctionModel(confused)))
    assert events[-1].reason == "error" and "CancelledError" in events[-1].error
    assert asyncio.current_task().cancelling() == 0


# --- 4: leaving the stream early -------------------------------------------------------


async def test_aclose_right_after_the_first_event_sets_the_result_and_the_deadline_goes():
    config = stage(timeouts=StageTimeouts(stage_s=600))
    run = make_runtime().run_stage(config, "x", model=ScriptedModel(["never asked"]))
    first = await run.__anext__()
    assert first.type == "stage_started"
    assert len(watchdog_for(asyncio.get_running_loop())) == 1
    await run.aclose()
    assert run.result is not None and run.result.reason == "cancelled"
    assert len(watchdog_for(asyncio.get_running_loop())) == 0


async def test_aclose_before_the_first_event_sets_the_result():
    run = make_runtime().run_stage(stage(), "x", model=ScriptedModel(["never asked"]))
    await run.aclose()
    assert run.result is not None and run.result.reason == "cancelled"


# --- 12: cancel takes effect at the next event boundary --------------------------------


async def test_cancel_while_text_deltas_stream_stops_at_the_next_event():
    model = ScriptedModel([["first ", "second ", "third"]])  # three text parts: three deltas
    run = make_runtime().run_stage(stage(), "x", model=model, stream=True)
    events = []
    async for event in run:
        events.append(event)
        if event.type == "text_delta":
            run.cancel()
    assert [e.type for e in events] == ["stage_started", "text_delta", "stage_completed"]
    assert events[-1].reason == "cancelled" and run.result.reason == "cancelled"
    assert not leftover_tasks()  # the model's stream was closed, not left to the collector


async def test_cancel_while_holding_the_answer_does_not_complete():
    run = make_runtime().run_stage(stage(), "x", model=ScriptedModel(["the answer"]))
    async for event in run:
        if event.type == "thought":
            run.cancel()
    assert run.result.reason == "cancelled"


async def test_cancel_while_holding_tool_called_starts_no_tool():
    ran = []

    @tool
    async def record(n: int) -> int:
        """Records that it ran."""
        ran.append(n)
        return n

    model = ScriptedModel([[call("record", {"n": 1}), call("record", {"n": 2})], "done"])
    run = make_runtime(record).run_stage(stage(tools=["record"]), "x", model=model)
    events = []
    async for event in run:
        events.append(event)
        if event.type == "tool_called":
            run.cancel()
    assert ran == []
    assert [e.type for e in events] == ["stage_started", "tool_called", "stage_completed"]
    assert events[-1].reason == "cancelled"
    assert [e.seq for e in events] == [1, 2, 3]
    # the calls are answered in the saved history, so it can be continued
    last = run.result.messages[-1]
    assert last.role == "tool" and all("Not executed" in r.content for r in last.results)


# --- 5: trimming a follow-up whose history opens with a tool call ----------------------


async def test_trimming_a_follow_up_never_splits_a_call_from_its_result():
    rt = make_runtime()
    first = await rt.run(stage(), "add", history=None,
                         model=ScriptedModel([call("add", {"a": 1, "b": 2}), "3"]))
    earlier = first.messages[2:]  # opens with the assistant's tool call
    assert earlier[0].role == "assistant" and earlier[0].tool_calls
    seen = []

    def model_fn(request):
        seen.append(request.messages)
        if len(seen) > 25:
            return "done"
        return call("add", {"a": len(seen), "b": 1})

    config = stage(budget=StageBudget(context_tokens=300), max_iterations=30,
                   limits=StageLimits(loop_repeats=50))
    run = rt.run_stage(config, "the follow-up task", history=earlier,
                       model=FunctionModel(model_fn))
    events = await events_of(run)
    assert events[-1].reason == "completed"
    assert len(seen[-1]) < len(run.result.messages)  # the window was trimmed
    for window in seen:
        assert window[0].role == "system"
        assert any(m.role == "user" and m.content == "the follow-up task" for m in window)
        for i, message in enumerate(window):
            if message.role == "tool":
                before = window[i - 1]
                assert before.role == "assistant"
                assert [r.tool_call_id for r in message.results] == \
                    [c.id for c in before.tool_calls]
            if message.role == "assistant" and message.tool_calls:
                assert i + 1 < len(window) and window[i + 1].role == "tool"


# --- 6: derived configs do not grow memory ---------------------------------------------


def derived(base, i):
    return base.model_copy(update={"prompt_text": f"Stage {{{{ stage.name }}}} #{i}: {{{{ input }}}}"})


async def test_many_derived_configs_are_not_kept_forever():
    rt = make_runtime()
    base = stage(tools=["add"])
    refs = []
    for i in range(CACHE_SIZE * 2):
        config = derived(base, i)
        refs.append(weakref.ref(config))
        await rt.run(config, "x", model=ScriptedModel(["ok"]))
    del config
    gc.collect()
    assert sum(r() is not None for r in refs) <= CACHE_SIZE


async def test_memory_stays_flat_over_many_derived_configs():
    rt = make_runtime()
    base = stage(tools=["add"])

    async def runs(start, count):
        for i in range(start, start + count):
            await rt.run(derived(base, i), "x", model=ScriptedModel(["ok"]))

    tracemalloc.start()  # before the caches fill: what they drop was traced too
    try:
        await runs(0, CACHE_SIZE + 50)  # the caches are full from here on
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        await runs(10_000, 600)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 200 * 1024, f"{grown / 1024:.0f} KB kept over 600 runs"


# --- 11: concurrent calls and the run's state ------------------------------------------


async def test_concurrent_state_writes_are_applied_in_call_order():
    @tool(read_only=True, parallel_safe=True)
    async def remember(ctx: ToolContext, value: str, delay: float) -> str:
        """Writes the run state after `delay` seconds."""
        await asyncio.sleep(delay)
        ctx.state["last"] = value
        return value

    both = [call("remember", {"value": "earlier", "delay": 0.05}),
            call("remember", {"value": "later", "delay": 0.0})]  # the later call ends first
    run = make_runtime(remember).run_stage(stage(tools=["remember"]), "x",
                                           model=ScriptedModel([both, "done"]))
    await events_of(run)
    assert run.result.state["last"] == "later"


def test_tools_that_write_the_state_are_not_parallel_safe():
    from stageagent.tools.chart.tools import chart_type_selector, data_analyzer
    from stageagent.tools.sql import sql_executor

    for t in (sql_executor, data_analyzer, chart_type_selector):
        assert t.read_only and not t.parallel_safe, t
    assert add.read_only and add.parallel_safe  # the default follows read_only


async def test_two_executor_calls_in_one_turn_leave_the_later_result(tmp_path):
    from types import SimpleNamespace

    from stageagent.tools.results import STATE_SQL_RESULT
    from stageagent.tools.sql import Database, sql_executor

    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
    db = Database(str(path))
    try:
        turn = [call("sql_executor", {"sql": "SELECT COUNT(*) AS slow FROM t a, t b"}),
                call("sql_executor", {"sql": "SELECT 2 AS later"})]
        rt = make_runtime(sql_executor, deps=SimpleNamespace(database=db))
        run = rt.run_stage(stage(tools=["sql_executor"]), "x",
                           model=ScriptedModel([turn, "done"]))
        events = await events_of(run)
        assert not any(e.is_error for e in events if e.type == "tool_result")
        assert run.result.state[STATE_SQL_RESULT].column_names == ["later"]
    finally:
        db.close()
