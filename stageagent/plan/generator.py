"""`PlanGenerator`: an LLM writes the plan - explore, then format, then validate.

The planner is a stage run on the runtime (`stageagent.runtime`): it may look with
read-only tools first (explore), then the runtime's format turn makes it produce an
`ExecutionPlan` (pydantic-validated JSON, no tools), then the `plan_validity` evaluator
validates it against the catalog - and the runtime's quality gate sends every issue back
to the model as the next turn. `max_repairs` bounds how often. The prompt
(`prompts/plan.j2`) lists the tools and stages with their schemas sorted by name, so the
same catalog always gives the same prompt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ..events import BaseEvent
from ..exceptions import PlanGenerationError
from ..quality import Candidate, QualityReport
from ..stage_config import StageConfig
from .catalog import Catalog
from .model import ExecutionPlan
from .validation import PlanIssue, validate_plan

PLANNER_STAGE = "planner"


class PlanValidity:
    """The quality gate of the planner stage: 1.0 for a valid plan, else 0 with every
    issue as a critique (`extra` adds checks, e.g. the re-planner's frozen steps)."""

    name = "plan_validity"
    weight = 1.0

    def __init__(self, catalog: Catalog, max_steps: int,
                 extra: Callable[[ExecutionPlan], list[str]] | None = None):
        self.catalog = catalog
        self.max_steps = max_steps
        self.extra = extra
        self.last_issues: list[Any] = []
        self.checks = 0

    def evaluate(self, candidate: Candidate) -> QualityReport:
        self.checks += 1
        plan = candidate.output
        if not isinstance(plan, ExecutionPlan):
            self.last_issues = [PlanIssue(None, "(plan)", "no plan was produced")]
        else:
            issues: list[Any] = validate_plan(plan, self.catalog)
            if len(plan.steps) > self.max_steps:
                issues.append(PlanIssue(None, "steps", f"{len(plan.steps)} steps; at most "
                                                       f"{self.max_steps} are allowed"))
            issues += [PlanIssue(None, "steps", m) for m in (self.extra(plan) if self.extra
                                                             else [])]
            self.last_issues = issues
        if not self.last_issues:
            return QualityReport(score=1.0)
        return QualityReport(score=0.0, critiques=[str(i) for i in self.last_issues])


def catalog_for_prompt(catalog: Catalog) -> dict[str, Any]:
    """The catalog with each schema as canonical JSON text (sorted keys)."""
    described = catalog.describe()
    for entry in (*described["tools"], *described["stages"]):
        entry["schema_json"] = json.dumps(entry["parameters"], sort_keys=True,
                                          ensure_ascii=False)
    return described


class PlanGenerator:
    """Args:
        runtime: a `StageAwareRuntime` (its tools serve exploration; its prompt path
            finds `plan.j2`).
        catalog: what plans may call (default: every tool and stage of the runtime).
        model: the planner's model (or model id).
        explore_tools: read-only tools the planner may use before it answers.
        max_repairs: how many invalid plans go back to the model before giving up.
    """

    def __init__(self, runtime: Any, catalog: Catalog | None = None, *, model: Any = None,
                 explore_tools: Iterable[str] = (), max_repairs: int = 2,
                 explore_turns: int = 4, max_steps: int = 50, prompt: str = "plan.j2"):
        from ..runtime import StageAwareRuntime

        self.catalog = catalog if catalog is not None else Catalog.from_runtime(runtime)
        self.model = model
        self.explore_tools = list(explore_tools)
        self.max_repairs = max_repairs
        self.explore_turns = explore_turns if self.explore_tools else 0
        self.max_steps = max_steps
        self.prompt = prompt
        self._evaluators = runtime.evaluators.copy()
        self._runtime = StageAwareRuntime(runtime.stages, model=runtime.model,
                                          tools=runtime.tools, evaluators=self._evaluators,
                                          deps=runtime.deps, prompts=runtime.prompts,
                                          price=runtime.price)

    def stage(self) -> StageConfig:
        return StageConfig(
            name=PLANNER_STAGE, description="writes an execution plan", prompt=self.prompt,
            tools=self.explore_tools, evaluators=["plan_validity"], quality_threshold=1.0,
            max_iterations=1 + self.explore_turns + self.max_repairs,
            output_schema=ExecutionPlan, grounding="off")

    async def generate(self, task: str, *, context: dict[str, Any] | None = None,
                       extra_check: Callable[[ExecutionPlan], list[str]] | None = None,
                       on_event: Callable[[BaseEvent], None] | None = None) -> ExecutionPlan:
        """A validated plan for `task`, or `PlanGenerationError` with the last issues."""
        gate = PlanValidity(self.catalog, self.max_steps, extra_check)
        self._evaluators.register("plan_validity", gate)
        variables = {"catalog": catalog_for_prompt(self.catalog), "max_steps": self.max_steps,
                     **(context or {})}
        run = self._runtime.run_stage(self.stage(), task, context=variables, model=self.model)
        async for event in run:
            if on_event is not None:
                on_event(event)
        result = run.result
        plan = result.output if result is not None else None
        if result is None or not result.ok or not isinstance(plan, ExecutionPlan):
            reason = result.reason if result is not None else "no result"
            raise PlanGenerationError(
                f"the planner produced no valid plan ({reason}, {gate.checks} plan(s) "
                f"checked, {max(0, gate.checks - 1)} repair(s))"
                + (f": {result.error}" if result is not None and result.error else ""),
                gate.last_issues)
        return plan.model_copy(update={"options": plan.options.model_copy(
            update={"max_steps": min(plan.options.max_steps, self.max_steps)})})
