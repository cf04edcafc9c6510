"""What one case run produced: the stage's artefacts and the runtime's own figures."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from stageagent.tools.results import QueryResult


class RunFigures(BaseModel):
    """The runtime's figures for one stage run (summed over stages for a report case)."""

    iterations: int = 0
    quality_score: float | None = None
    stop_reason: str = ""
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class CaseOutput(BaseModel):
    """The artefacts a case's stage(s) produced; any may be missing when a stage failed."""

    stage: str
    ok: bool = False
    stop_reason: str = ""
    error: str | None = None
    sql: str | None = None
    result: QueryResult | None = None
    chart_spec: dict[str, Any] | None = None
    document: str | None = None
    figures: RunFigures = Field(default_factory=RunFigures)
    stages: dict[str, RunFigures] = Field(default_factory=dict)
    #: the exception the stage ended with (not serialised; decides whole-case retries)
    error_exception: Any = Field(default=None, exclude=True)
