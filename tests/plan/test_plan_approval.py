"""Approvals: an async approver or calls on the run; independent ids; nothing bypasses them."""

from __future__ import annotations

import asyncio

import pytest

from stageagent.exceptions import PlanStateError
from stageagent.plan import PlanExecutor, SQLitePlanStore, approval_id

from .helpers import Recorder, plan_of, step


async def next_event(run, kind):
    async for event in run:
        if event.type == kind:
            return event
    raise AssertionError(f"no {kind} event")


async def test_a_plan_waits_for_approval_and_runs_once_approved_on_the_run():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}), require_approval=True)
    run = PlanExecutor(rec.runner()).run(plan)
    asked = await next_event(run, "approval_requested")
    assert asked.approval_id == approval_id(plan.id, None) and asked.step_id is None
    assert rec.calls == [] and run.pending_approvals() == [asked.approval_id]
    await run.approve(asked.approval_id, by="ops@example.com")
    result = await run.wait()
    assert result.status == "completed" and rec.calls == ["1"]
    decided = [e for e in result.events if e.type == "approval_decided"]
    assert decided[0].approved and decided[0].by == "ops@example.com"


async def test_a_rejected_plan_never_runs_and_cannot_be_resumed(tmp_path):
    rec = Recorder()
    store = SQLitePlanStore(tmp_path / "plans.db")
    executor = PlanExecutor(rec.runner(), store)
    plan = plan_of(step("a", params={"value": 1}), require_approval=True)
    run = executor.run(plan)
    asked = await next_event(run, "approval_requested")
    await run.reject(asked.approval_id, by="lead", reason="not today")
    result = await run.wait()
    assert result.status == "cancelled" and "not today" in result.error
    assert rec.calls == []
    with pytest.raises(PlanStateError, match="was rejected"):
        await executor.resume(plan.id).wait()
    assert rec.calls == []
    await store.close()


async def test_an_approver_callback_decides_and_a_raising_approver_rejects():
    rec = Recorder()
    asked = []

    async def approver(request):
        asked.append(request.step_id)
        return (request.step_id != "risky", "too risky")

    plan = plan_of(step("safe", params={"value": 1}, requires_approval=True),
                   step("risky", params={"value": 2}, requires_approval=True),
                   step("after", "echo", "risky"), on_error="continue")
    result = await PlanExecutor(rec.runner(), approver=approver).run(plan).wait()
    assert sorted(asked) == ["risky", "safe"]
    assert result.status == "partial" and rec.calls == ["1"]
    assert result.steps["risky"].status == "failed" and "too risky" in result.steps["risky"].error
    assert result.steps["after"].status == "skipped"

    async def broken(request):
        raise ValueError("approver down")

    rec2 = Recorder()
    result = await PlanExecutor(rec2.runner(), approver=broken).run(
        plan_of(step("a", requires_approval=True))).wait()
    assert result.status == "failed" and rec2.calls == []
    assert "approver down" in result.steps["a"].error


async def test_pending_approvals_are_independent_and_decided_in_any_order():
    rec = Recorder()
    plan = plan_of(*(step(s, params={"value": s}, requires_approval=True) for s in "abc"),
                   on_error="continue")
    run = PlanExecutor(rec.runner()).run(plan)
    ids = set()
    async for event in run:
        if event.type == "approval_requested":
            ids.add(event.approval_id)
        if len(ids) == 3:
            break
    assert ids == {approval_id(plan.id, s) for s in "abc"}
    await run.approve(approval_id(plan.id, "c"))
    await run.reject(approval_id(plan.id, "a"), reason="no")
    with pytest.raises(PlanStateError, match="already decided"):
        await run.approve(approval_id(plan.id, "a"))
    with pytest.raises(PlanStateError, match="no approval"):
        await run.approve("nope")
    await run.approve(approval_id(plan.id, "b"))
    result = await run.wait()
    assert sorted(rec.calls) == ["b", "c"]
    assert result.steps["a"].status == "failed" and result.status == "partial"


async def test_an_approval_that_times_out_is_a_rejection():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}, requires_approval=True),
                   approval_timeout_s=0.05)
    result = await PlanExecutor(rec.runner()).run(plan).wait()
    assert result.status == "failed" and rec.calls == []
    decided = [e for e in result.events if e.type == "approval_decided"][0]
    assert not decided.approved and decided.by == "timeout"


async def test_auto_approve_runs_without_asking():
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}, requires_approval=True),
                   require_approval=True, auto_approve=True)
    result = await PlanExecutor(rec.runner()).run(plan).wait()
    assert result.status == "completed" and rec.calls == ["1"]
    assert not any(e.type == "approval_requested" for e in result.events)


async def test_a_decision_given_before_a_crash_is_honoured_after_it(tmp_path):
    """The run stops (its task is cancelled, as by Ctrl-C) after one approval was decided;
    resume must not ask again for it, must ask for the other, and must never run the
    rejected step."""
    rec = Recorder()
    path = tmp_path / "plans.db"
    plan = plan_of(step("yes", params={"value": "yes"}, requires_approval=True),
                   step("no", params={"value": "no"}, requires_approval=True),
                   step("open", params={"value": "open"}, requires_approval=True),
                   on_error="continue")
    store = SQLitePlanStore(path)
    run = PlanExecutor(rec.runner(), store).run(plan)
    asked = 0
    async for event in run:
        asked += event.type == "approval_requested"
        if asked == 3:
            break
    await run.reject(approval_id(plan.id, "no"), by="lead")
    # "yes" approved while its run is going away: the decision is stored first
    await run.approve(approval_id(plan.id, "yes"), by="lead")
    run.start().cancel()
    with pytest.raises(asyncio.CancelledError):
        await run.wait()
    await store.close()

    rec2 = Recorder()
    store2 = SQLitePlanStore(path)
    run2 = PlanExecutor(rec2.runner(), store2).resume(plan.id)
    requested = []
    async for event in run2:
        if event.type == "approval_requested":
            requested.append(event.step_id)
        if event.type == "plan_started":
            await run2.approve(approval_id(plan.id, "open"))
    result = await run2.wait()
    assert "no" not in rec.calls + rec2.calls
    assert sorted(rec.calls + rec2.calls) == ["open", "yes"]
    assert requested == []  # the request for "open" was already stored
    assert result.steps["no"].status == "failed" and result.status == "partial"
    # not even an explicit retry decision overrides a rejection
    rec3 = Recorder()
    again = await PlanExecutor(rec3.runner(), store2).resume(plan.id, retry=["no"]).wait()
    assert rec3.calls == [] and again.steps["no"].status == "failed"
    await store2.close()


async def test_cancel_while_the_plan_waits_for_approval_ends_it_cancelled():
    rec = Recorder()
    run = PlanExecutor(rec.runner()).run(plan_of(step("a"), require_approval=True))
    await next_event(run, "approval_requested")
    run.cancel("changed my mind")
    result = await run.wait()
    assert result.status == "cancelled" and result.error == "changed my mind"
    assert rec.calls == []
