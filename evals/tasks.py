"""Run one case at one stage: the stage in isolation (its inputs come from the case) or
the whole report pipeline end to end. Only public APIs: `StageAwareFacade` builds the
pipeline's runtime for a database, `StageAwareRuntime.run_stage` runs one stage.

An isolated chart or document stage gets exactly what the SQL stage would have handed on:
the result in the run state (where the chart/document tools read it) and the same prompt
variables the facade passes (question, SQL, columns, a Markdown table of the rows).
"""

from __future__ import annotations

import time
from typing import Any

from stageagent.messages import Usage
from stageagent.models import Model
from stageagent.tools.results import STATE_CHART_SPEC, STATE_SQL_RESULT, ColumnInfo, QueryResult

from .dataset import Case, ResultSet
from .errors import BrokenCaseError
from .outcome import CaseOutput, RunFigures
from .resources import Resources

#: rows of the result the isolated stages' prompts show (the facade's choice)
PREVIEW_ROWS = {"chart": 20, "document": 60}
DEFAULT_DATABASE = "demo"


def query_result(result: ResultSet, sql: str = "") -> QueryResult:
    """A case's given result set as the executor's `QueryResult` (kinds inferred)."""
    from stageagent.tools.sql.execute import json_safe, kind_of_values

    names = [c if isinstance(c, str) else c.name for c in result.columns]
    rows = [[json_safe(v) for v in row] for row in result.rows]
    columns = []
    for index, column in enumerate(result.columns):
        kind = None if isinstance(column, str) else column.kind
        columns.append(ColumnInfo(name=names[index],
                                  kind=kind or kind_of_values([r[index] for r in rows])))
    return QueryResult(sql=sql, dialect="sqlite", columns=columns, rows=rows,
                       row_count=len(rows))


def figures(result: Any, latency_s: float) -> RunFigures:
    usage = result.usage or Usage()
    return RunFigures(iterations=result.iterations, quality_score=result.score,
                      stop_reason=str(result.reason), requests=usage.requests,
                      input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                      cost_usd=result.cost_usd, latency_s=round(latency_s, 6))


def total(parts: list[RunFigures], latency_s: float, reason: str) -> RunFigures:
    costs = [p.cost_usd for p in parts if p.cost_usd is not None]
    scores = [p.quality_score for p in parts if p.quality_score is not None]
    return RunFigures(iterations=sum(p.iterations for p in parts),
                      quality_score=min(scores) if scores else None, stop_reason=reason,
                      requests=sum(p.requests for p in parts),
                      input_tokens=sum(p.input_tokens for p in parts),
                      output_tokens=sum(p.output_tokens for p in parts),
                      cost_usd=sum(costs) if costs else None, latency_s=round(latency_s, 6))


class CaseRunner:
    """Runs cases on the pipeline; one facade per database, shared by the cases."""

    def __init__(self, resources: Resources, *, stage_names: dict[str, str] | None = None):
        self.resources = resources
        self.stage_names = {"sql": "sql", "chart": "chart", "document": "document",
                            **(stage_names or {})}

    def facade(self, database: str | None) -> Any:
        from stageagent.facade import StageAwareFacade

        key = database or DEFAULT_DATABASE
        facade = self.resources.facades.get(key)
        if facade is None:
            names = self.stage_names
            facade = StageAwareFacade(database=self.resources.database(key),
                                      stages=(names["sql"], names["chart"], names["document"]))
            self.resources.facades[key] = facade
        return facade

    def given_result(self, case: Case) -> QueryResult:
        context = case.inputs.context
        if context.result is not None:
            return query_result(context.result, context.sql or "")
        if context.sql:
            return self.resources.gold(case.inputs.database, context.sql)
        raise BrokenCaseError("a chart/document case needs inputs.context.result "
                              "(or inputs.context.sql with a database)")

    async def run(self, stage: str, case: Case, model: Model) -> CaseOutput:
        if stage == "report":
            return await self.run_report(case, model)
        return await self.run_stage(stage, case, model)

    async def run_stage(self, stage: str, case: Case, model: Model) -> CaseOutput:
        inputs = case.inputs
        facade = self.facade(inputs.database)
        db = facade.database
        context: dict[str, Any] = {"question": inputs.question, "dialect": db.dialect,
                                   "row_limit": db.row_limit}
        state: dict[str, Any] = {}
        given: QueryResult | None = None
        if stage != "sql":
            given = self.given_result(case)
            state[STATE_SQL_RESULT] = given
            context.update(self.upstream_context(stage, given))
        context.update(inputs.context.variables)
        started = time.perf_counter()
        run = facade.runtime.run_stage(self.stage_names[stage], inputs.question,
                                       context=context, model=model, deps=facade.deps,
                                       state=state)
        async for _ in run:
            pass
        result = run.result
        stage_figures = figures(result, time.perf_counter() - started)
        output = CaseOutput(stage=stage, ok=result.ok, stop_reason=str(result.reason),
                            error=result.error, error_exception=result.exception,
                            figures=stage_figures,
                            stages={stage: stage_figures})
        if stage == "sql":
            query = state.get(STATE_SQL_RESULT)
            sql = getattr(result.output, "sql", None) or (query.sql if query else None)
            output.sql, output.result = sql, query
        else:
            output.result = given
            output.chart_spec = state.get(STATE_CHART_SPEC) if stage == "chart" else None
            output.document = result.text.strip() or None if stage == "document" else None
        return output

    @staticmethod
    def upstream_context(stage: str, result: QueryResult) -> dict[str, Any]:
        from stageagent.report import markdown_table

        return {"sql": result.sql, "sql_output": None, "sql_notes": "",
                "columns": [{"name": c.name, "kind": c.kind} for c in result.columns],
                "row_count": result.row_count, "truncated": result.truncated,
                "data_table": markdown_table(result, PREVIEW_ROWS[stage])}

    async def run_report(self, case: Case, model: Model) -> CaseOutput:
        facade = self.facade(case.inputs.database)
        started = time.perf_counter()
        report = await facade.report(case.inputs.question, model=model,
                                     context=case.inputs.context.variables or None)
        latency = time.perf_counter() - started
        parts = {name: figures(r, 0.0) for name, r in report.stages.items()}
        reason = "passed" if report.ok else (report.error_type or "error")
        return CaseOutput(stage="report", ok=report.ok, stop_reason=reason, error=report.error,
                          error_exception=report.exception,
                          sql=report.sql, result=report.query_result,
                          chart_spec=report.chart_spec, document=report.document,
                          figures=total(list(parts.values()), latency, reason), stages=parts)
