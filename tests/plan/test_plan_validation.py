"""Validation before anything runs: every problem, each naming the step id and the field."""

from __future__ import annotations

import json

import pytest

from stageagent.exceptions import PlanValidationError
from stageagent.plan import Catalog, ExecutionPlan, PlanExecutor, Step, parse_plan, validate_plan

from .helpers import Recorder, plan_of, step

CATALOG = Catalog(
    tools={"query": ("run SQL", {"type": "object", "properties": {
        "sql": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
        "required": ["sql"], "additionalProperties": False}),
        "echo": ("echo", {"type": "object", "properties": {"value": {}}})},
    stages={"sql": "the SQL stage", "document": "writes text"})


def where(issues):
    return {(i.step_id, i.field) for i in issues}


def test_a_valid_plan_has_no_issues():
    plan = plan_of(
        Step(id="q", target="query", params={"sql": "SELECT 1", "limit": 5}),
        Step(id="doc", kind="stage", target="document", depends_on=["q"],
             params={"input": "Write about ${steps.q.output.rows}"}))
    assert validate_plan(plan, CATALOG) == []


def test_unknown_targets_and_invalid_params_name_step_and_field():
    plan = plan_of(
        Step(id="a", target="nope"),
        Step(id="b", kind="stage", target="chart", params={"input": "x"}),
        Step(id="c", target="query", params={"limit": "ten", "extra": 1}),
        Step(id="d", kind="stage", target="sql", params={"input": 3}))
    issues = validate_plan(plan, CATALOG)
    assert ("a", "target") in where(issues) and ("b", "target") in where(issues)
    assert any(i.step_id == "a" and "unknown tool 'nope'" in i.message and "query" in i.message
               for i in issues)
    assert ("c", "params") in where(issues)  # 'sql' is required / 'extra' not allowed
    assert ("c", "params.limit") in where(issues)
    assert ("d", "params.input") in where(issues)
    assert all(str(i).startswith(("step '", "plan,")) for i in issues)


def test_missing_dependencies_duplicates_and_self_dependency():
    plan = plan_of(step("a", "echo", "ghost"), step("a"), step("b", "echo", "b"))
    issues = validate_plan(plan, CATALOG)
    assert ("a", "depends_on[0]") in where(issues)
    assert any("unknown step id 'ghost'" in i.message for i in issues)
    assert ("a", "id") in where(issues)
    assert ("b", "depends_on[0]") in where(issues)


def test_a_cycle_is_named():
    plan = plan_of(step("a", "echo", "c"), step("b", "echo", "a"), step("c", "echo", "b"),
                   step("free"))
    issues = [i for i in validate_plan(plan) if "cycle" in i.message]
    assert len(issues) == 1 and issues[0].field == "depends_on"
    names = issues[0].message.split("cycle: ")[1].split(" -> ")
    assert set(names) == {"a", "b", "c"} and names[0] == names[-1] and len(names) == 4


def test_references_must_point_at_transitive_dependencies():
    plan = plan_of(
        step("a"), step("b", "echo", "a"),
        step("c", "echo", "b", params={"value": "${steps.a.output}"}),  # transitive: fine
        step("d", "echo", params={"value": "${steps.a.output.x}"}),  # not a dependency
        step("e", "echo", "a", params={"value": ["ok", "${steps.zz.output}"]}),
        step("f", "echo", "a", params={"value": "${steps.a.result}"}))  # malformed
    issues = validate_plan(plan, CATALOG)
    assert ("d", "params.value") in where(issues)
    assert any(i.step_id == "d" and "not a (transitive) dependency" in i.message for i in issues)
    assert ("e", "params.value[1]") in where(issues)
    assert any(i.step_id == "f" and "malformed reference" in i.message for i in issues)
    assert "c" not in {i.step_id for i in issues}


def test_references_into_a_stage_output_are_checked_against_its_keys():
    plan = plan_of(Step(id="s", kind="stage", target="sql", params={"input": "q"}),
                   step("ok", "echo", "s", params={"value": "${steps.s.output.output.sql}"}),
                   step("bad", "echo", "s", params={"value": "${steps.s.output.rows}"}))
    from stageagent.plan.catalog import STAGE_OUTPUT_KEYS

    runtime_like = Catalog(tools=CATALOG.tools, stages=CATALOG.stages,
                           stage_output_keys=STAGE_OUTPUT_KEYS)
    issues = validate_plan(plan, runtime_like)
    assert [(i.step_id, i.field) for i in issues] == [("bad", "params.value")]
    assert "has no output 'rows'" in issues[0].message and "text, output" in issues[0].message
    assert validate_plan(plan, CATALOG) == []  # a runner with its own stage outputs


def test_a_whole_string_reference_stands_in_for_any_type():
    plan = plan_of(step("a"), Step(id="q", target="query", depends_on=["a"],
                                   params={"sql": "SELECT 1", "limit": "${steps.a.output}"}))
    assert validate_plan(plan, CATALOG) == []


def test_retries_need_an_idempotent_step_and_the_step_limit_holds():
    plan = plan_of(step("a", retries=2), *[step(f"s{i}") for i in range(5)], max_steps=3)
    issues = validate_plan(plan)
    assert ("a", "retries") in where(issues)
    assert (None, "steps") in where(issues)


def test_parse_plan_turns_schema_errors_into_issues_with_step_ids():
    raw = json.dumps({"goal": "g", "steps": [
        {"id": "ok", "target": "echo"},
        {"id": "bad", "target": "echo", "retries": "many"},
        {"target": "echo"}]})
    plan, issues = parse_plan(raw, CATALOG)
    assert plan is None
    assert ("bad", "retries") in where(issues)
    assert ("steps[2]", "id") in where(issues)
    plan, issues = parse_plan("{not json", CATALOG)
    assert plan is None and issues


async def test_the_executor_refuses_an_invalid_plan_before_anything_runs():
    rec = Recorder()
    executor = PlanExecutor(rec.runner(), catalog=CATALOG)
    plan = plan_of(step("a", params={"value": 1}), step("b", "nope", "a"))
    with pytest.raises(PlanValidationError) as info:
        executor.run(plan)
    assert "step 'b', field 'target'" in str(info.value)
    assert info.value.issues[0].step_id == "b"
    assert rec.calls == [] and await executor.store.plan_ids() == []


def test_hostile_plan_inputs_are_reported_not_crashing():
    junk = {"id": "\u202e\u0000", "steps": [{"id": "a", "target": "echo",
                                              "depends_on": ["a" * 10_000]}],
            "options": {"max_parallel": 10**12}}
    plan, issues = parse_plan(junk)
    assert plan is None
    fields = {i.field for i in issues}
    assert "id" in fields and "options.max_parallel" in fields
    big = ExecutionPlan(steps=[Step(id=f"s{i}", target="echo") for i in range(201)])
    assert any(i.field == "steps" for i in validate_plan(big))
