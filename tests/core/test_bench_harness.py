"""The overhead benchmark's harness runs and reports every key (no timing is asserted)."""

from __future__ import annotations

from .helpers import load_bench

overhead = load_bench("overhead")


async def test_harness_measures_each_figure_on_a_small_scale():
    figures = await overhead.per_iteration((1, 3), repeats=2)
    assert set(figures) == {1, 3}
    for best, median in figures.values():
        assert 0 < best <= median
    assert await overhead.concurrent_runs(runs=20, turns=2, repeats=1) > 0
    assert await overhead.memory_per_run(runs=20, turns=2) > 0
    assert isinstance(await overhead.per_event(n=50, repeats=1), float)
    assert await overhead.bare_loop(turns=2, repeats=2) > 0
    assert await overhead.bare_loop(turns=2, repeats=2, floor=True) > 0


async def test_the_bare_loop_does_what_our_loop_does_per_iteration():
    # the same turns of the same script: a tool call, its result and an iteration event
    # for each of 3 turns, then the answer - the comparison is like for like
    events = [e async for e in overhead._bare_run(3)]
    assert [e["type"] for e in events] == ["tool_called", "tool_result",
                                           "iteration_completed"] * 3 + ["final"]
    assert [e["content"] for e in events if e["type"] == "tool_result"] == ["0", "1", "2"]
    assert events[-1] == {"type": "final", "turn": 4, "text": "done"}


async def test_the_zero_cost_model_scripts_every_turn_once():
    model = overhead._turns_model(3)
    assert overhead._turns_model(3) is model  # one model object serves every run
    rt, config = overhead._runtime(), overhead._stage(3)
    # stage_started, 3 x (tool_called, tool_result, iteration_completed), thought,
    # iteration_completed, stage_completed
    assert await overhead._one_run(rt, config, 3) == 13
    assert await overhead._one_run(rt, config, 3) == 13
