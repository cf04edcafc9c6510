"""`ReportResult`: everything one report run produced - the typed results of its stages,
its events, usage and cost - also when it failed part-way.

Its own module so that the facade (which builds it) and the report writer (which reads it)
do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events as ev
from .messages import Usage
from .runtime import StageResult

if TYPE_CHECKING:
    from stageagent.tools.results import QueryResult
    from stageagent.tools.sql import SQLStageOutput

    from .plan.model import ExecutionPlan


@dataclass
class ReportResult:
    """Everything one facade run produced (also when it failed part-way)."""

    question: str
    run_id: str
    ok: bool = False
    sql_output: SQLStageOutput | None = None
    query_result: QueryResult | None = None
    chart_spec: dict[str, Any] | None = None
    document: str | None = None
    events: list[ev.BaseEvent] = field(default_factory=list)
    stages: dict[str, StageResult] = field(default_factory=dict)
    error: str | None = None
    error_type: str = ""
    failed_stage: str | None = None
    exception: BaseException | None = None
    duration_s: float = 0.0
    dialect: str = ""
    #: the template plan the run executed, with each step's final status
    plan: ExecutionPlan | None = None
    step_statuses: dict[str, str] = field(default_factory=dict)

    @property
    def sql(self) -> str | None:
        if self.sql_output is not None:
            return self.sql_output.sql
        return self.query_result.sql if self.query_result is not None else None

    @property
    def usage_by_stage(self) -> dict[str, Usage]:
        return {name: r.usage or Usage() for name, r in self.stages.items()}

    @property
    def cost_by_stage(self) -> dict[str, float | None]:
        return {name: r.cost_usd for name, r in self.stages.items()}

    @property
    def usage(self) -> Usage:
        total = Usage()
        for usage in self.usage_by_stage.values():
            total = total + usage
        return total

    @property
    def cost_usd(self) -> float | None:
        """Total cost; None when no stage had a known price."""
        costs = [c for c in self.cost_by_stage.values() if c is not None]
        return sum(costs) if costs else None

    def _repr_html_(self) -> str:  # rich display in Jupyter
        from .display import report_html
        return report_html(self)
