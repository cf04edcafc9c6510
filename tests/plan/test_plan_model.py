"""The plan as data: JSON round-trip, the JSON schema for outside planners, progress."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from stageagent.plan import ExecutionPlan, PlanOptions, Step, plan_json_schema
from stageagent.plan.model import progress


def sample() -> ExecutionPlan:
    return ExecutionPlan(goal="Umsatz je Kategorie ✓", steps=[
        Step(id="sql", kind="stage", target="sql", params={"input": "revenue?"}),
        Step(id="chart", kind="stage", target="chart", depends_on=["sql"],
             params={"input": "${steps.sql.output.text}", "context": {"n": [1, 2.5, None]}}),
        Step(id="save", target="write", depends_on=["chart"], retries=3, idempotent=True,
             timeout_s=2.5, requires_approval=True, backoff_s=0.1),
    ], options=PlanOptions(max_parallel=2, on_error="continue", total_timeout_s=60))


def test_json_round_trip_is_lossless():
    plan = sample()
    text = plan.model_dump_json()
    again = ExecutionPlan.from_json(text)
    assert again == plan
    assert again.model_dump_json() == text
    assert json.loads(text)["steps"][1]["params"]["context"]["n"] == [1, 2.5, None]


def test_json_schema_accepts_plans_and_rejects_broken_ones():
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(sample().model_dump_json()), schema)
    broken = json.loads(sample().model_dump_json())
    broken["steps"][0]["kind"] = "shell"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


@pytest.mark.parametrize("field, value", [
    ("id", "has space"), ("id", ""), ("id", "x" * 65), ("retries", -1), ("timeout_s", 0),
    ("kind", "shell"), ("target", ""), ("unknown_field", 1),
])
def test_bad_step_fields_are_rejected(field, value):
    data = {"id": "a", "target": "t", field: value}
    with pytest.raises(ValidationError) as info:
        Step.model_validate(data)
    assert field in str(info.value)


def test_progress_of_an_empty_plan_is_complete_not_nan():
    assert progress([]) == 1.0
    assert progress(["completed", "pending"]) == 0.5
    assert progress(["failed", "skipped", "cancelled", "completed"]) == 1.0
