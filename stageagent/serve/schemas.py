"""The JSON bodies the service accepts, validated strictly (unknown fields are errors).

A database is a *name* the server's config defines - the field is checked against it by
the workspace - and it is a plain identifier here already, so a URL never even reaches
the lookup.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stageagent.messages import Message

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


#: the steps of the report plan (`stageagent.plan.templates.report_plan`)
ReportStep = Literal["sql", "chart", "document", "report"]


class ReportOptions(_Strict):
    chart: bool = True
    stream: bool = False
    approve_steps: list[ReportStep] = Field(
        default_factory=list, max_length=4,
        description="steps of the report plan that wait for an approval before they run")


class ReportRequest(_Strict):
    """`POST /v1/reports`."""

    question: str = Field(min_length=1)
    database: str | None = Field(None, pattern=NAME_PATTERN,
                                 description="a database name from the server's config")
    model: str | None = Field(None, min_length=1, max_length=300)
    options: ReportOptions = Field(default_factory=ReportOptions)
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value.strip()


class StageOptions(_Strict):
    stream: bool = False


class StageRunRequest(_Strict):
    """`POST /v1/stages/{name}/runs`: one stage, optionally continuing `history`."""

    model_config = ConfigDict(extra="forbid", strict=False)

    input: str = Field(min_length=1)
    context: dict[str, Any] = Field(default_factory=dict)
    history: list[Message] = Field(default_factory=list)
    database: str | None = Field(None, pattern=NAME_PATTERN)
    model: str | None = Field(None, min_length=1, max_length=300)
    options: StageOptions = Field(default_factory=StageOptions)

    @field_validator("input", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class ApprovalDecision(_Strict):
    """`POST /v1/runs/{id}/approvals/{approval_id}`."""

    approved: bool
    reason: str = Field("", max_length=2000)


class PlanRunRequest(_Strict):
    """`POST /v1/plans/runs`: an `ExecutionPlan` (JSON) to run on a database's runtime."""

    plan: dict[str, Any] = Field(description="an ExecutionPlan; checked by the plan validator")
    database: str | None = Field(None, pattern=NAME_PATTERN)
    model: str | None = Field(None, min_length=1, max_length=300)
    options: StageOptions = Field(default_factory=StageOptions)
