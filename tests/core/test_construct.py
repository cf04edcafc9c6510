"""Trusted construction: equal to validated construction for every class it builds, and
refused, when a class is defined, for what it cannot build."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

import stageagent.models.test  # noqa: F401 - defines and checks the classes it builds
import stageagent.runtime  # noqa: F401
from stageagent import events as ev
from stageagent.construct import (constructible, constructible_classes, construct, every_field,
                                  trusted)
from stageagent.exceptions import ConstructionError
from stageagent.messages import (AssistantMessage, SystemMessage, TextPart, ToolCallPart,
                                 ToolResult, ToolReturnMessage, Usage, UserMessage)
from stageagent.models.base import ModelRequest, ModelSettings, OutputSchema, ToolDefinition

STAMP = {"run_id": "r1", "stage": "sql", "iteration": 2, "seq": 7, "ts": 1.5}
USAGE = Usage(input_tokens=3, output_tokens=4, requests=1)
CALL = ToolCallPart(id="c1", name="add", arguments={"a": 1, "nested": {"b": [1, 2]}})
RESULT = ToolResult(tool_call_id="c1", name="add", content="3")
ANSWER = AssistantMessage(parts=[TextPart(text="hi"), CALL], usage=USAGE, stop_reason="tool_use",
                          model="m")

#: one full set of field values per class built by trusted construction
SAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    ev.GroundingChecked: {**STAMP, "grounded": False, "ungrounded": ["C-9"]},
    ev.IterationCompleted: {**STAMP, "score": 0.5, "critiques": ["x"], "usage": USAGE,
                            "cost_usd": 0.01, "context_tokens": 12},
    ev.OutputFormatted: {**STAMP, "attempt": 2, "ok": False, "errors": ["bad"]},
    ev.QualityGate: {**STAMP, "score": 0.9, "threshold": 0.8, "passed": True,
                     "critiques": []},
    ev.RunCompleted: {**STAMP, "ok": True, "usage": USAGE, "cost_usd": None,
                      "duration_s": 2.5},
    ev.RunFailed: {**STAMP, "error": "boom", "error_type": "ValueError",
                   "failed_stage": "sql"},
    ev.RunStarted: {**STAMP, "input": "q", "stages": ["sql", "chart"]},
    ev.StageCompleted: {**STAMP, "reason": "passed", "score": 1.0, "critiques": [],
                        "iterations": 3, "usage": USAGE, "cost_usd": 0.2,
                        "output": {"total": 42}, "error": None},
    ev.StageStarted: {**STAMP, "model": "scripted:m", "tools": ["add"], "max_iterations": 4,
                      "quality_threshold": 0.7},
    ev.TextDeltaEvent: {**STAMP, "text": "he"},
    ev.Thought: {**STAMP, "text": "thinking"},
    ev.ToolApproval: {**STAMP, "tool_call_id": "c1", "tool": "rm", "approved": False,
                      "reason": "no"},
    ev.ToolCalled: {**STAMP, "tool_call_id": "c1", "tool": "add", "arguments": {"a": 1}},
    ev.ToolResultEvent: {**STAMP, "tool_call_id": "c1", "tool": "add", "is_error": True,
                         "content": "x", "duration_ms": 0.3, "truncated": True},
    ev.PlanCreated: {**STAMP, "plan_id": "p1", "plan": {"steps": [{"id": "a"}]}},
    ev.PlanRevised: {**STAMP, "plan_id": "p1", "revision": 2, "reason": "step b failed",
                     "added": ["c"], "removed": ["b"], "changed": ["d"], "diff": "-b\n+c"},
    ev.PlanStarted: {**STAMP, "plan_id": "p1", "steps": 4, "resumed": True},
    ev.PlanCompleted: {**STAMP, "plan_id": "p1", "status": "partial", "progress": 0.75,
                       "counts": {"completed": 3, "skipped": 1}, "error": "b failed",
                       "duration_s": 1.25},
    ev.StepStarted: {**STAMP, "plan_id": "p1", "step_id": "a", "attempt": 2, "kind": "tool",
                     "target": "add"},
    ev.StepCompleted: {**STAMP, "plan_id": "p1", "step_id": "a", "attempt": 2,
                       "duration_ms": 3.5},
    ev.StepFailed: {**STAMP, "plan_id": "p1", "step_id": "b", "attempt": 1, "error": "boom",
                    "error_type": "ValueError", "will_retry": True},
    ev.StepSkipped: {**STAMP, "plan_id": "p1", "step_id": "c", "status": "skipped",
                     "reason": "b failed"},
    ev.ApprovalRequested: {**STAMP, "plan_id": "p1", "approval_id": "ap1", "step_id": "a",
                           "summary": "run add", "timeout_s": 30.0},
    ev.ApprovalDecided: {**STAMP, "plan_id": "p1", "approval_id": "ap1", "step_id": None,
                         "approved": True, "by": "cli", "reason": "ok"},
    ev.StepEvent: {**STAMP, "plan_id": "p1", "step_id": "a",
                   "event": ev.Thought(**STAMP, text="nested")},
    AssistantMessage: {"role": "assistant", "parts": [TextPart(text="hi"), CALL],
                       "usage": USAGE, "stop_reason": "end_turn", "model": "m"},
    SystemMessage: {"role": "system", "content": "be brief"},
    TextPart: {"kind": "text", "text": "hello"},
    ToolCallPart: {"kind": "tool_call", "id": "c2", "name": "f", "arguments": {"x": [1]},
                   "raw_arguments": None},
    ToolResult: {"tool_call_id": "c1", "name": "add", "content": "3", "is_error": False},
    ToolReturnMessage: {"role": "tool", "results": [RESULT]},
    Usage: {"input_tokens": 1, "output_tokens": 2, "cache_read_tokens": 3,
            "cache_write_tokens": 4, "requests": 5, "estimated": True},
    UserMessage: {"role": "user", "content": "q"},
    ModelRequest: {"messages": [SystemMessage(content="s"), UserMessage(content="u"), ANSWER,
                                ToolReturnMessage(results=[RESULT])],
                   "tools": [ToolDefinition(name="add", description="d", parameters={})],
                   "settings": ModelSettings(max_tokens=5),
                   "output_schema": OutputSchema(name="Out", schema={"type": "object"})},
}


def test_every_class_built_by_trusted_construction_has_a_sample():
    # stageagent's own classes (tests here check classes of their own too)
    built = {c for c in constructible_classes() if c.__module__.startswith("stageagent.")}
    assert built == set(SAMPLES), "add a sample for each new class (or drop the stale one)"


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_trusted_construction_equals_validated_construction(cls):
    sample = SAMPLES[cls]
    validated = cls(**sample)
    complete = {name: getattr(validated, name) for name in cls.model_fields}  # + defaults
    for built in (construct(cls, sample), trusted(cls, complete, every_field(cls))):
        assert built == validated
        assert type(built) is cls
        assert built.model_dump() == validated.model_dump()
        assert built.model_dump_json() == validated.model_dump_json()
        assert cls.model_validate_json(built.model_dump_json(by_alias=True)) == validated


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_defaults_equal_validated_defaults_and_are_not_shared(cls):
    required = {name: SAMPLES[cls][name] for name, info in cls.model_fields.items()
                if info.is_required()}
    validated = cls(**required)
    first, second = construct(cls, required), construct(cls, required)
    assert first == validated and first.model_fields_set == validated.model_fields_set
    for name in cls.model_fields:
        value = getattr(first, name)
        if isinstance(value, (list, dict)) and name not in required:
            assert value is not getattr(second, name), f"{cls.__name__}.{name} is shared"


class Out(BaseModel):
    n: int


@pytest.mark.parametrize("body, problem", [
    ({"_secret": PrivateAttr(default=1)}, "private attributes (_secret)"),
    ({"model_post_init": lambda self, context: None}, "model_post_init"),
    ({"check": field_validator("n")(classmethod(lambda cls, v: v))}, "validators (check)"),
    ({"whole": model_validator(mode="after")(lambda self: self)}, "validators (whole)"),
    ({"__annotations__": {"n": int, "m": int}, "m": Field(default=0, alias="M")},
     "an alias on field 'm'"),
    ({"__annotations__": {"n": int, "tags": list}, "tags": []},
     "a mutable plain default on field 'tags'"),
    ({"model_config": ConfigDict(extra="allow")}, "extra='allow'"),
])
def test_features_construction_cannot_handle_are_refused_at_definition(body, problem):
    namespace = {"__annotations__": {"n": int}, "__module__": __name__, **body}
    cls = type("Bad", (BaseModel,), namespace)
    with pytest.raises(ConstructionError, match="Bad cannot be built") as info:
        constructible(cls)
    assert problem in str(info.value)
    with pytest.raises(ConstructionError):
        construct(cls, {"n": 1})  # unchecked classes are checked on first use too


def test_an_event_with_a_private_attribute_is_refused_when_defined():
    with pytest.raises(ConstructionError, match="private attributes"):
        class Sneaky(ev.BaseEvent):
            type: str = "sneaky"
            _cache: dict = PrivateAttr(default_factory=dict)


def test_a_plain_class_is_accepted():
    assert constructible(Out) is Out
    assert construct(Out, {"n": 3}) == Out(n=3)
