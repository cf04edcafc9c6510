"""The executor: no waves, max_parallel, retries, timeouts, cancellation, error policies,
references resolved at execution time, and one event stream."""

from __future__ import annotations

from stageagent import events as ev
from stageagent.plan import PlanExecutor, Step

from .helpers import Busy, Recorder, plan_of, step


def types(events):
    return [e.type for e in events]


async def run_plan(rec, plan, **kwargs):
    return await PlanExecutor(rec.runner(), **kwargs).run(plan).wait()


async def test_a_step_starts_when_its_own_dependencies_are_done_not_in_waves():
    # a waits for a gate that only c opens; c depends on b. In waves ({a, b} then {c}) c
    # would wait for a, which waits for c: the total timeout would end the plan failed.
    rec = Recorder()
    plan = plan_of(step("a", "wait", params={"gate": "g", "tag": "a"}), step("b", "echo"),
                   step("c", "open", "b", params={"gate": "g", "tag": "c"}),
                   total_timeout_s=10)
    result = await run_plan(rec, plan)
    assert result.status == "completed", result.error
    assert rec.calls.index("c") < rec.calls.index("a")


async def test_max_parallel_is_respected():
    rec = Busy()
    plan = plan_of(*[step(f"s{i}", "busy", params={"tag": f"s{i}"}) for i in range(6)],
                   max_parallel=2)
    result = await run_plan(rec, plan)
    assert result.status == "completed"
    assert rec.max_active == 2 and sorted(rec.calls) == [f"s{i}" for i in range(6)]


async def test_an_idempotent_step_retries_with_backoff_and_events_say_so():
    rec = Recorder()
    plan = plan_of(step("f", "flaky", params={"key": "f", "failures": 2}, retries=3,
                        idempotent=True, backoff_s=0.001))
    result = await run_plan(rec, plan)
    assert result.status == "completed" and result.outputs["f"] == 3
    failed = [e for e in result.events if e.type == "step_failed"]
    assert [(e.attempt, e.will_retry) for e in failed] == [(1, True), (2, True)]
    assert "attempt 1 failed" in failed[0].error and failed[0].error_type == "ConnectionError"
    started = [e.attempt for e in result.events if e.type == "step_started"]
    assert started == [1, 2, 3]


def test_backoff_is_exponential_with_jitter_and_capped():
    from stageagent.plan.run import backoff_delay

    s = step("f", backoff_s=0.5, backoff_max_s=3.0, retries=5, idempotent=True)
    assert [backoff_delay(s, n, 1.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [backoff_delay(s, n, 0.0) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]


async def test_three_retries_and_a_timeout_give_four_full_attempts_each_with_its_timeout():
    rec = Recorder()
    plan = plan_of(step("h", "hang", params={"key": "h"}, retries=3, idempotent=True,
                        timeout_s=0.05, backoff_s=0))
    result = await run_plan(rec, plan)
    assert result.status == "failed"
    assert rec.attempts["h"] == 4
    assert rec.cancelled == ["h#1", "h#2", "h#3", "h#4"]  # each attempt ended by its timer
    assert result.steps["h"].error == "attempt 4 timed out after 0.05s"
    assert [e.attempt for e in result.events if e.type == "step_failed"] == [1, 2, 3, 4]


async def test_a_non_idempotent_step_runs_once():
    rec = Recorder()
    result = await run_plan(rec, plan_of(step("f", "flaky", params={"key": "f", "failures": 1})))
    assert result.status == "failed" and rec.attempts["f"] == 1


async def test_the_total_timeout_is_enforced_and_stops_running_steps():
    rec = Recorder()
    plan = plan_of(step("h", "hang", params={"key": "h"}), step("after", "echo", "h"),
                   total_timeout_s=0.1)
    result = await run_plan(rec, plan)
    assert result.status == "failed" and "total timeout of 0.1s" in result.error
    assert result.steps["h"].status == "cancelled" and rec.cancelled == ["h#1"]
    assert result.steps["after"].status == "cancelled"


async def test_a_step_that_ignores_cancellation_cannot_keep_the_plan_from_ending():
    import asyncio

    stop = asyncio.Event()

    async def stubborn() -> None:
        """Swallow every cancellation until the test is done."""
        while not stop.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    rec = Recorder()
    runner = rec.runner()
    runner.tools["stubborn"] = stubborn
    plan = plan_of(step("s", "stubborn"), total_timeout_s=0.05)
    result = await PlanExecutor(runner, cancel_grace_s=0.05).run(plan).wait()
    stop.set()
    assert result.status == "failed" and "total timeout" in result.error
    assert result.steps["s"].status == "cancelled"
    assert "did not stop within 0.05s" in result.steps["s"].error
    await asyncio.sleep(0.05)  # the stubborn coroutine sees the flag and returns...
    assert result.steps["s"].status == "cancelled"  # ...which changes nothing any more
    assert [e.type for e in result.events].count("plan_completed") == 1


async def test_cancel_during_execution_cancels_running_steps():
    rec = Recorder()
    plan = plan_of(step("h", "hang", params={"key": "h"}), step("k", "hang", params={"key": "k"}),
                   step("later", "echo", "h"))
    run = PlanExecutor(rec.runner()).run(plan)
    seen = []
    async for event in run:
        seen.append(event)
        if sum(e.type == "step_started" for e in seen) == 2:
            run.cancel()
    result = await run.wait()
    assert result.status == "cancelled"
    assert {s: result.steps[s].status for s in ("h", "k", "later")} == {
        "h": "cancelled", "k": "cancelled", "later": "cancelled"}
    assert sorted(rec.cancelled) == ["h#1", "k#1"]
    assert seen[-1].type == "plan_completed" and seen[-1].status == "cancelled"


async def test_stop_on_error_cancels_the_rest_and_keeps_completed_outputs():
    rec = Recorder()
    plan = plan_of(step("ok", params={"value": 41}), step("bad", "fail", "ok"),
                   step("slow", "hang", params={"key": "slow"}), step("after", "echo", "bad"))
    result = await run_plan(rec, plan)
    assert result.status == "failed" and "step 'bad' failed" in result.error
    assert result.outputs == {"ok": 41}
    assert result.steps["slow"].status == "cancelled" and rec.cancelled == ["slow#1"]
    assert result.steps["after"].status == "cancelled"


async def test_continue_on_error_skips_dependents_and_finishes_partial():
    rec = Recorder()
    plan = plan_of(step("bad", "fail"), step("child", "echo", "bad"),
                   step("grandchild", "echo", "child"), step("sibling", params={"value": 7}),
                   step("after_sibling", "echo", "sibling", params={"value": 8}),
                   on_error="continue", total_timeout_s=10)
    result = await run_plan(rec, plan)
    assert result.status == "partial"
    statuses = {k: v.status for k, v in result.steps.items()}
    assert statuses == {"bad": "failed", "child": "skipped", "grandchild": "skipped",
                        "sibling": "completed", "after_sibling": "completed"}
    assert result.outputs == {"sibling": 7, "after_sibling": 8}
    skipped = [e for e in result.events if e.type == "step_skipped"]
    assert {e.step_id for e in skipped} == {"child", "grandchild"}


async def test_references_resolve_at_execution_time():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": {"rows": [[1, "x"]], "n": 2}}),
                   step("b", "echo", "a", params={"value": "${steps.a.output.rows.0.1}"}),
                   step("c", "echo", "b", params={"value": "n=${steps.a.output.n}, "
                                                           "b=${steps.b.output}"}),
                   step("d", "echo", "a", params={"value": "${steps.a.output.rows}"}))
    result = await run_plan(rec, plan)
    assert result.outputs["b"] == "x"
    assert result.outputs["c"] == "n=2, b=x"
    assert result.outputs["d"] == [[1, "x"]]


async def test_a_reference_that_does_not_resolve_fails_its_step_clearly():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": {"rows": []}}),
                   step("b", "echo", "a", params={"value": "${steps.a.output.rows.3}"}))
    result = await run_plan(rec, plan)
    assert result.status == "failed"
    error = result.steps["b"].error
    assert "step 'b' params.value" in error and "not an index of a list of 0" in error


async def test_an_empty_plan_completes_with_progress_100_percent():
    result = await run_plan(Recorder(), plan_of())
    assert result.status == "completed" and result.progress == 1.0
    last = result.events[-1]
    assert last.type == "plan_completed" and last.progress == 1.0 and last.counts == {}


async def test_events_form_one_ordered_stream_that_round_trips():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}), step("b", "echo", "a"))
    run = PlanExecutor(rec.runner()).run(plan)
    events = [e async for e in run]
    assert types(events) == ["plan_created", "plan_started", "step_started", "step_completed",
                             "step_started", "step_completed", "plan_completed"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.run_id for e in events} == {run.run_id}
    for event in events:
        assert ev.parse_event(event.model_dump_json()) == event


async def test_stage_steps_nest_their_events_tagged_with_the_step_id():
    from stageagent import ScriptedModel, StageAwareRuntime, StageConfig
    from stageagent.plan import Catalog, RuntimeStepRunner

    config = StageConfig(name="echo_stage", tools=[], prompt_text="Say it: {{ input }}",
                         max_iterations=2)
    runtime = StageAwareRuntime()
    runtime.stages.register(config)
    runner = RuntimeStepRunner(runtime, model=ScriptedModel(["first", "second"]))
    catalog = Catalog.from_runtime(runtime, tools=[], stages=["echo_stage"])
    plan = plan_of(Step(id="one", kind="stage", target="echo_stage", params={"input": "a"}),
                   Step(id="two", kind="stage", target="echo_stage", depends_on=["one"],
                        params={"input": "after ${steps.one.output.text}"}))
    result = await PlanExecutor(runner, catalog=catalog).run(plan).wait()
    assert result.status == "completed"
    assert result.outputs["two"]["text"] == "second"
    nested = [e for e in result.events if e.type == "step_event"]
    assert {e.step_id for e in nested} == {"one", "two"}
    inner = [(e.step_id, e.event.type) for e in nested]
    assert ("one", "stage_started") in inner and ("two", "stage_completed") in inner
    assert runner.stage_results["two"].ok
    first_prompt = [e.event for e in nested if e.step_id == "two"][0]
    assert first_prompt.type == "stage_started"
    assert ev.parse_event(nested[0].model_dump_json()) == nested[0]
