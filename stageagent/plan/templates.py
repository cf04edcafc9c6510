"""Template plans: fixed code that builds an `ExecutionPlan` - cheap and predictable where
an LLM planner would add cost and variance. They run on the same executor as LLM plans.

`report_plan` is the report pipeline: sql -> (chart and document in parallel, both from the
SQL result) -> report, so a report takes the time of its critical path, not the sum of its
stages. The document stage does not need the chart: its numbers come from the SQL result,
and the chart only ever gave its prompt one optional sentence ("the chart shown next to your
text"). `document_sees_chart=True` restores that sentence at the price of running the two
one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import ExecutionPlan, PlanOptions, Step


def report_plan(question: str, *, stages: Mapping[str, str] | None = None, chart: bool = True,
                document_sees_chart: bool = False, plan_id: str | None = None) -> ExecutionPlan:
    """The report pipeline as a plan. `stages` maps roles (sql, chart, document) to stage
    names (default: the bundled ones); step ids are the roles."""
    names = {"sql": "sql", "chart": "chart", "document": "document", **(stages or {})}
    steps = [Step(id="sql", kind="stage", target=names["sql"], params={"input": question},
                  description="write, validate and execute the SQL query")]
    document_deps = ["sql"]
    if chart:
        steps.append(Step(id="chart", kind="stage", target=names["chart"], depends_on=["sql"],
                          params={"input": question},
                          description="a chart of the SQL result"))
        if document_sees_chart:
            document_deps.append("chart")
    steps.append(Step(id="document", kind="stage", target=names["document"],
                      depends_on=document_deps, params={"input": question},
                      description="the report text, grounded in the SQL result"))
    steps.append(Step(id="report", kind="tool", target="report", depends_on=[
        s.id for s in steps if s.id != "sql"], params={},
        description="assemble the report from the query, chart and text"))
    plan = ExecutionPlan(goal=f"Report: {question}", steps=steps,
                         options=PlanOptions(max_parallel=len(steps), on_error="stop"))
    return plan.model_copy(update={"id": plan_id}) if plan_id else plan
