"""Re-planning: when a step fails (after its retries), the model gets the plan, the
completed results and the failure, and returns the revised plan.

The revision keeps completed and running steps exactly as they were (`frozen_steps_changed`
says what a revision broke; the model hears it as a critique), is validated like a new
plan, and is recorded as a `PlanRevised` event with a diff. The executor bounds how often
(`PlanExecutor(max_replans=...)`).
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from .generator import PlanGenerator
from .model import ExecutionPlan
from .store import PlanState, StepState

#: characters of each completed output shown to the model
OUTPUT_PREVIEW = 400


def frozen_steps_changed(old: ExecutionPlan, new: ExecutionPlan,
                         steps: dict[str, StepState]) -> list[str]:
    """Problems of a revision that touches steps already completed or running."""
    problems = []
    new_steps = {s.id: s for s in new.steps}
    for step in old.steps:
        if steps.get(step.id, StepState()).status not in ("completed", "running"):
            continue
        if step.id not in new_steps:
            problems.append(f"step {step.id!r} already ran; the revision must keep it")
        elif new_steps[step.id] != step:
            problems.append(f"step {step.id!r} already ran; the revision must not change it")
    return problems


def diff_plans(old: ExecutionPlan, new: ExecutionPlan) -> tuple[list[str], list[str],
                                                                 list[str], str]:
    """(added, removed, changed step ids, unified diff of the plans' JSON)."""
    before = {s.id: s for s in old.steps}
    after = {s.id: s for s in new.steps}
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    changed = [i for i in after if i in before and after[i] != before[i]]
    text = "\n".join(difflib.unified_diff(
        _lines(old), _lines(new), f"revision {old.revision}", f"revision {new.revision}",
        lineterm=""))
    return added, removed, changed, text


def _lines(plan: ExecutionPlan) -> list[str]:
    data = plan.model_dump(mode="json", exclude={"revision"})
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).splitlines()


def _preview(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= OUTPUT_PREVIEW else text[:OUTPUT_PREVIEW] + "..."


class ModelReplanner:
    """A `Replanner` that asks the plan generator's model for the revised plan."""

    def __init__(self, generator: PlanGenerator):
        self.generator = generator

    async def revise(self, state: PlanState, failed_step: str,
                     error: str) -> ExecutionPlan | None:
        plan = state.plan
        frozen = [s.id for s in plan.steps
                  if state.steps[s.id].status in ("completed", "running")]
        context = {
            "current_plan": plan.model_dump_json(indent=1),
            "completed": {sid: _preview(s.output) for sid, s in state.steps.items()
                          if s.status == "completed"},
            "failed_step": failed_step, "failure": error, "frozen": frozen}
        try:
            return await self.generator.generate(
                plan.goal or f"the goal of plan {plan.id}", context=context,
                extra_check=lambda new: frozen_steps_changed(plan, new, state.steps))
        except Exception:  # noqa: BLE001 - no valid revision: the failure stands
            return None
