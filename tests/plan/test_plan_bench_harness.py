"""The plan benchmark's harness runs and reports every figure (no timing is asserted)."""

from __future__ import annotations

from bench import plan_bench
from stageagent.plan import validate_plan


def test_the_benchmark_dags_are_valid_and_shaped_as_named():
    chain, fanout, random_dag = (plan_bench.dag(s, n=50) for s in ("chain", "fanout", "random"))
    for plan in (chain, fanout, random_dag):
        assert validate_plan(plan) == [] and len(plan.steps) == 50
    assert all(s.depends_on == [f"s{i - 1}"] for i, s in enumerate(chain.steps) if i)
    assert all(s.depends_on == ["s0"] for s in fanout.steps[1:])
    assert any(len(s.depends_on) > 1 for s in random_dag.steps)


async def test_each_figure_is_measured():
    assert await plan_bench.overhead("random", repeats=1) > 0
    assert await plan_bench.sqlite_per_transition(repeats=1) > 0
    assert await plan_bench.sleeping(seed=1, n=6) > 0
    assert await plan_bench.bare_sleeping(seed=1, n=6) > 0
    assert await plan_bench.bare_tasks(repeats=1) > 0
    ratio, sequential = await plan_bench.report(seconds_per_call=0.001)
    assert ratio > 0 and sequential >= 1.0
