"""The plan as data: `ExecutionPlan`, its `Step`s and `PlanOptions` (pydantic).

A plan is a DAG of steps; each step calls one tool or runs one stage. Plans round-trip
through JSON (`model_dump_json` / `ExecutionPlan.from_json`) and `plan_json_schema()` is the
schema to give to your own planner. Cross-step rules (dependencies exist, no cycles,
references) are checked by `stageagent.plan.validation`, which reports every problem at
once instead of stopping at the first, as pydantic would.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PlanStatus = Literal["draft", "pending_approval", "approved", "executing", "completed",
                     "failed", "cancelled", "partial"]
StepStatus = Literal["pending", "running", "completed", "failed", "skipped", "cancelled"]
StepKind = Literal["tool", "stage"]

#: plan statuses after which nothing runs any more
FINAL_PLAN_STATUSES = frozenset({"completed", "failed", "cancelled", "partial"})
#: step statuses that are final within one execution
FINAL_STEP_STATUSES = frozenset({"completed", "failed", "skipped", "cancelled"})

STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"


def new_plan_id() -> str:
    return uuid.uuid4().hex[:16]


class Step(BaseModel):
    """One unit of work: a tool call (`kind="tool"`) or a stage run (`kind="stage"`).

    For a stage, `params` are `{"input": "...", "context": {...}}`. Any string in `params`
    may reference an earlier step's output: `"${steps.sql.output.rows}"` (see
    `stageagent.plan.references`).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=STEP_ID_PATTERN, description="unique id, used in references")
    kind: StepKind = "tool"
    target: str = Field(min_length=1, max_length=128, description="tool or stage name")
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    description: str = ""
    retries: int = Field(default=0, ge=0, le=20,
                         description="extra attempts; idempotent steps only")
    backoff_s: float = Field(default=0.5, ge=0, le=3600, description="first retry delay")
    backoff_max_s: float = Field(default=30.0, ge=0, le=3600)
    timeout_s: float | None = Field(default=None, gt=0, le=86400, description="per attempt")
    idempotent: bool = False
    requires_approval: bool = False


class PlanOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_parallel: int = Field(default=8, ge=1, le=10_000)
    on_error: Literal["stop", "continue"] = "stop"
    total_timeout_s: float | None = Field(default=None, gt=0, le=7 * 86400)
    require_approval: bool = False
    auto_approve: bool = False
    approval_timeout_s: float | None = Field(default=300.0, gt=0, le=30 * 86400)
    max_steps: int = Field(default=200, ge=1, le=100_000)


class ExecutionPlan(BaseModel):
    """A DAG of steps with its options. Immutable by convention: revise by copying."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_plan_id, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    goal: str = ""
    steps: list[Step] = Field(default_factory=list)
    options: PlanOptions = Field(default_factory=lambda: PlanOptions())
    revision: int = 0

    @classmethod
    def from_json(cls, text: str | bytes) -> ExecutionPlan:
        return cls.model_validate_json(text)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema of `ExecutionPlan`, for planners outside stageagent."""
    return ExecutionPlan.model_json_schema()


def progress(statuses: list[str]) -> float:
    """Share of steps in a final status, in [0, 1]; an empty plan is complete (1.0)."""
    if not statuses:
        return 1.0
    return sum(1 for s in statuses if s in FINAL_STEP_STATUSES) / len(statuses)
