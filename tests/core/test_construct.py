"""Trusted construction: equal to validated construction for every class it builds, and
refused, when a class is defined, for what it cannot build."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

import stageagent.models.test  # noqa: F401 - defines and checks the classes it builds
import stageagent.runtime  # noqa: F401
from stageagent.construct import (constructible, constructible_classes, construct, every_field,
                                  trusted)
from stageagent.exceptions import ConstructionError
from stageagent.messages import (AssistantMessage, SystemMessage, TextPart, ToolCallPart,
                                 ToolResult, ToolReturnMessage, Usage, UserMessage)
from stageagent.models.base import ModelRequest, ModelSettings, OutputSchema, ToolDefinition

USAGE = Usage(input_tokens=3, output_tokens=4, requests=1)
CALL = ToolCallPart(id="c1", name="add", arguments={"a": 1, "nested": {"b": [1, 2]}})
RESULT = ToolResult(tool_call_id="c1", name="add", content="3")
ANSWER = AssistantMessage(parts=[TextPart(text="hi"), CALL], usage=USAGE, stop_reason="tool_use",
                          model="m")

#: one full set of field values per class built by trusted construction
SAMPLES: dict[type[BaseModel], dict[str, Any]] = {
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


def test_a_plain_class_is_accepted():
    assert constructible(Out) is Out
    assert construct(Out, {"n": 3}) == Out(n=3)
