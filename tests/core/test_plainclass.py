"""Plain classes (the events): built without validation, yet equal to what validation
builds, and written as the JSON pydantic writes for the same fields."""

from __future__ import annotations

import copy
import math
import pickle
import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, create_model

from stageagent import events as ev
from stageagent import messages as m
from stageagent.messages import Usage
from stageagent import stage_config as sc
from stageagent.models.base import (ModelRequest, ModelSettings, OutputSchema, StreamComplete,
                                    TextDelta, ThinkingDelta, ToolCallDelta, ToolDefinition,
                                    model_request)
from stageagent.exceptions import ConstructionError
from stageagent.plainclass import PlainClass, default_of, field, field_names
from stageagent.quality import QualityReport

STAMP = {"run_id": "r1", "stage": "sql", "iteration": 2, "seq": 7, "ts": 1.5}
USAGE = Usage(input_tokens=3, output_tokens=4, requests=1)

#: one full set of field values per event class (`type` comes from the class)
SAMPLES: dict[type[ev.BaseEvent], dict[str, Any]] = {
    ev.RunStarted: {"input": "q", "stages": ["sql", "chart"]},
    ev.RunCompleted: {"ok": True, "usage": USAGE, "cost_usd": None, "duration_s": 2.5},
    ev.RunFailed: {"error": "boom", "error_type": "ValueError", "failed_stage": "sql"},
    ev.StageStarted: {"model": "scripted:m", "tools": ["add"], "max_iterations": 4,
                      "quality_threshold": 0.7},
    ev.StageCompleted: {"reason": "passed", "score": 1.0, "critiques": [], "iterations": 3,
                        "usage": USAGE, "cost_usd": 0.2, "output": {"total": 42},
                        "error": None},
    ev.Thought: {"text": "thinking"},
    ev.TextDeltaEvent: {"text": "he"},
    ev.ToolCalled: {"tool_call_id": "c1", "tool": "add", "arguments": {"a": 1}},
    ev.ToolApproval: {"tool_call_id": "c1", "tool": "rm", "approved": False, "reason": "no"},
    ev.ToolResultEvent: {"tool_call_id": "c1", "tool": "add", "is_error": True,
                         "content": "x", "duration_ms": 0.3, "truncated": True},
    ev.IterationCompleted: {"score": 0.5, "critiques": ["x"], "usage": USAGE,
                            "cost_usd": 0.01, "context_tokens": 12,
                            "response_model": "m-1", "finish_reason": "tool_use"},
    ev.QualityGate: {"score": 0.9, "threshold": 0.8, "passed": True, "critiques": []},
    ev.OutputFormatted: {"attempt": 2, "ok": False, "errors": ["bad"], "usage": USAGE,
                         "response_model": "m"},
    ev.GroundingChecked: {"grounded": False, "ungrounded": ["C-9"]},
    ev.PlanCreated: {"plan_id": "p1", "plan": {"steps": [{"id": "a"}]}},
    ev.PlanRevised: {"plan_id": "p1", "revision": 2, "reason": "step b failed",
                     "added": ["c"], "removed": ["b"], "changed": ["d"], "diff": "-b\n+c"},
    ev.PlanStarted: {"plan_id": "p1", "steps": 4, "resumed": True},
    ev.PlanCompleted: {"plan_id": "p1", "status": "partial", "progress": 0.75,
                       "counts": {"completed": 3, "skipped": 1}, "error": "b failed",
                       "duration_s": 1.25},
    ev.StepStarted: {"plan_id": "p1", "step_id": "a", "attempt": 2, "kind": "tool",
                     "target": "add"},
    ev.StepCompleted: {"plan_id": "p1", "step_id": "a", "attempt": 2, "duration_ms": 3.5},
    ev.StepFailed: {"plan_id": "p1", "step_id": "b", "attempt": 1, "error": "boom",
                    "error_type": "ValueError", "will_retry": True},
    ev.StepSkipped: {"plan_id": "p1", "step_id": "c", "status": "skipped",
                     "reason": "b failed"},
    ev.ApprovalRequested: {"plan_id": "p1", "approval_id": "ap1", "step_id": "a",
                           "summary": "run add", "timeout_s": 30.0},
    ev.ApprovalDecided: {"plan_id": "p1", "approval_id": "ap1", "step_id": None,
                         "approved": True, "by": "cli", "reason": "ok"},
    ev.StepEvent: {"plan_id": "p1", "step_id": "a",
                   "event": ev.Thought(**STAMP, text="nested")},
}

EVENT_CLASSES = typing.get_args(typing.get_args(ev.Event)[0])


def test_every_event_class_has_a_sample():
    assert set(EVENT_CLASSES) == set(SAMPLES), "add a sample for each new event class"


CALL = m.ToolCallPart(id="c1", name="add", arguments={"a": 1, "nested": {"b": [1, 2]}})
RESULT = m.ToolResult(tool_call_id="c1", name="add", content="3")
ANSWER = m.AssistantMessage(parts=[m.TextPart(text="hi"), CALL], usage=USAGE,
                            stop_reason="tool_use", model="m")
REQUEST_VALUES = {
    "messages": [m.SystemMessage(content="s"), m.UserMessage(content="u"), ANSWER,
                 m.ToolReturnMessage(results=[RESULT])],
    "tools": [ToolDefinition(name="add", description="d", parameters={})],
    "settings": ModelSettings(max_tokens=5),
    "output_schema": OutputSchema(name="Out", schema={"type": "object"})}

#: each builder of a turn's messages, with the values it is given and the same values by
#: field name: what validated construction makes of them
BUILT: list[tuple[Any, type[PlainClass], dict[str, Any]]] = [
    (m.usage_of(1, 2, 3, 4, 5, True), Usage,
     {"input_tokens": 1, "output_tokens": 2, "cache_read_tokens": 3, "cache_write_tokens": 4,
      "requests": 5, "estimated": True}),
    (m.no_usage(), Usage, {"requests": 0}),
    (m.text_part("hello"), m.TextPart, {"text": "hello"}),
    (m.tool_call_part("c2", "f", {"x": [1]}), m.ToolCallPart,
     {"id": "c2", "name": "f", "arguments": {"x": [1]}}),
    (m.assistant_message([m.text_part("hi"), CALL], USAGE, "end_turn", "m"),
     m.AssistantMessage, {"parts": [m.TextPart(text="hi"), CALL], "usage": USAGE,
                          "stop_reason": "end_turn", "model": "m"}),
    (m.system_message("be brief"), m.SystemMessage, {"content": "be brief"}),
    (m.user_message("q"), m.UserMessage, {"content": "q"}),
    (m.tool_result("c1", "add", "3", False), m.ToolResult,
     {"tool_call_id": "c1", "name": "add", "content": "3", "is_error": False}),
    (m.tool_return([RESULT]), m.ToolReturnMessage, {"results": [RESULT]}),
    (model_request(REQUEST_VALUES["messages"], REQUEST_VALUES["tools"],  # type: ignore[arg-type]
                   REQUEST_VALUES["settings"], REQUEST_VALUES["output_schema"]),  # type: ignore[arg-type]
     ModelRequest, REQUEST_VALUES),
]


def _plain_classes(cls: type = PlainClass) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("stageagent."):
            found.add(sub)
        found |= _plain_classes(sub)
    return found


#: the classes built only by validation (settings, stage files, stream deltas, verdicts):
#: one set of field values each, none at its default
VALIDATED: dict[type[PlainClass], dict[str, Any]] = {
    ToolDefinition: {"name": "add", "description": "adds", "parameters": {"type": "object"}},
    ModelSettings: {"max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "stop_sequences": ["x"],
                    "timeout": 3.0, "thinking_budget": 1024, "parallel_tool_calls": False,
                    "tool_choice": "add", "extra": {"seed": 1}},
    OutputSchema: {"name": "Out", "schema": {"type": "object"}, "description": "d"},
    TextDelta: {"text": "he"},
    ThinkingDelta: {"text": "hm"},
    ToolCallDelta: {"index": 1, "id": "c1", "name": "add", "arguments_delta": '{"a"'},
    StreamComplete: {"message": ANSWER},
    QualityReport: {"score": 0.25, "critiques": ["x"], "evaluator": "e", "details": {"k": 1}},
    sc.StageModel: {"id": "openai:gpt-4o", "max_tokens": 9, "temperature": 1.0, "top_p": 0.5,
                    "stop_sequences": ["y"], "thinking_budget": 2, "parallel_tool_calls": True,
                    "tool_choice": "required"},
    sc.StageBudget: {"context_tokens": 1000, "max_total_tokens": 10, "max_cost_usd": 0.5},
    sc.StageTimeouts: {"stage_s": 1.0, "tool_s": 2.0, "model_s": None},
    sc.StageLimits: {"loop_repeats": 4, "format_retries": 0, "tool_output_tokens": 16},
    sc.StageConfig: {"name": "sql", "description": "d", "prompt_text": "Hi {{ x }}",
                     "toolkit": "m:k", "tools": ["a"], "evaluators": ["e"],
                     "quality_threshold": 0.5, "max_iterations": 2, "output_schema": "m:C",
                     "grounding": "fail", "model": {"id": "scripted:m"},
                     "budget": {"context_tokens": 300}, "timeouts": {"stage_s": None},
                     "limits": {"loop_repeats": 2}, "source": "sql.toml"},
}
FROZEN = {ToolDefinition, OutputSchema, sc.StageModel, sc.StageBudget, sc.StageTimeouts,
          sc.StageLimits, sc.StageConfig}


def test_every_plain_class_of_the_framework_is_tested_here():
    tested = {ev.BaseEvent, *SAMPLES, *(cls for _, cls, _ in BUILT), m.ThinkingPart,
              *VALIDATED, sc._Strict}
    assert _plain_classes() == tested, "test each new plain class here"


@pytest.mark.parametrize("cls", list(VALIDATED), ids=lambda c: c.__name__)
def test_validated_classes_read_back_what_they_write(cls):
    values = VALIDATED[cls]
    made = cls(**values)
    assert all(getattr(made, n) != default_of(cls, n, ...) for n in values), "not a default"
    assert made == cls.model_validate(values) == cls.model_validate_json(made.model_dump_json())
    assert cls.model_validate(made.model_dump(mode="json")) == made
    assert made.model_copy() == made and made.model_copy() is not made
    if cls is not OutputSchema:  # `schema` is a BaseModel method: no twin can have it
        twin = _twin(cls)(**made.model_dump())
        assert made.model_dump_json() == twin.model_dump_json()
    assert (cls in FROZEN) == cls.__plain_frozen__


@pytest.mark.parametrize("cls", sorted(FROZEN, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_frozen_classes_refuse_changes_and_are_keys(cls):
    import weakref

    made = cls(**VALIDATED[cls])
    name = next(iter(VALIDATED[cls]))
    with pytest.raises(ValidationError, match=f"{name}\n  Instance is frozen"):
        setattr(made, name, getattr(made, name))
    with pytest.raises(ValidationError, match="frozen"):
        delattr(made, name)
    assert weakref.ref(made)() is made
    for again in (pickle.loads(pickle.dumps(made)), copy.deepcopy(made), copy.copy(made)):
        assert again == made and again is not made and again.__plain_frozen__
    changed = made.model_copy(update={name: default_of(cls, name, None)})
    assert changed != made and getattr(made, name) == VALIDATED[cls][name]
    if cls in (sc.StageBudget, sc.StageTimeouts, sc.StageLimits):  # all fields hashable
        assert hash(made) == hash(cls(**VALIDATED[cls])) and {made: 1}[cls(**VALIDATED[cls])]


def test_settings_and_stage_classes_name_a_bad_key_and_a_bad_value():
    cases = [
        (lambda: ModelSettings(temprature=1.0), "temprature", "unexpected_keyword_argument"),
        (lambda: sc.StageConfig(name="s", colour="blue"), "colour",
         "unexpected_keyword_argument"),
        (lambda: sc.StageConfig(name="s", max_iterations=0), "max_iterations",
         "greater_than_equal"),
        (lambda: sc.StageConfig(name="a b"), "name", "string_pattern_mismatch"),
        (lambda: sc.StageConfig(name="s", model={"top_p": 0}), "model.top_p", "greater_than"),
        (lambda: sc.StageConfig(name="s", tools=["a", "a"]), "tools", "value_error"),
        (lambda: sc.StageConfig(name="s", prompt="p.j2", prompt_text="x"), "prompt_text",
         "value_error"),
        (lambda: sc.StageConfig(name="s", output_schema=dict), "output_schema", "value_error"),
        (lambda: sc.StageConfig(name="s", output_schema=5), "output_schema", "value_error"),
        (lambda: QualityReport(score=math.nan), "score", "value_error"),
        (lambda: QualityReport(score=1.5), "score", "less_than_equal"),
        (lambda: ToolCallDelta(index="first"), "index", "int_parsing"),
    ]
    for build, key, kind in cases:
        with pytest.raises(ValidationError) as info:
            build()
        error = info.value.errors()[0]
        assert (".".join(map(str, error["loc"])), error["type"]) == (key, kind)
    from stageagent.plainclass import adapter_for

    schema = adapter_for(sc.StageConfig).json_schema()  # stage files' schema, for editors
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["StageModel"]["additionalProperties"] is False
    assert "additionalProperties" not in adapter_for(TextDelta).json_schema()
    report = QualityReport(score=1)  # type: ignore[arg-type]  # coerced as pydantic does
    assert report.score == 1.0 and type(report.score) is float


def test_a_stage_config_takes_a_model_class_and_derives_variants():
    class Out(BaseModel):
        total: int

    config = sc.StageConfig(name="s", output_schema=Out)
    assert config.output_model() is Out and config.model.id == sc.DEFAULT_MODEL
    assert config.model == sc.StageModel() and config.model is not sc.StageModel()
    variant = config.model_copy(update={"max_iterations": 9})
    assert (variant.max_iterations, config.max_iterations, variant.output_schema) == (9, 5, Out)
    with pytest.raises(TypeError, match="StageConfig has no field 'max_iteration'"):
        config.model_copy(update={"max_iteration": 9})


def test_model_settings_merge_what_the_override_sets():
    base = ModelSettings(max_tokens=100, temperature=0.2, extra={"a": 1, "b": 2})
    assert base.merged(None) is base and base.merged(ModelSettings()) is base
    merged = base.merged(ModelSettings(temperature=0.9, tool_choice="none", extra={"b": 3}))
    assert (merged.max_tokens, merged.temperature, merged.tool_choice, merged.extra) == (
        100, 0.9, "none", {"a": 1, "b": 3})
    assert base.temperature == 0.2 and base.extra == {"a": 1, "b": 2}  # unchanged


def test_a_plain_class_with_settings_of_ones_own():
    def even(value: int, earlier: dict[str, Any]) -> int:
        if value % 2:
            raise ValueError(f"odd after {earlier}")
        return value

    class Knob(PlainClass, frozen=True, extra="forbid"):
        label: str = field(default="k", min_length=1)
        level: int = field(default=0, ge=0, le=10, after=even)
        raw: str = field(default="", before=str.strip)

    knob = Knob(level=4, raw="  x ")
    assert (knob.label, knob.level, knob.raw) == ("k", 4, "x")
    with pytest.raises(ValidationError, match="odd after {'label': 'z'}"):
        Knob(label="z", level=3)
    with pytest.raises(ValidationError, match="level"):
        Knob(level=12)
    with pytest.raises(ValidationError, match="unexpected"):
        Knob(volume=1)
    with pytest.raises(ConstructionError, match="not both"):
        field(default=1, default_factory=int)
    with pytest.raises(ConstructionError, match="extra must be"):
        class Loose(PlainClass, extra="allow"):  # type: ignore[call-arg]
            x: int = 0


def test_importing_the_runtime_loads_no_pydantic_model_machinery():
    """pydantic's model and schema modules load with the first validation, not at import:
    a program that only imports (a CLI's --help) does not pay for them."""
    import subprocess
    import sys

    code = ("import sys, stageagent; stageagent.StageAwareRuntime; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("built, cls, values", BUILT, ids=lambda v: getattr(v, "__name__", ""))
def test_builders_make_what_validation_makes(built, cls, values):
    validated = cls(**values)
    assert type(built) is cls and built == validated
    assert {n: getattr(built, n) for n in field_names(cls)} == {
        n: getattr(validated, n) for n in field_names(cls)}  # every field set
    assert built.model_dump_json(by_alias=True) == _twin(cls)(**values).model_dump_json(
        by_alias=True)
    assert cls.model_validate_json(built.model_dump_json(by_alias=True)) == validated
    assert cls.model_construct(**values) == validated


def test_messages_validate_what_comes_from_outside():
    message = m.AssistantMessage(parts=[{"kind": "text", "text": "hi"},  # type: ignore[list-item]
                                        {"kind": "tool_call", "id": "c", "name": "f"}])
    assert message.parts == [m.TextPart(text="hi"), m.ToolCallPart(id="c", name="f")]
    assert message.usage == m.no_usage() and message.text == "hi"
    with pytest.raises(ValidationError, match="parts.0"):
        m.AssistantMessage(parts=[{"kind": "robot"}])  # type: ignore[list-item]
    history = m.MessagesAdapter.validate_json(m.MessagesAdapter.dump_json(
        REQUEST_VALUES["messages"]))  # type: ignore[arg-type]
    assert history == REQUEST_VALUES["messages"]


def _twin(cls: type[PlainClass]) -> type[BaseModel]:
    """A pydantic model with the same fields (annotations and defaults): the reference
    for what the JSON of those fields is."""
    hints = typing.get_type_hints(cls)
    fields = {name: (hints[name], default_of(cls, name, ...)) for name in field_names(cls)}
    return create_model(f"{cls.__name__}Twin", **fields)  # type: ignore[call-overload]


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_trusted_construction_equals_validation_and_writes_pydantics_json(cls):
    values = {**STAMP, **SAMPLES[cls]}
    validated = cls(**values)
    built = cls.model_construct(**values)
    made = ev.Emitter("r1", "sql").make(cls, **SAMPLES[cls])
    assert type(built) is cls and built == validated and built.type == default_of(cls, "type")
    assert made == validated.model_copy(update={"seq": 1, "ts": made.ts, "iteration": 0})
    assert cls.model_validate(values) == validated == cls.model_validate_json(
        built.model_dump_json())
    assert ev.parse_event(built.model_dump_json()) == validated
    assert ev.parse_event(built.model_dump(mode="json")) == validated
    twin = _twin(cls)(**values)
    assert built.model_dump_json() == twin.model_dump_json()
    assert built.model_dump() == twin.model_dump()
    assert built.model_dump(mode="json", exclude={"ts"}) == twin.model_dump(mode="json",
                                                                            exclude={"ts"})
    assert built.model_dump_json(indent=2) == twin.model_dump_json(indent=2)


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_defaults_equal_validated_defaults_and_are_not_shared(cls):
    hints = typing.get_type_hints(cls)
    required = {n: ({**STAMP, **SAMPLES[cls]})[n] for n in field_names(cls)
                if default_of(cls, n, ...) is ...}
    assert "run_id" in required and all(n in hints for n in required)
    first, second = cls.model_construct(**required), cls.model_construct(**required)
    assert first == cls(**required)
    for name in field_names(cls):
        value = getattr(first, name)
        if isinstance(value, (list, dict)) and name not in required:
            assert value is not getattr(second, name), f"{cls.__name__}.{name} is shared"


def test_validation_names_the_field_and_the_class():
    with pytest.raises(ValidationError, match="tool_call_id") as info:
        ev.ToolCalled(run_id="r", tool="t")
    assert info.value.title == "ToolCalled"
    with pytest.raises(ValidationError, match="reason"):
        ev.StageCompleted(run_id="r", reason="felt like it")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="iteration"):
        ev.Thought(run_id="r", text="x", iteration="many")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Thought: the required field 'text' is missing"):
        ev.Thought.model_construct(run_id="r")


def test_hostile_values_serialise_and_read_back():
    emitter = ev.Emitter("r\u0000\U0010ffff", stage="\u202e")
    events = [
        emitter.thought("half a pair: \ud83d and \udc00"),
        emitter.tool_called("c", "t", {"n": 10 ** 5000, "s": "\ud800", "f": math.inf}),
        emitter.tool_called("c", "t", {"n": -(10 ** 5000) - 1, "m": [2 ** 20000]}),
        emitter.stage_completed("error", math.nan, ["\U0001f600" * 1000], 1, USAGE, None,
                                {"nested": [[[[["deep"]]]]]}, "x" * 100_000),
    ]
    for event in events:
        text = event.model_dump_json()
        again = ev.parse_event(text)
        assert type(again) is type(event) and again.seq == event.seq
    assert ev.parse_event(events[0].model_dump_json()) == events[0]
    assert ev.parse_event(events[0].model_dump_json(indent=1)) == events[0]
    for event in events[1:3]:  # integers of any length come back exactly
        assert ev.parse_event(event.model_dump_json()).arguments["n"] == event.arguments["n"]
    assert ev.parse_event(events[2].model_dump_json()) == events[2]


def test_a_mutable_plain_default_is_refused_when_defined():
    with pytest.raises(ConstructionError, match="Bad.tags: a mutable default"):
        class Bad(PlainClass):
            tags: list[str] = []  # noqa: RUF012


def test_a_bad_factory_or_an_unknown_type_is_named():
    with pytest.raises(ConstructionError, match="Bad.tags: default_factory must be callable"):
        class Bad(PlainClass):
            tags: list[str] = field(default_factory=[])  # type: ignore[arg-type]

    class Typo(PlainClass):
        when: Datetime  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ConstructionError, match="Typo: cannot resolve the types of its "
                                                "fields: NameError: name 'Datetime'"):
        Typo(when="now")


def test_a_plain_class_of_ones_own():
    class Point(PlainClass):
        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)

    p = Point(x="3")  # type: ignore[arg-type]  # validated: coerced as pydantic does
    assert (p.x, p.y, p.tags, Point.__slots__) == (3, 0, [], ("x", "y", "tags"))
    assert repr(p) == "Point(x=3, y=0, tags=[])"
    assert p != Point(x=3, y=1) and p == Point(x=3)
    assert Point.model_validate_json('{"x": 1, "y": 2}') == Point(x=1, y=2)
    with pytest.raises(AttributeError):
        p.z = 1  # type: ignore[attr-defined]  # slots: no stray attributes
    with pytest.raises(TypeError):
        hash(p)


def test_events_pickle_and_nest_in_pydantic_models():
    event = ev.Emitter("r").tool_result("c", "t", False, "out", 1.5, False)
    assert pickle.loads(pickle.dumps(event)) == event

    class Envelope(BaseModel):
        events: list[ev.Event]

    box = Envelope(events=[event, ev.Emitter("r").thought("x")])
    again = Envelope.model_validate_json(box.model_dump_json())
    assert again.events == box.events and type(again.events[0]) is ev.ToolResultEvent


class Node(PlainClass):
    name: str
    children: list[Node] = field(default_factory=list)


def test_a_recursive_plain_class_validates_and_serialises_in_any_thread():
    import threading

    data = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
    results: list[Any] = []

    def build() -> None:
        results.append(Node.model_validate(data))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tree = Node(**data)
    assert results == [tree] * 8 and tree.children[0].children[0].name == "c"
    assert Node.model_validate_json(tree.model_dump_json()) == tree
    with pytest.raises(ValidationError, match="children.0.children.0.name"):
        Node.model_validate({"name": "a", "children": [{"name": "b", "children": [{}]}]})
