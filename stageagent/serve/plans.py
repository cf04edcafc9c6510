"""Plan runs of the service (`POST /v1/plans/runs`): a client's `ExecutionPlan`, validated
against the tools and stages of a database's runtime, run by the plan executor.

A bad plan is answered before anything runs: 422 problem JSON whose `errors` name each
problem's field as a path into the body (`plan.steps[1].depends_on`) and its `step_id`.
A step with `requires_approval` (or a plan with `options.require_approval`) waits for
`POST /v1/runs/{id}/approvals/{approval_id}`: the id is the plan's own approval id
(`<plan>:step:<step>`), the one in the stream's `approval_requested` event. Rejection
fails the step (`error_type` "rejected"): it never runs; what depends on it is skipped
or cancelled as the plan's `on_error` says. Plans live in memory for the run's length:
a server stopped mid-plan reports the run interrupted and does not resume it, so nothing
is ever taken as approved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import ValidationError

from stageagent import events as ev
from stageagent.plan.catalog import Catalog
from stageagent.plan.executor import PlanExecutor
from stageagent.plan.memory_store import MemoryPlanStore
from stageagent.plan.model import ExecutionPlan
from stageagent.plan.run import PlanResult
from stageagent.plan.runner import RuntimeStepRunner
from stageagent.plan.validation import validate_plan

from .problems import Problem, field_path


def checked_plan(raw: dict[str, Any], catalog: Catalog) -> ExecutionPlan:
    """The body's `plan`, valid against `catalog`, or a 422 naming every problem."""
    try:
        plan = ExecutionPlan.model_validate(raw)
    except ValidationError as exc:
        raise _invalid([_pydantic_error(e, raw) for e in exc.errors(include_url=False)]) \
            from None
    index: dict[str, int] = {}
    for i, step in enumerate(plan.steps):
        index.setdefault(step.id, i)
    errors = []
    for issue in validate_plan(plan, catalog):
        where = ["plan"] if issue.step_id is None else ["plan", "steps", index[issue.step_id]]
        errors.append({"field": field_path([*where, *issue.field.split(".")]),
                       "step_id": issue.step_id, "message": issue.message})
    if errors:
        raise _invalid(errors)
    return plan


def _pydantic_error(error: Any, raw: dict[str, Any]) -> dict[str, Any]:
    loc = list(error["loc"])
    step_id = None
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = raw.get("steps")
        step = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
        found = step.get("id") if isinstance(step, dict) else None
        step_id = found if isinstance(found, str) else None
    return {"field": field_path(["plan", *loc]), "step_id": step_id, "message": error["msg"]}


def _invalid(errors: list[dict[str, Any]]) -> Problem:
    first = errors[0]
    where = f" (step {first['step_id']!r})" if first["step_id"] else ""
    return Problem(422, "Invalid plan", f"{first['field']}{where}: {first['message']}",
                   field=first["field"], errors=errors, slug="invalid-plan")


class PlanSource:
    """A plan run as the run manager drives it. Events go to `deliver` the moment the plan
    announces them (the executor's `on_event`), so an event the server adds in between (a
    tool's approval) keeps its place in the one sequence; iterating only waits for the end."""

    def __init__(self, runtime: Any, plan: ExecutionPlan, *, run_id: str, model: Any,
                 deps: Any, stream: bool, approver: Any,
                 deliver: Callable[[ev.BaseEvent], None]):
        self.runner = RuntimeStepRunner(runtime, model=model, deps=deps, stream=stream)
        self.executor = PlanExecutor(self.runner, MemoryPlanStore(),
                                     catalog=Catalog.from_runtime(runtime),
                                     approver=approver, on_event=deliver)
        self.plan_run = self.executor.run(plan, run_id=run_id)
        self.result: PlanResult | None = None

    @property
    def emitter(self) -> ev.Emitter:
        return self.plan_run.emitter

    def cancel(self) -> None:
        self.plan_run.cancel("the run was cancelled")

    def __aiter__(self) -> AsyncIterator[ev.BaseEvent]:
        return self._wait()

    async def _wait(self) -> AsyncIterator[ev.BaseEvent]:
        self.result = await self.plan_run.wait()
        return
        yield  # an async generator that yields nothing: the events went to `deliver`


def plan_status(result: PlanResult, cancel_requested: bool) -> str:
    """The run's status: the plan's own (completed, partial, failed, cancelled)."""
    if cancel_requested and result.status != "completed":
        return "cancelled"
    return result.status


def plan_summary(result: PlanResult) -> dict[str, Any]:
    from .artifacts import jsonable

    return {
        "ok": result.ok, "plan_id": result.plan_id, "status": result.status,
        "error": result.error, "progress": result.progress,
        "steps": {sid: {"status": s.status, "attempts": s.attempts, "error": s.error,
                        "error_type": s.error_type or None}
                  for sid, s in result.steps.items()},
        "outputs": jsonable(result.outputs),
    }
