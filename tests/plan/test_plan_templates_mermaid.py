"""Template plans and the Mermaid rendering."""

from __future__ import annotations

from stageagent.plan import ExecutionPlan, Step, validate_plan
from stageagent.plan.mermaid import to_mermaid
from stageagent.plan.templates import report_plan


def test_the_report_template_runs_chart_and_document_in_parallel():
    plan = report_plan("Revenue by category?")
    deps = {s.id: s.depends_on for s in plan.steps}
    assert deps == {"sql": [], "chart": ["sql"], "document": ["sql"],
                    "report": ["chart", "document"]}
    assert validate_plan(plan) == []
    assert ExecutionPlan.from_json(plan.model_dump_json()) == plan


def test_report_template_variants():
    no_chart = report_plan("q", chart=False)
    assert [s.id for s in no_chart.steps] == ["sql", "document", "report"]
    assert no_chart.step("report").depends_on == ["document"]
    ordered = report_plan("q", document_sees_chart=True, stages={"sql": "sql_strict"})
    assert ordered.step("document").depends_on == ["sql", "chart"]
    assert ordered.step("sql").target == "sql_strict"


def test_mermaid_has_a_node_per_step_an_edge_per_dependency_and_status_classes():
    plan = ExecutionPlan(steps=[
        Step(id="a", target='say "hi" <b>'), Step(id="b-2", target="t", depends_on=["a"],
                                                  requires_approval=True)])
    text = to_mermaid(plan, {"a": "completed", "b-2": "failed"})
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert 's0["a<br/>tool: say #quot;hi#quot; #lt;b#gt;"]' in lines[1]
    assert "(approval)" in lines[2] and "    s0 --> s1" in lines
    assert "    class s0 completed" in lines and "    class s1 failed" in lines
    assert '"' not in text.replace('["', "").replace('"]', "")  # every quote escaped
    assert to_mermaid(ExecutionPlan()) == "flowchart TD"
