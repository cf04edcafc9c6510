"""`PlanRun`: one execution of a plan - approvals, scheduling, retries, timeouts, events.

Every transition is a `Record` appended to the store first, then applied to the in-memory
`PlanState`, then announced as an event (`_write`). Each step runs in its own task the
moment its last dependency completes; at most `max_parallel` run at once. A failed step
(after its retries, idempotent steps only) stops the plan (`on_error="stop"`: running
steps are cancelled, the rest is cancelled) or skips its transitive dependents
(`"continue"`: the plan ends `partial`). Outputs of completed steps are kept either way.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, Self

from .. import events as ev
from ..events import BaseEvent, Emitter
from ..exceptions import PlanReferenceError, PlanStateError
from ..deadline import resume_suspended
from .announce import announce
from .approval import Approvals
from .model import ExecutionPlan, Step, progress
from .recovery import check_resumable, settle
from .references import has_references, resolve
from .runner import StepContext
from .scheduler import Schedule
from .store import HOST, Lease, PlanState, Record, StepState, load_state
from .validation import validate_plan

if TYPE_CHECKING:
    from .executor import PlanExecutor

_clock = time.perf_counter


class Replanner(Protocol):
    async def revise(self, state: PlanState, failed_step: str,
                     error: str) -> ExecutionPlan | None:
        """A revised plan (completed and running steps unchanged), or None to give up."""


@dataclass
class PlanResult:
    plan_id: str
    status: str
    error: str | None
    outputs: dict[str, Any]
    steps: dict[str, StepState]
    events: list[BaseEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @property
    def progress(self) -> float:
        return progress([s.status for s in self.steps.values()])


class PlanRun:
    """Iterate for events (`async for`), or `await wait()` for the `PlanResult`."""

    def __init__(self, executor: PlanExecutor, *, plan: ExecutionPlan | None = None,
                 plan_id: str | None = None, retry: list[str] | None = None,
                 run_id: str | None = None, emitter: Emitter | None = None):
        self.executor = executor
        self.store = executor.store
        self.plan_id = plan.id if plan is not None else str(plan_id)
        self.emitter = emitter or Emitter(run_id or uuid.uuid4().hex[:16])
        self.events: list[BaseEvent] = []
        self.state: PlanState | None = None
        self.approvals: Approvals | None = None
        self._new_plan = plan
        self._retry = retry or []
        self._steps: dict[str, Step] = {}
        self._with_refs: set[str] = set()
        self._outputs: dict[str, Any] = {}
        self._running: dict[str, asyncio.Task[str]] = {}
        self._approving: dict[str, asyncio.Task[Any]] = {}  # step (or "" for the plan) -> wait
        self._parked: dict[str, Any] = {}  # hand-started step coroutines, by step
        self._unstarted: dict[str, Any] = {}  # step coroutines whose task has not begun
        self._done: deque[tuple[str, str]] = deque()
        self._wake = asyncio.Event()
        self._new_event = asyncio.Event()
        self._stop: tuple[str, str] | None = None  # (cancelled|timeout|error, message)
        self._task: asyncio.Task[PlanResult] | None = None
        self._cursor = 0  # the next event `__anext__` hands out
        self._replans = 0
        self._abandoning = False
        self._pumping = False
        self._grace_until: float | None = None  # stopping: when to give up on running steps
        self._abandoned: set[str] = set()  # steps given up on: nothing more is recorded
        self._cleared: set[str] = set()  # steps whose approval was granted
        self._schedule: Schedule = Schedule(ExecutionPlan(), {})
        self._started = 0.0
        self._lease = Lease(self.plan_id, uuid.uuid4().hex, os.getpid(), HOST, 0.0)

    @property
    def run_id(self) -> str:
        return self.emitter.run_id

    # --- control -----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> asyncio.Task[PlanResult]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._main())
        return self._task

    async def wait(self) -> PlanResult:
        return await self.start()

    def cancel(self, reason: str = "cancelled by the caller") -> None:
        """Stop: running steps are cancelled, nothing new starts, the plan ends cancelled."""
        if self._stop is None:
            self._stop = ("cancelled", reason)
        self._wake.set()
        if self.approvals is not None:
            for task in self._approving.values():
                task.cancel()

    async def approve(self, approval_id: str, by: str = "", reason: str = "") -> None:
        await self._approvals().decide(approval_id, True, by, reason)

    async def reject(self, approval_id: str, by: str = "", reason: str = "") -> None:
        await self._approvals().decide(approval_id, False, by, reason)

    def pending_approvals(self) -> list[str]:
        return [a.approval_id for a in self.approvals.pending()] if self.approvals else []

    def _approvals(self) -> Approvals:
        if self.approvals is None:
            raise PlanStateError(f"plan {self.plan_id!r} has not started yet")
        return self.approvals

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> BaseEvent:
        task = self.start()
        while self._cursor >= len(self.events):
            if task.done():
                task.result()  # raises what the run raised
                raise StopAsyncIteration
            self._new_event.clear()
            waiter = asyncio.ensure_future(self._new_event.wait())
            await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        event = self.events[self._cursor]
        self._cursor += 1
        return event

    # --- transitions ---------------------------------------------------------------------

    def _emit(self, event: BaseEvent) -> None:
        self.events.append(event)
        self._new_event.set()
        if self.executor.on_event is not None:
            self.executor.on_event(event)

    def emit_nested(self, step_id: str, event: BaseEvent) -> None:
        self._emit(self.emitter.make(ev.StepEvent, plan_id=self.plan_id, step_id=step_id,
                                     event=event))

    async def _write(self, kind: str, step_id: str | None, data: dict[str, Any]) -> None:
        """Store, apply, announce - in this order."""
        if step_id is not None and step_id in self._abandoned:
            return  # a step given up on ended late: its plan has moved on
        record = Record(self.plan_id, kind, step_id, data, time.time())
        await self.store.append(record)
        assert self.state is not None
        self.state.apply(record)
        event = announce(self.emitter, self.plan_id, self._steps, kind, step_id, data)
        if event is not None:
            self._emit(event)

    async def _set_status(self, status: str, error: str | None = None) -> None:
        await self._write("plan_status", None, {"status": status, "error": error})

    # --- the run ---------------------------------------------------------------------------

    async def _main(self) -> PlanResult:
        state = await self._prepare()
        heartbeat: asyncio.Task[None] | None = None
        try:
            if state.status == "completed":  # resumed after the end: nothing left to do
                self._emit_completed()
                return self._finish_result()
            if not await self._approve_plan():
                return self._finish_result()
            self._started = _clock()
            await self._set_status("executing")
            heartbeat = asyncio.ensure_future(self._heartbeat())
            self._emit(self.emitter.make(ev.PlanStarted, plan_id=self.plan_id,
                                         steps=len(state.plan.steps),
                                         resumed=self._new_plan is None))
            await self._recover()
            await self._execute_all()
            await self._conclude()
            return self._finish_result()
        except BaseException:
            await self._abandon()
            raise
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            await self.store.release_lease(self._lease)

    async def _prepare(self) -> PlanState:
        plan = self._new_plan
        if plan is not None:
            if await self.store.records(plan.id):
                raise PlanStateError(f"plan {plan.id!r} is already in the store: resume it "
                                     "(resume(plan_id)), or give the new plan another id")
            self.state = PlanState(plan=plan)
            await self._take_lease()
            dumped = plan.model_dump(mode="json")
            await self._write("plan", None, {"plan": dumped})
            self._emit(self.emitter.make(ev.PlanCreated, plan_id=plan.id, plan=dumped))
        else:
            self.state = await load_state(self.store, self.plan_id)
            check_resumable(self.plan_id, self.state)
            await self._take_lease()
            self.state = await load_state(self.store, self.plan_id)  # after the lease: final
        self._index(self.state.plan)
        self.approvals = Approvals(self.plan_id, self.state.approvals, self._write,
                                   self.executor.approver)
        return self.state

    def _index(self, plan: ExecutionPlan) -> None:
        self._steps = {s.id: s for s in plan.steps}
        self._with_refs = {s.id for s in plan.steps if has_references(s.params)}
        assert self.state is not None
        self._outputs = self.state.outputs()

    async def _take_lease(self) -> None:
        held = await self.store.acquire_lease(self._lease, ttl=self.executor.lease_ttl)
        if held is not None:
            raise PlanStateError(f"plan {self.plan_id!r} is being executed by a live executor "
                                 f"(pid {held.pid} on {held.host}, heartbeat "
                                 f"{time.time() - held.heartbeat:.1f}s ago)")

    async def _heartbeat(self) -> None:
        interval = max(0.05, self.executor.lease_ttl / 3)
        while True:
            await asyncio.sleep(interval)
            await self.store.renew_lease(self._lease)

    async def _approve_plan(self) -> bool:
        assert self.state is not None and self.approvals is not None
        options = self.state.plan.options
        if self.state.status not in ("draft", "pending_approval"):
            return True  # approved (or running) before: the decision stands
        if not options.require_approval or options.auto_approve:
            await self._set_status("approved")
            return True
        await self._set_status("pending_approval")
        summary = f"{len(self.state.plan.steps)} step(s): {self.state.plan.goal}".strip()
        waiting = asyncio.ensure_future(
            self.approvals.obtain(None, summary, options.approval_timeout_s))
        self._approving[""] = waiting  # cancel() stops the wait too
        try:
            decision = await waiting
        except asyncio.CancelledError:
            if self._stop is None or not waiting.cancelled():
                raise  # the run itself is being stopped
            await self._set_status("cancelled", self._stop[1])
            self._emit_completed()
            return False
        finally:
            self._approving.pop("", None)
        if not decision.approved:
            await self._set_status("cancelled", f"rejected by {decision.by or '?'}: "
                                                 f"{decision.reason or 'no reason'}")
            self._emit_completed()
            return False
        await self._set_status("approved")
        return True

    async def _recover(self) -> None:
        """Resume: record the retry decisions, then settle what an earlier run left."""
        assert self.state is not None
        for sid in self._retry:
            if sid not in self.state.steps:
                raise PlanStateError(f"resume(retry=...): plan {self.plan_id!r} has no step "
                                     f"{sid!r}")
            await self._write("retry_decision", sid, {"attempt": self.state.steps[sid].attempts})
        for step_id, data in settle(self.plan_id, self.state):
            await self._write("step", step_id, data)

    # --- scheduling -----------------------------------------------------------------------

    async def _execute_all(self) -> None:
        """The scheduling loop: starts what is ready, settles what ended (skips, stops,
        re-plans). A step that completes starts its ready dependents itself (`_settled`),
        without waiting for this loop."""
        assert self.state is not None
        options = self.state.plan.options
        deadline_handle = None
        if options.total_timeout_s is not None:
            deadline_handle = asyncio.get_running_loop().call_later(
                options.total_timeout_s, self._expire, options.total_timeout_s)
        try:
            self._schedule = await self._new_schedule()
            while True:
                if self._stop is None:
                    self._pump()
                if not self._running and not self._approving and not self._done:
                    break
                if not self._done:
                    if not await self._wait_for_wake():
                        await self._abandon_stubborn()
                        continue
                if self._stop is not None:
                    self._cancel_running()
                while self._done:
                    step_id, outcome = self._done.popleft()
                    self._schedule = await self._finished(self._schedule, step_id, outcome)
        finally:
            if deadline_handle is not None:
                deadline_handle.cancel()

    async def _wait_for_wake(self) -> bool:
        """Wait for a step to end. Once the plan is stopping, wait at most the executor's
        `cancel_grace_s` (False: it passed) - a step that ignores its cancellation must not
        keep the plan from ending."""
        if self._stop is None:
            await self._wake.wait()
        else:
            if self._grace_until is None:
                self._grace_until = _clock() + self.executor.cancel_grace_s
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, self._grace_until - _clock()))
            except TimeoutError:
                return False
        self._wake.clear()
        return True

    async def _abandon_stubborn(self) -> None:
        """Give up on steps that did not stop when cancelled: recorded cancelled, left
        behind (their tasks stay cancelled and are not awaited)."""
        grace = self.executor.cancel_grace_s
        for step_id in list(self._running):
            del self._running[step_id]
            await self._skip(step_id, f"did not stop within {grace}s of being cancelled "
                                      "(abandoned)", status="cancelled")
            self._abandoned.add(step_id)

    async def _new_schedule(self) -> Schedule:
        assert self.state is not None
        schedule = Schedule(self.state.plan, self.state.steps)
        busy = self._running.keys() | self._approving.keys()
        if busy:
            schedule.ready = deque(s for s in schedule.ready if s not in busy)
        for step_id in schedule.blocked:
            await self._skip(step_id, "a dependency did not complete")
        return schedule

    def _expire(self, seconds: float) -> None:
        if self._stop is None:
            self._stop = ("timeout", f"the plan's total timeout of {seconds}s expired")
        self._wake.set()

    def _cancel_running(self) -> None:
        for task in (*self._running.values(), *self._approving.values()):
            if not task.done():
                task.cancel()

    def _pump(self) -> None:
        """Start ready steps up to `max_parallel`. Not re-entrant: a step that completes
        while being started adds its dependents to the queue this loop is draining."""
        if self._pumping or self._stop is not None or self._done:
            return  # an ended step awaits the loop (a failure may stop or re-plan): hold
        assert self.state is not None
        options = self.state.plan.options
        schedule, running = self._schedule, self._running
        self._pumping = True
        try:
            while schedule.ready and len(running) < options.max_parallel \
                    and self._stop is None and not self._done:
                step_id = schedule.ready.popleft()
                schedule.take(step_id)
                step = self._steps[step_id]
                if step.requires_approval and not options.auto_approve \
                        and step_id not in self._cleared:
                    task = asyncio.ensure_future(self._approve_step(step))
                    self._approving[step_id] = task
                    task.add_done_callback(partial(self._on_done, step_id))
                    continue
                self._launch(step)
        finally:
            self._pumping = False

    def _launch(self, step: Step) -> None:
        """Start a step. A tool step without a timeout is stepped by hand first (as the
        runtime does with tool calls): most finish without suspending and need no task;
        one that suspends goes on in a task of its own. Stage steps and steps with a
        timeout (their timer must cancel their own task) get a task from the start."""
        coro = self._run_step(step)
        if step.kind == "tool" and step.timeout_s is None:
            try:
                pending = coro.send(None)
            except StopIteration as stop:
                self._settled(step.id, stop.value)
                return
            except BaseException:  # noqa: BLE001 - recorded like a crashed task
                self._settled(step.id, "crashed")
                return
            task = asyncio.ensure_future(self._in_task(step.id, coro, pending))
            self._parked[step.id] = coro
        else:
            task = asyncio.ensure_future(self._in_task(step.id, coro))
            self._unstarted[step.id] = coro
        self._running[step.id] = task
        task.add_done_callback(partial(self._on_done, step.id))

    async def _in_task(self, step_id: str, coro: Any, pending: Any = None) -> str:
        """A step's own task: drives its coroutine (from where `_launch` left it)."""
        self._unstarted.pop(step_id, None)
        outcome: str = await (coro if pending is None else resume_suspended(coro, pending))
        self._running.pop(step_id, None)
        self._parked.pop(step_id, None)
        self._settled(step_id, outcome)
        return outcome

    def _settled(self, step_id: str, outcome: str) -> None:
        """A step ended: a completed one makes its dependents ready and starts them now;
        anything else goes to the scheduling loop."""
        if outcome == "completed" and self._stop is None:
            self._schedule.completed(step_id)
            self._pump()
        else:
            self._done.append((step_id, outcome))
        if self._done or not self._running:
            self._wake.set()

    def _on_done(self, step_id: str, task: asyncio.Task[str]) -> None:
        """Approval tasks, and step tasks that never got to `_settled` (cancelled before
        they started, or crashed)."""
        if self._approving.get(step_id) is task:
            del self._approving[step_id]
        elif not (task.cancelled() or task.exception() is not None):
            return  # a step task that settled itself
        if self._running.get(step_id) is task:
            del self._running[step_id]
        parked = self._parked.pop(step_id, None)
        if parked is not None and task.cancelled():
            _cancel_parked(parked)
        unstarted = self._unstarted.pop(step_id, None)
        if unstarted is not None:
            unstarted.close()  # cancelled before it began: it never ran
        outcome = "cancelled" if task.cancelled() else (
            "crashed" if task.exception() is not None else task.result())
        self._done.append((step_id, outcome))
        self._wake.set()

    async def _approve_step(self, step: Step) -> str:
        assert self.state is not None and self.approvals is not None
        summary = step.description or f"{step.kind} {step.target} with {step.params}"
        decision = await self.approvals.obtain(step.id, summary,
                                               self.state.plan.options.approval_timeout_s)
        if decision.approved:
            return "approved"
        await self._write("step", step.id, {
            "status": "failed", "attempt": self.state.steps[step.id].attempts,
            "error_type": "rejected", "error": f"not approved ({decision.by or '?'}: "
                                               f"{decision.reason or 'no reason'})"})
        return "failed"

    async def _finished(self, schedule: Schedule, step_id: str, outcome: str) -> Schedule:
        assert self.state is not None
        if outcome == "approved":
            self._cleared.add(step_id)
            schedule.ready.appendleft(step_id)  # started by the next pump, within max_parallel
            return schedule
        if outcome == "completed":
            schedule.completed(step_id)
            return schedule
        if outcome == "cancelled" and self.state.steps[step_id].status == "running":
            await self._skip(step_id, self._stop_message(), status="cancelled")
        if outcome == "crashed":
            await self._write("step", step_id, {"status": "failed", "error_type": "crashed",
                                                "error": "the step's task crashed",
                                                "attempt": self.state.steps[step_id].attempts})
        if outcome not in ("failed", "crashed") or self._stop is not None:
            return schedule
        revised = await self._replan(step_id)
        if revised:
            return await self._new_schedule()
        if self.state.plan.options.on_error == "stop":
            self._stop = ("error", f"step {step_id!r} failed: {self.state.steps[step_id].error}")
            self._cancel_running()
            return schedule
        for child in schedule.unreachable(step_id):
            await self._skip(child, f"depends on {step_id!r}, which did not complete")
        return schedule

    async def _skip(self, step_id: str, reason: str, status: str = "skipped") -> None:
        assert self.state is not None
        await self._write("step", step_id, {"status": status, "error": reason,
                                            "attempt": self.state.steps[step_id].attempts})

    # --- one step ----------------------------------------------------------------------------

    async def _run_step(self, step: Step) -> str:
        assert self.state is not None
        base = attempt = self.state.steps[step.id].attempts
        runner = self.executor.runner
        while True:
            attempt += 1
            try:
                params = (resolve(step.params, self._outputs, step.id)
                          if step.id in self._with_refs else dict(step.params))
            except PlanReferenceError as exc:
                await self._write("step", step.id, {"status": "failed", "attempt": attempt,
                                                    "error": str(exc), "error_type": "reference"})
                return "failed"
            await self._write("step", step.id, {"status": "running", "attempt": attempt})
            started = _clock()
            ctx = StepContext(self.plan_id, self.run_id, step.id, attempt,
                              partial(self.emit_nested, step.id))
            try:
                if step.timeout_s is None:
                    output = await runner.run(step, params, ctx)
                else:
                    async with asyncio.timeout(step.timeout_s):
                        output = await runner.run(step, params, ctx)
            except asyncio.CancelledError:
                if self._abandoning:  # the executor goes away: leave it "running" for resume
                    raise
                await self._write("step", step.id, {"status": "cancelled", "attempt": attempt,
                                                    "error": self._stop_message()})
                return "cancelled"
            except Exception as exc:  # noqa: BLE001 - a failed attempt, recorded
                retry = step.idempotent and attempt - base <= step.retries
                await self._write("step", step.id, {
                    "status": "pending" if retry else "failed", "attempt": attempt,
                    "error": _describe(exc, step, attempt), "error_type": type(exc).__name__})
                if not retry:
                    return "failed"
                if not await self._backoff(step, attempt - base):
                    return "cancelled"
                continue
            flag = self.executor.flag_result
            problem = flag(step, output) if flag is not None else None
            if problem:  # a result judged unusable: a failure (re-planned if possible)
                await self._write("step", step.id, {
                    "status": "failed", "attempt": attempt, "output": output,
                    "error": f"result flagged: {problem}", "error_type": "flagged"})
                return "failed"
            self._outputs[step.id] = output
            await self._write("step", step.id, {
                "status": "completed", "attempt": attempt, "output": output,
                "duration_ms": round((_clock() - started) * 1000, 3)})
            return "completed"

    async def _backoff(self, step: Step, failures: int) -> bool:
        """Sleep before the next attempt (exponential, jittered); False if cancelled."""
        delay = backoff_delay(step, failures, self.executor.random())
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if self._abandoning:
                raise
            assert self.state is not None
            await self._write("step", step.id, {
                "status": "cancelled", "attempt": self.state.steps[step.id].attempts,
                "error": self._stop_message()})
            return False
        return True

    def _stop_message(self) -> str:
        return self._stop[1] if self._stop is not None else "cancelled"

    # --- re-planning and the end ---------------------------------------------------------------

    async def _replan(self, step_id: str) -> bool:
        assert self.state is not None
        replanner = self.executor.replanner
        if replanner is None or self._replans >= self.executor.max_replans:
            return False
        self._replans += 1
        error = self.state.steps[step_id].error or ""
        revised = await replanner.revise(self.state, step_id, error)
        if revised is None:
            return False
        from .replanner import diff_plans, frozen_steps_changed

        old = self.state.plan
        revised = revised.model_copy(update={"id": old.id, "revision": old.revision + 1})
        problems = [str(i) for i in validate_plan(revised, self.executor.catalog)]
        problems += frozen_steps_changed(old, revised, self.state.steps)
        if problems:
            return False
        await self._write("plan", None, {"plan": revised.model_dump(mode="json")})
        self.state.revise(revised)
        self._index(revised)
        added, removed, changed, text = diff_plans(old, revised)
        for sid in changed:  # a changed step that failed or was skipped gets its new chance
            if self.state.steps[sid].status in ("failed", "skipped", "cancelled"):
                await self._write("step", sid, {"status": "pending",
                                                "attempt": self.state.steps[sid].attempts})
        self._emit(self.emitter.make(ev.PlanRevised, plan_id=self.plan_id,
                                     revision=revised.revision, reason=error, added=added,
                                     removed=removed, changed=changed, diff=text))
        return True

    async def _conclude(self) -> None:
        assert self.state is not None
        for step in self.state.plan.steps:
            if self.state.steps[step.id].status == "pending":
                await self._skip(step.id, self._stop_message(), status="cancelled")
        counts = self.state.counts()
        if self._stop is not None and self._stop[0] == "cancelled":
            await self._set_status("cancelled", self._stop[1])
        elif self._stop is not None:
            await self._set_status("failed", self._stop[1])
        elif counts.get("completed", 0) == len(self.state.plan.steps):
            await self._set_status("completed")
        else:
            status = "partial" if counts.get("completed") else "failed"
            await self._set_status(status, _summary(counts))
        self._emit_completed()

    def _emit_completed(self) -> None:
        assert self.state is not None
        self._emit(self.emitter.make(
            ev.PlanCompleted, plan_id=self.plan_id, status=self.state.status,
            progress=progress(self.state.statuses()), counts=self.state.counts(),
            error=self.state.error,
            duration_s=round(_clock() - self._started, 6) if self._started else 0.0))

    async def _abandon(self) -> None:
        """The executor itself is stopped (Ctrl-C, its task cancelled, a store failure):
        stop the steps without recording anything, so the plan stays `executing` and
        `resume()` settles it like after a crash (nothing is taken as decided)."""
        self._abandoning = True
        self._stop = self._stop or ("cancelled", "the executor was stopped")
        self._cancel_running()
        tasks = [*self._running.values(), *self._approving.values()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finish_result(self) -> PlanResult:
        assert self.state is not None
        return PlanResult(self.plan_id, self.state.status, self.state.error,
                          self.state.outputs(), self.state.steps, self.events)


def _cancel_parked(coro: Any) -> None:
    """A hand-started step whose task was cancelled before it took the step over: deliver
    the cancellation to the step itself (it records `cancelled`), else close it."""
    try:
        coro.throw(asyncio.CancelledError())
    except BaseException:  # noqa: BLE001 - StopIteration (done) or the cancel itself
        return
    coro.close()  # it suspended again while recording: the end of the run records it


def backoff_delay(step: Step, failures: int, random_value: float) -> float:
    """Exponential backoff capped at `backoff_max_s`, with jitter: 50-100% of it."""
    delay = min(step.backoff_max_s, step.backoff_s * 2 ** (failures - 1))
    return delay * (0.5 + random_value / 2)


def _describe(exc: BaseException, step: Step, attempt: int) -> str:
    if isinstance(exc, TimeoutError) and step.timeout_s is not None:
        return f"attempt {attempt} timed out after {step.timeout_s}s"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
