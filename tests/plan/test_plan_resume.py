"""Durable state and resume: kill -9 of a real process mid-plan, then `resume(plan_id)`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stageagent.exceptions import PlanStateError, UnknownPlanError
from stageagent.plan import PlanExecutor, SQLitePlanStore, load_state

from .helpers import Recorder, plan_of, step

ROOT = Path(__file__).resolve().parents[2]


def crash_plan():
    return plan_of(
        step("done", params={"value": "early"}),
        step("charge", "hang", "done", params={"key": "charge"}),  # not idempotent
        step("fetch", "hang", "done", params={"key": "fetch"}, idempotent=True),
        step("receipt", "echo", "charge", params={"value": "${steps.charge.output}"}),
        step("report", "echo", "fetch", params={"value": "${steps.done.output}"}),
        max_parallel=4)


def finishing(rec):
    """The resumed process's runner: "hang" returns at once."""
    runner = rec.runner()

    async def finish(key: str) -> str:
        rec.calls.append(f"finished {key}")
        return f"finished {key}"

    runner.tools["hang"] = finish
    return runner


async def wait_for_running(store, plan_id, steps, proc, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            state = await load_state(store, plan_id)
        except UnknownPlanError:
            state = None
        if state is not None and all(state.steps[s].status == "running" for s in steps):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never got the steps running")


async def kill_mid_plan(tmp_path, store=None, spec=None):
    plan = crash_plan()
    if store is None:
        spec = str(tmp_path / "plans.db")
        store = SQLitePlanStore(spec)
    (tmp_path / "plan.json").write_text(plan.model_dump_json())
    proc = subprocess.Popen([sys.executable, "-m", "tests.plan.crash_worker", spec,
                             str(tmp_path / "plan.json")], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        before = await wait_for_running(store, plan.id, ["charge", "fetch"], proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    assert before.status == "executing" and before.steps["done"].status == "completed"
    return store, plan


async def test_resume_after_kill_9_continues_without_rerunning_completed_steps(tmp_path):
    store, plan = await kill_mid_plan(tmp_path)
    found = await load_state(store, plan.id)
    assert found.status == "executing"  # as the dead process left it: recoverable

    rec = Recorder()
    result = await PlanExecutor(finishing(rec), store).resume(plan.id).wait()

    assert result.steps["done"].status == "completed" and result.outputs["done"] == "early"
    assert sorted(rec.calls) == ["early", "finished fetch"]  # report and fetch; not "done"
    charge = result.steps["charge"]
    assert charge.status == "failed" and charge.error_type == "interrupted"
    assert "not retried without a decision" in charge.error
    assert result.steps["fetch"].status == "completed"  # idempotent: ran again
    assert result.steps["receipt"].status == "skipped"
    assert result.steps["report"].status == "completed"
    assert result.status == "partial"

    # a decision to retry the interrupted step: it runs, and its dependent with it
    rec2 = Recorder()
    result = await PlanExecutor(finishing(rec2), store).resume(plan.id, retry=["charge"]).wait()
    assert result.status == "completed"
    assert rec2.calls == ["finished charge", "finished charge"]  # charge, then receipt
    assert result.outputs["receipt"] == "finished charge"
    await store.close()


async def test_kill_9_and_resume_on_postgresql(tmp_path, pg_store_factory):
    from .conftest import PG_URL

    first, make = pg_store_factory
    store, plan = await kill_mid_plan(tmp_path, first, f"{PG_URL}#{first.table_prefix}")
    rec = Recorder()
    result = await PlanExecutor(finishing(rec), make()).resume(plan.id).wait()
    assert sorted(rec.calls) == ["early", "finished fetch"]
    assert result.steps["charge"].error_type == "interrupted"
    assert result.status == "partial" and result.outputs["done"] == "early"


async def test_resume_runs_a_pending_step_whose_dependency_completed_earlier(tmp_path):
    store = SQLitePlanStore(tmp_path / "plans.db")
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 5}), step("b", "fail", "a"),
                   step("c", "echo", "a", params={"value": "${steps.a.output}"}),
                   max_parallel=1)
    first = await PlanExecutor(rec.runner(), store).run(plan).wait()
    assert first.status == "failed" and first.steps["c"].status == "cancelled"
    # the failing tool is fixed; "b" is not idempotent, so it needs the retry decision
    rec2 = Recorder()
    runner = rec2.runner()
    runner.tools["fail"] = rec2.echo
    result = await PlanExecutor(runner, store).resume(plan.id, retry=["b"]).wait()
    assert result.status == "completed" and result.outputs["c"] == 5
    assert rec.calls == ["5", "fail:boom"]  # the first run: a, then b failed
    assert rec2.calls == ["None", "5"]      # the resume: b (fixed), then c - never a again
    await store.close()


async def test_resume_after_cancel_does_not_report_completed(tmp_path):
    store = SQLitePlanStore(tmp_path / "plans.db")
    rec = Recorder()
    plan = plan_of(step("h", "hang", params={"key": "h"}), step("b", "echo", "h"))
    run = PlanExecutor(rec.runner(), store).run(plan)
    async for event in run:
        if event.type == "step_started":
            run.cancel()
    assert (await run.wait()).status == "cancelled"
    with pytest.raises(PlanStateError, match="cancelled"):
        await PlanExecutor(rec.runner(), store).resume(plan.id).wait()
    state = await load_state(store, plan.id)
    assert state.status == "cancelled" and state.steps["b"].status == "cancelled"
    await store.close()


async def test_a_plan_held_by_a_live_executor_is_not_resumed_twice(tmp_path):
    store = SQLitePlanStore(tmp_path / "plans.db")
    rec = Recorder()
    plan = plan_of(step("h", "hang", params={"key": "h"}))
    run = PlanExecutor(rec.runner(), store).run(plan)
    async for event in run:
        if event.type == "step_started":
            break
    with pytest.raises(PlanStateError, match="live executor"):
        await PlanExecutor(rec.runner(), SQLitePlanStore(tmp_path / "plans.db")).resume(
            plan.id).wait()
    run.cancel()
    assert (await run.wait()).status == "cancelled"
    await store.close()


async def test_resume_of_an_unknown_plan_is_a_clear_error():
    with pytest.raises(UnknownPlanError, match="no plan 'nope'"):
        await PlanExecutor(Recorder().runner()).resume("nope").wait()


async def test_resume_of_a_completed_plan_reruns_nothing(tmp_path):
    store = SQLitePlanStore(tmp_path / "plans.db")
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}))
    await PlanExecutor(rec.runner(), store).run(plan).wait()
    result = await PlanExecutor(rec.runner(), store).resume(plan.id).wait()
    assert result.status == "completed" and rec.calls == ["1"]
    await store.close()


async def test_running_a_plan_whose_id_is_already_stored_is_refused(tmp_path):
    store = SQLitePlanStore(tmp_path / "plans.db")
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}))
    await PlanExecutor(rec.runner(), store).run(plan).wait()
    with pytest.raises(PlanStateError, match="already in the store"):
        await PlanExecutor(rec.runner(), store).run(plan).wait()
    assert rec.calls == ["1"] and len(await store.records(plan.id)) == 6
    await store.close()
