"""The LLM plan generator (explore, format, validate, repair) and the re-planner, with
ScriptedModel / FunctionModel."""

from __future__ import annotations

import json

import pytest

from stageagent import FunctionModel, ScriptedModel, StageAwareRuntime, call, tool
from stageagent.exceptions import PlanGenerationError
from stageagent.plan import Catalog, ExecutionPlan, PlanExecutor, RuntimeStepRunner, Step
from stageagent.plan.generator import PlanGenerator
from stageagent.plan.replanner import ModelReplanner, diff_plans

CALLS: list[str] = []


@tool(read_only=True)
async def list_tables() -> list[str]:
    """The tables of the database."""
    return ["orders", "products"]


@tool
async def count_rows(table: str) -> int:
    """Count the rows of a table.

    Args:
        table: the table name
    """
    CALLS.append(table)
    if table == "missing":
        raise ValueError("no such table: missing")
    return {"orders": 120, "products": 7}[table]


@tool
async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def runtime():
    return StageAwareRuntime(tools=[list_tables, count_rows, add])


def catalog(rt):
    return Catalog.from_runtime(rt, tools=["add", "count_rows", "list_tables"], stages=[])


def plan_json(*steps, goal="count"):
    return json.dumps({"goal": goal, "steps": list(steps)})


GOOD = plan_json({"id": "o", "target": "count_rows", "params": {"table": "orders"}},
                 {"id": "p", "target": "count_rows", "params": {"table": "products"}},
                 {"id": "sum", "target": "add", "depends_on": ["o", "p"],
                  "params": {"a": "${steps.o.output}", "b": "${steps.p.output}"}})
BAD = plan_json({"id": "o", "target": "count_rows", "params": {"tbl": "orders"}},
                {"id": "sum", "target": "add", "params": {"a": "${steps.o.output}", "b": 1}},
                {"id": "x", "target": "rm_rf", "params": {}})


async def test_explore_then_format_gives_a_validated_plan():
    rt = runtime()
    model = ScriptedModel([call("list_tables"), "I will count both tables and add.", GOOD])
    generator = PlanGenerator(rt, catalog(rt), model=model, explore_tools=["list_tables"])
    plan = await generator.generate("How many rows do orders and products have together?")
    model.assert_used_up()
    assert [s.id for s in plan.steps] == ["o", "p", "sum"]
    result = await PlanExecutor(RuntimeStepRunner(rt), catalog=catalog(rt)).run(plan).wait()
    assert result.status == "completed" and result.outputs["sum"] == 127


async def test_an_invalid_plan_goes_back_with_every_issue_and_is_validated_again():
    rt = runtime()
    seen = []

    def answer(request):
        seen.append(request)
        n = len(seen)
        if n in (1, 3):
            return "Here is my plan."
        return BAD if n == 2 else GOOD

    generator = PlanGenerator(rt, catalog(rt), model=FunctionModel(answer), max_repairs=2)
    plan = await generator.generate("count")
    assert [s.id for s in plan.steps] == ["o", "p", "sum"]
    critique = seen[2].messages[-1].content
    assert "step 'o', field 'params'" in critique          # 'table' missing / 'tbl' unknown
    assert "step 'sum', field 'params.a'" in critique      # references a non-dependency
    assert "step 'x', field 'target'" in critique and "rm_rf" in critique


async def test_repairs_are_bounded():
    rt = runtime()
    model = ScriptedModel(["plan", BAD, "plan", BAD])
    generator = PlanGenerator(rt, catalog(rt), model=model, max_repairs=1)
    with pytest.raises(PlanGenerationError) as info:
        await generator.generate("count")
    model.assert_used_up()
    assert "2 plan(s) checked, 1 repair(s)" in str(info.value)
    assert any(i.step_id == "x" for i in info.value.issues)


async def test_the_prompt_lists_tools_and_stages_sorted_with_their_schemas():
    rt = runtime()
    prompts = []

    def answer(request):
        prompts.append(request.messages[0].content)
        return "plan" if len(prompts) % 2 else GOOD

    forward = catalog(rt)
    backward = Catalog(tools=dict(reversed(list(forward.tools.items()))),
                       stages={"sql": "SQL stage", "chart": "charts"})
    backward_sorted = Catalog(tools=forward.tools, stages={"chart": "charts", "sql": "SQL stage"})
    for cat in (backward, backward_sorted):
        await PlanGenerator(rt, cat, model=FunctionModel(answer)).generate("count")
    first, second = prompts[0], prompts[2]
    assert first == second  # the catalog's order does not matter
    positions = [first.index(f"tool `{n}`") for n in ("add", "count_rows", "list_tables")]
    assert positions == sorted(positions)
    assert first.index("stage `chart`") < first.index("stage `sql`")
    assert '"required": ["table"]' in first  # the schema, as canonical JSON


async def test_the_replanner_revises_remaining_steps_with_a_diff_event():
    rt = runtime()
    CALLS.clear()
    cat = catalog(rt)
    plan = ExecutionPlan.model_validate_json(plan_json(
        {"id": "o", "target": "count_rows", "params": {"table": "orders"}},
        {"id": "m", "target": "count_rows", "params": {"table": "missing"}},
        {"id": "sum", "target": "add", "depends_on": ["o", "m"],
         "params": {"a": "${steps.o.output}", "b": "${steps.m.output}"}}))
    revised = plan_json(
        {"id": "o", "target": "count_rows", "params": {"table": "orders"}},
        {"id": "m", "target": "count_rows", "params": {"table": "products"}},
        {"id": "sum", "target": "add", "depends_on": ["o", "m"],
         "params": {"a": "${steps.o.output}", "b": "${steps.m.output}"}})
    prompts = []

    def answer(request):
        prompts.append(request.messages[0].content)
        return "I replace the missing table." if len(prompts) % 2 else revised

    replanner = ModelReplanner(PlanGenerator(rt, cat, model=FunctionModel(answer)))
    executor = PlanExecutor(RuntimeStepRunner(rt), catalog=cat, replanner=replanner,
                            max_replans=1)
    result = await executor.run(plan).wait()
    assert result.status == "completed" and result.outputs["sum"] == 127
    assert CALLS.count("orders") == 1  # the completed step did not run again
    revised_events = [e for e in result.events if e.type == "plan_revised"]
    assert len(revised_events) == 1
    event = revised_events[0]
    assert event.changed == ["m"] and event.added == [] and event.revision == 1
    lines = event.diff.splitlines()
    assert any(ln.startswith("-") and '"table": "missing"' in ln for ln in lines)
    assert any(ln.startswith("+") and '"table": "products"' in ln for ln in lines)
    assert "no such table: missing" in prompts[0] and "`o`: 120" in prompts[0]


async def test_replanning_is_bounded_and_a_revision_may_not_touch_completed_steps():
    rt = runtime()
    cat = catalog(rt)
    plan = ExecutionPlan(goal="g", steps=[
        Step(id="o", target="count_rows", params={"table": "orders"}),
        Step(id="m", target="count_rows", depends_on=["o"], params={"table": "missing"})])
    tampered = plan_json({"id": "o", "target": "count_rows", "params": {"table": "products"}},
                         {"id": "m", "target": "count_rows", "params": {"table": "missing"}})
    asked = []

    def answer(request):
        asked.append(request)
        return "plan" if len(asked) % 2 else tampered

    replanner = ModelReplanner(PlanGenerator(rt, cat, model=FunctionModel(answer),
                                             max_repairs=1))
    result = await PlanExecutor(RuntimeStepRunner(rt), catalog=cat, replanner=replanner,
                                max_replans=3).run(plan).wait()
    assert result.status == "failed"
    assert not any(e.type == "plan_revised" for e in result.events)
    assert "already ran; the revision must not change it" in asked[2].messages[-1].content
    assert len(asked) == 4  # one re-plan: a plan, one repair - then the failure stands


def test_diff_plans_names_added_removed_and_changed_steps():
    old = ExecutionPlan(id="p", steps=[Step(id="a", target="t"), Step(id="b", target="t")])
    new = old.model_copy(update={"revision": 1, "steps": [
        Step(id="a", target="t", params={"x": 1}), Step(id="c", target="t")]})
    added, removed, changed, text = diff_plans(old, new)
    assert (added, removed, changed) == (["c"], ["b"], ["a"])
    assert text.startswith("--- revision 0\n+++ revision 1")


async def test_a_flagged_result_fails_its_step_and_is_replanned():
    rt = runtime()
    cat = catalog(rt)
    plan = ExecutionPlan(goal="g", steps=[
        Step(id="o", target="count_rows", params={"table": "products"}),
        Step(id="sum", target="add", depends_on=["o"],
             params={"a": "${steps.o.output}", "b": 1})])
    revised = plan_json({"id": "o2", "target": "count_rows", "params": {"table": "orders"}},
                        {"id": "o", "target": "count_rows", "params": {"table": "products"}},
                        {"id": "sum", "target": "add", "depends_on": ["o2"],
                         "params": {"a": "${steps.o2.output}", "b": 1}})
    answers = iter(["Use orders instead.", revised])
    replanner = ModelReplanner(PlanGenerator(rt, cat, model=FunctionModel(
        lambda request: next(answers))))

    def too_small(step, output):
        return f"only {output} rows" if step.target == "count_rows" and output < 10 else None

    result = await PlanExecutor(RuntimeStepRunner(rt), catalog=cat, replanner=replanner,
                                flag_result=too_small).run(plan).wait()
    assert result.steps["o"].status == "failed" and result.steps["o"].output == 7
    assert result.steps["o"].error == "result flagged: only 7 rows"
    assert result.outputs["sum"] == 121 and result.status == "partial"
    assert [e.added for e in result.events if e.type == "plan_revised"] == [["o2"]]
