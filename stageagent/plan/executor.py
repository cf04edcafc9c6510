"""`PlanExecutor`: runs, resumes and inspects plans on a runner and a store.

    executor = PlanExecutor(runner, SQLitePlanStore("plans.db"), catalog=catalog)
    run = executor.run(plan)            # validated now: PlanValidationError lists every issue
    async for event in run: ...         # or: result = await run.wait()
    run = executor.resume(plan_id)      # after a crash, in another process

`run()` validates before anything runs; `resume()` refuses cancelled and rejected plans
and plans a live executor still holds (its lease), and never reruns a completed step.
The scheduling itself lives in `stageagent.plan.run` (`PlanRun`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from ..events import BaseEvent
from .approval import PlanApprover
from .catalog import Catalog
from .memory_store import MemoryPlanStore
from .model import ExecutionPlan, Step
from .run import PlanRun, Replanner
from .runner import StepRunner
from .store import LEASE_TTL_S, PlanState, PlanStore, Record, load_state
from .validation import ensure_valid


class PlanExecutor:
    """Args:
        runner: does the steps' work (`FunctionRunner`, `RuntimeStepRunner`, yours).
        store: durable state (default: in memory; `SQLitePlanStore(path)` to resume later).
        catalog: tools and stages plans are validated against (None: not checked).
        approver: async callback deciding approvals (or decide on the `PlanRun`).
        replanner: revises the remaining steps when a step fails (at most `max_replans`).
        on_event: called with every plan event as it is announced.
        flag_result: `(step, output) -> problem or None`; a flagged result fails its step
            (kept in the record) and goes to the re-planner like any failure.
        cancel_grace_s: how long a stopping plan waits for cancelled steps to end; a step
            that ignores its cancellation longer is recorded cancelled and left behind.
    """

    def __init__(self, runner: StepRunner, store: PlanStore | None = None, *,
                 catalog: Catalog | None = None, approver: PlanApprover | None = None,
                 replanner: Replanner | None = None, max_replans: int = 2,
                 lease_ttl: float = LEASE_TTL_S,
                 on_event: Callable[[BaseEvent], None] | None = None,
                 flag_result: Callable[[Step, Any], str | None] | None = None,
                 cancel_grace_s: float = 5.0,
                 random_fn: Callable[[], float] = random.random):
        self.runner = runner
        self.store: PlanStore = store if store is not None else MemoryPlanStore()
        self.catalog = catalog
        self.approver = approver
        self.replanner = replanner
        self.max_replans = max_replans
        self.lease_ttl = lease_ttl
        self.on_event = on_event
        self.flag_result = flag_result
        self.cancel_grace_s = cancel_grace_s
        self.random = random_fn

    def validate(self, plan: ExecutionPlan) -> ExecutionPlan:
        return ensure_valid(plan, self.catalog)

    async def submit(self, plan: ExecutionPlan) -> ExecutionPlan:
        """Validate and store a plan as a draft (to run or resume by id later)."""
        self.validate(plan)
        await self.store.append(Record(plan.id, "plan", None, {"plan": plan.model_dump(
            mode="json")}, _now()))
        await self.store.append(Record(plan.id, "plan_status", None, {"status": "draft"},
                                       _now()))
        return plan

    def run(self, plan: ExecutionPlan, *, run_id: str | None = None,
            emitter: Any = None) -> PlanRun:
        """Start a new plan (validated now). Iterate the run or `await run.wait()`."""
        self.validate(plan)
        return PlanRun(self, plan=plan, run_id=run_id, emitter=emitter)

    def resume(self, plan_id: str, *, retry: Iterable[str] = (),
               run_id: str | None = None) -> PlanRun:
        """Continue a stored plan. `retry` names failed or interrupted non-idempotent steps
        you decided may run again (a recorded decision)."""
        return PlanRun(self, plan_id=plan_id, retry=list(retry), run_id=run_id)

    async def state(self, plan_id: str) -> PlanState:
        return await load_state(self.store, plan_id)


def _now() -> float:
    import time

    return time.time()
