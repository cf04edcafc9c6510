"""The thought-tool loop: events, gate, limits, tool errors, stage switching, history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from stageagent import (
    FunctionModel,
    ModelRateLimitError,
    QualityReport,
    ScriptedModel,
    ToolReturnMessage,
    UserMessage,
    call,
    evaluator,
    parse_event,
    tool,
)
from stageagent.stage_config import StageBudget, StageLimits, StageModel, StageTimeouts

from .helpers import add, boom, events_of, free_price, make_runtime, stage


@evaluator
def says_42(candidate):
    if "42" in candidate.text:
        return QualityReport(score=1.0)
    return QualityReport(score=0.2, critiques=["The answer must state the sum, 42."])


def types(events):
    return [e.type for e in events]


async def test_tool_turn_then_answer_emits_ordered_typed_events():
    model = ScriptedModel([call("add", {"a": 40, "b": 2}), "The sum is 42."])
    run = make_runtime().run_stage(stage(), "add 40 and 2", model=model)
    events = await events_of(run)
    assert types(events) == ["stage_started", "tool_called", "tool_result", "iteration_completed",
                             "thought", "iteration_completed", "stage_completed"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.run_id for e in events} == {run.run_id}
    assert events[2].content == "42" and not events[2].is_error
    final = events[-1]
    assert final.reason == "completed" and final.iterations == 2
    assert final.usage.requests == 2 and final.usage.estimated
    # every event survives a JSON round trip through the discriminated union
    for event in events:
        assert parse_event(event.model_dump_json()) == event
    model.assert_used_up()
    # the system prompt was rendered for this stage and the tool was exposed with its schema
    first = model.requests[0]
    assert first.messages[0].content == "You are the calc stage. Task: add 40 and 2"
    assert [t.name for t in first.tools] == ["add", "sleepy", "boom"]
    assert first.tools[0].parameters["properties"]["a"]["description"] == "the first addend"


async def test_quality_gate_failure_sends_critique_and_iterates_again():
    model = ScriptedModel(["I think it's 41.", "It is 42."])
    rt = make_runtime(add, evaluators={"says_42": says_42})
    run = rt.run_stage(stage(tools=["add"], evaluators=["says_42"], quality_threshold=0.9),
                       "40+2?", model=model)
    events = await events_of(run)
    gates = [e for e in events if e.type == "quality_gate"]
    assert [(g.score, g.passed) for g in gates] == [(0.2, False), (1.0, True)]
    scored = [e for e in events if e.type == "iteration_completed"]
    assert [e.score for e in scored] == [0.2, 1.0]
    # the critique went back to the model as the next user turn
    last = model.requests[1].messages[-1]
    assert isinstance(last, UserMessage)
    assert "The answer must state the sum, 42." in last.content and "0.20" in last.content
    assert events[-1].reason == "passed" and run.result.score == 1.0


async def test_max_iterations_stops_with_last_score():
    model = ScriptedModel(["41", "43"])
    rt = make_runtime(add, evaluators={"says_42": says_42})
    run = rt.run_stage(stage(tools=["add"], evaluators=["says_42"], max_iterations=2), "x",
                       model=model)
    events = await events_of(run)
    assert events[-1].reason == "max_iterations"
    assert events[-1].score == 0.2 and events[-1].critiques
    model.assert_used_up()


async def test_iteration_limit_also_stops_a_model_that_only_calls_tools():
    model = ScriptedModel([call("add", {"a": i, "b": 1}) for i in range(3)])
    run = make_runtime().run_stage(stage(max_iterations=3), "x", model=model)
    events = await events_of(run)
    assert events[-1].reason == "max_iterations" and events[-1].iterations == 3


async def test_disabled_tool_is_invisible_and_refused_unknown_tool_refused():
    model = ScriptedModel([[call("boom", {"reason": "x"}), call("nope", {})], "done"])
    run = make_runtime().run_stage(stage(tools=["add"]), "x", model=model)
    events = await events_of(run)
    assert [t.name for t in model.requests[0].tools] == ["add"]
    results = [e for e in events if e.type == "tool_result"]
    assert all(r.is_error for r in results)
    assert "not enabled in stage 'calc'" in results[0].content
    assert "Unknown tool 'nope'" in results[1].content
    # the model saw both refusals as observations
    observed = model.requests[1].messages[-1]
    assert isinstance(observed, ToolReturnMessage) and len(observed.results) == 2


async def test_switching_stages_switches_tools_prompt_threshold_and_limit():
    rt = make_runtime(add, boom, evaluators={"says_42": says_42})
    sql = stage("sql", tools=["add"], prompt_text="SQL stage", max_iterations=1)
    chart = stage("chart", tools=["boom"], prompt_text="Chart stage", evaluators=["says_42"],
                  quality_threshold=0.1, max_iterations=4)
    m1 = ScriptedModel([call("boom", {"reason": "r"})])
    e1 = await events_of(rt.run_stage(sql, "q", model=m1))
    assert [t.name for t in m1.requests[0].tools] == ["add"]
    assert m1.requests[0].messages[0].content == "SQL stage"
    assert next(e for e in e1 if e.type == "tool_result").is_error
    assert e1[-1].reason == "max_iterations" and e1[0].max_iterations == 1
    m2 = ScriptedModel([call("boom", {"reason": "r"}), "41"])
    e2 = await events_of(rt.run_stage(chart, "q", model=m2))
    assert [t.name for t in m2.requests[0].tools] == ["boom"]
    assert m2.requests[0].messages[0].content == "Chart stage"
    assert "exploded: r" in next(e for e in e2 if e.type == "tool_result").content
    # threshold 0.1: the 0.2 answer passes here, where the SQL-stage limits never applied
    assert e2[-1].reason == "passed" and e2[0].quality_threshold == 0.1


@pytest.mark.parametrize(
    "turn, expected",
    [
        (call("add", raw_arguments="{a: 1,"), "not a JSON object"),
        (call("add", {"a": "forty", "b": 2}), "- a: Input should be a valid integer"),
        (call("add", {"a": 1}), "- b: Field required"),
        (call("add", {"a": 1, "b": 2, "c": 3}), "- c: unexpected argument"),
        (call("boom", {"reason": "why"}), "Tool 'boom' raised ValueError: exploded: why"),
        (call("sleepy", {"seconds": 5}), "Tool 'sleepy' timed out after 0.05 s"),
    ],
)
async def test_bad_calls_become_error_observations(turn, expected):
    model = ScriptedModel([turn, "ok"])
    events = await events_of(make_runtime().run_stage(stage(), "x", model=model))
    result = next(e for e in events if e.type == "tool_result")
    assert result.is_error and expected in result.content
    assert events[-1].reason == "completed"  # the run went on
    assert model.requests[1].messages[-1].results[0].content == result.content


async def test_tool_retry_budget_ends_the_stage():
    model = ScriptedModel([call("boom", {"reason": str(i)}) for i in range(3)])
    events = await events_of(make_runtime().run_stage(stage(), "x", model=model))
    assert events[-1].reason == "error"
    assert "'boom' failed 3 times in a row" in events[-1].error
    model.assert_used_up()


async def test_success_resets_the_retry_budget():
    turns = [call("add", {"a": "x", "b": 1}), call("add", {"a": "y", "b": 1}),
             call("add", {"a": 1, "b": 1}), call("add", {"a": "z", "b": 1}),
             call("add", {"a": "w", "b": 1}), "done"]
    model = ScriptedModel(turns)
    events = await events_of(make_runtime().run_stage(stage(max_iterations=9), "x", model=model))
    assert events[-1].reason == "completed"


async def test_read_only_tools_in_one_turn_run_concurrently():
    arrived = []
    both_here = asyncio.Event()

    @tool(read_only=True)
    async def rendezvous(name: str) -> str:
        """Waits until its peer arrives: deadlocks if the calls run one after another."""
        arrived.append(name)
        if len(arrived) == 2:
            both_here.set()
        await asyncio.wait_for(both_here.wait(), 2)
        return name

    model = ScriptedModel([[call("rendezvous", {"name": "a"}), call("rendezvous", {"name": "b"})],
                           "done"])
    rt = make_runtime(rendezvous)
    events = await events_of(rt.run_stage(stage(tools=["rendezvous"]), "x", model=model))
    results = [e for e in events if e.type == "tool_result"]
    assert [(r.content, r.is_error) for r in results] == [("a", False), ("b", False)]


async def test_non_read_only_tools_run_in_order_one_at_a_time():
    log = []

    @tool
    async def write(n: int) -> int:
        """A tool with side effects."""
        log.append(("start", n))
        await asyncio.sleep(0)
        log.append(("end", n))
        return n

    model = ScriptedModel([[call("write", {"n": 1}), call("write", {"n": 2})], "done"])
    await events_of(make_runtime(write).run_stage(stage(tools=["write"]), "x", model=model))
    assert log == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]


async def test_loop_detection():
    model = ScriptedModel([call("add", {"a": 1, "b": 2})] * 3)
    run = make_runtime().run_stage(stage(limits=StageLimits(loop_repeats=3)), "x", model=model)
    events = await events_of(run)
    assert events[-1].reason == "loop_detected"
    assert "'add' was called 3 times" in events[-1].error
    assert sum(e.type == "tool_result" for e in events) == 2  # the third call never ran
    # the history stays valid for a follow-up: every call is answered
    assert run.result.messages[-1].role == "tool"


@pytest.mark.parametrize("arguments", [
    [{"a": 1}, {"a": 1}, {"a": 1}],  # one argument
    [{}, {}, {}],  # none
    [{"rows": [1, [2]]}] * 3,  # one unhashable argument
    [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1, "b": 2}],  # the order does not matter
    [{"a": {"x": [1]}, "b": 2}, {"b": 2, "a": {"x": [1]}}, {"a": {"x": [1]}, "b": 2}],
], ids=["one", "none", "unhashable", "reordered", "reordered-unhashable"])
async def test_loop_detection_sees_the_same_call_whatever_its_arguments(arguments):
    @tool
    async def probe(a: Any = None, b: Any = None, rows: Any = None) -> str:
        """Accepts anything."""
        return "ok"

    model = ScriptedModel([call("probe", a) for a in arguments])
    run = make_runtime(probe).run_stage(
        stage(tools=["probe"], limits=StageLimits(loop_repeats=3)), "x", model=model)
    events = await events_of(run)
    assert events[-1].reason == "loop_detected", events[-1]
    assert sum(e.type == "tool_result" for e in events) == 2


async def test_loop_detection_tells_one_argument_from_another():
    model = ScriptedModel([call("add", {"a": 1, "b": i}) for i in range(3)]
                          + [call("add", {"a": i + 10, "b": 0}) for i in range(3)] + ["done"])
    run = make_runtime().run_stage(
        stage(max_iterations=10, limits=StageLimits(loop_repeats=2)), "x", model=model)
    assert (await events_of(run))[-1].reason == "completed"


async def test_loop_detection_counts_a_call_alike_alone_and_beside_others():
    """A turn of one call and a turn of several read their calls' keys the same way."""
    model = ScriptedModel([[call("add", {"a": 1}), call("add", {"a": 2, "b": 1})],
                           call("add", {"a": 1}),
                           [call("add", {"b": 1, "a": 2}), call("add", {"a": 3})]])
    run = make_runtime().run_stage(stage(limits=StageLimits(loop_repeats=2)), "x", model=model)
    events = await events_of(run)
    assert events[-1].reason == "loop_detected", events[-1]
    assert "'add' was called 2 times" in events[-1].error
    assert [e.iteration for e in events if e.type == "tool_result"] == [1, 1]


@pytest.mark.parametrize("arguments", [
    [{"a": 1}, {"a": "1"}, {"b": 1}, {"a": 1.0}],  # a number, its text, another name
    [{"a": [1, 2]}, {"a": [2, 1]}, {"a": None}, {}],
], ids=["scalars", "lists"])
async def test_loop_detection_tells_one_argument_from_another_alone(arguments):
    @tool
    async def probe(a: Any = None, b: Any = None) -> str:
        """Accepts anything."""
        return "ok"

    model = ScriptedModel([call("probe", a) for a in arguments] + ["done"])
    run = make_runtime(probe).run_stage(
        stage(tools=["probe"], max_iterations=10, limits=StageLimits(loop_repeats=2)), "x",
        model=model)
    events = await events_of(run)
    assert events[-1].reason == "completed", events[-1]
    assert sum(not e.is_error for e in events if e.type == "tool_result") == len(arguments)


async def test_loop_detection_sees_repeated_raw_arguments():
    """Arguments that were not JSON are compared by their text."""
    model = ScriptedModel([call("add", raw_arguments="{a: 1"), call("add", raw_arguments="{a: 2"),
                           call("add", raw_arguments="{a: 1")])
    run = make_runtime().run_stage(
        stage(max_iterations=10, limits=StageLimits(loop_repeats=2)), "x", model=model)
    events = await events_of(run)
    assert events[-1].reason == "loop_detected", events[-1]
    assert sum(e.type == "tool_result" for e in events) == 2


async def test_token_budget_and_cost_budget():
    model = ScriptedModel([call("add", {"a": i, "b": 1}) for i in range(5)])
    run = make_runtime().run_stage(stage(budget=StageBudget(max_total_tokens=120)), "x",
                                   model=model)
    events = await events_of(run)
    assert events[-1].reason == "budget" and "token budget of 120" in events[-1].error
    model = ScriptedModel([call("add", {"a": i, "b": 1}) for i in range(5)])
    rt = make_runtime(add, price=free_price)
    events = await events_of(rt.run_stage(stage(tools=["add"], budget=StageBudget(max_cost_usd=0.1)),
                                          "x", model=model))
    assert events[-1].reason == "budget" and "cost budget of $0.1" in events[-1].error
    assert events[-1].cost_usd > 0.1


async def test_provider_usage_is_used_when_reported():
    from stageagent import AssistantMessage, TextPart, Usage

    reply = AssistantMessage(parts=[TextPart(text="hi")],
                             usage=Usage(input_tokens=1000, output_tokens=7, requests=1))
    events = await events_of(make_runtime().run_stage(stage(), "x", model=ScriptedModel([reply])))
    assert events[-1].usage.input_tokens == 1000 and not events[-1].usage.estimated


async def test_stage_timeout():
    @tool
    async def slow() -> str:
        """Never returns in time."""
        await asyncio.sleep(10)
        return "late"

    model = ScriptedModel([call("slow")])
    config = stage(tools=["slow"], timeouts=StageTimeouts(stage_s=0.2, tool_s=None))
    events = await events_of(make_runtime(slow).run_stage(config, "x", model=model))
    assert events[-1].reason == "timeout"
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_stage_timeout_interrupts_a_hanging_model():
    async def hang(request):
        await asyncio.sleep(10)
        return "late"

    config = stage(timeouts=StageTimeouts(stage_s=0.1, model_s=None))
    start = asyncio.get_running_loop().time()
    events = await events_of(make_runtime().run_stage(config, "x", model=FunctionModel(hang)))
    assert events[-1].reason == "timeout" and "0.1 s" in events[-1].error
    assert asyncio.get_running_loop().time() - start < 2
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_stage_deadline_holds_when_only_the_consumer_waits():
    # the run itself never suspends (instant model and tool): the deadline is seen when
    # the consumer takes the next event
    model = FunctionModel(lambda request: call("add", {"a": len(request.messages), "b": 1}))
    rt = make_runtime(add)
    await rt.run(stage(tools=["add"]), "warm up", model=ScriptedModel(["ok"]))  # encodings
    config = stage(tools=["add"], max_iterations=100,
                   timeouts=StageTimeouts(stage_s=0.2), limits=StageLimits(loop_repeats=50))
    events = []
    async for event in rt.run_stage(config, "x", model=model):
        events.append(event)
        if event.type == "iteration_completed":
            await asyncio.sleep(0.05)  # a slow consumer
    assert events[-1].reason == "timeout" and "0.2 s" in events[-1].error
    assert events[-1].iterations < 10


async def test_model_errors_end_the_stage_with_reason_error():
    model = ScriptedModel([ModelRateLimitError("slow down", provider="p", model="m")])
    events = await events_of(make_runtime().run_stage(stage(), "x", model=model))
    assert events[-1].reason == "error" and "slow down" in events[-1].error
    events = await events_of(make_runtime().run_stage(stage(), "x", model=ScriptedModel([])))
    assert events[-1].reason == "error" and "only 0 turns" in events[-1].error


async def test_no_evaluator_means_completed_not_passed():
    events = await events_of(make_runtime().run_stage(stage(), "x", model=ScriptedModel(["hi"])))
    assert events[-1].reason == "completed" and events[-1].score is None


async def test_output_is_truncated_to_the_token_budget_with_a_marker():
    @tool(max_output_tokens=20)
    async def big() -> str:
        """Returns a lot."""
        return "word " * 500

    model = ScriptedModel([call("big"), "done"])
    events = await events_of(make_runtime(big).run_stage(stage(tools=["big"]), "x", model=model))
    result = next(e for e in events if e.type == "tool_result")
    assert result.truncated
    from stageagent.tokens import TokenCounter

    total = TokenCounter().count("word " * 500)
    assert total > 400
    assert result.content.endswith(f"[... output truncated: showing 20 of {total} tokens]")
    assert len(result.content) < 200


async def test_follow_up_continues_from_earlier_history():
    rt = make_runtime()
    first = await rt.run(stage(), "add 1 and 2",
                         model=ScriptedModel([call("add", {"a": 1, "b": 2}), "3"]))
    model = ScriptedModel(["and doubled it is 6"])
    second = await rt.run(stage(prompt_text="Follow-up prompt"), "double it?",
                          history=first.messages, model=model)
    sent = model.requests[0].messages
    assert sent[0].content == "Follow-up prompt"  # the new system prompt replaced the old
    assert sum(m.role == "system" for m in sent) == 1
    assert [m.role for m in sent] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert sent[-1].content == "double it?"
    assert second.text == "and doubled it is 6"


async def test_context_budget_trims_old_turns_but_keeps_prompt_task_and_pairs():
    def model_fn(request):
        n = sum(m.role == "assistant" for m in request.messages)
        return call("add", {"a": len(request.messages), "b": n}) if len(seen) < 30 else "done"

    seen = []

    def recording(request):
        seen.append(request)
        return model_fn(request)

    config = stage(budget=StageBudget(context_tokens=300), max_iterations=40,
                   limits=StageLimits(loop_repeats=50))
    events = await events_of(make_runtime().run_stage(config, "the task", model=FunctionModel(recording)))
    assert events[-1].reason == "completed"
    last = seen[-1].messages
    assert last[0].role == "system" and last[1].content == "the task"
    assert len(last) < len(seen[-1].messages) + 100  # sanity
    assert len(last) < 2 + 2 * 30  # old turns were dropped
    # no tool result without the call it answers
    for i, message in enumerate(last):
        if message.role == "tool":
            assert last[i - 1].role == "assistant"
            assert [r.tool_call_id for r in message.results] == [c.id for c in last[i - 1].tool_calls]
    windows = [e.context_tokens for e in events if e.type == "iteration_completed"]
    assert max(windows) <= 300 + 60  # the newest unit may overshoot by one turn at most


async def test_streaming_emits_text_deltas():
    model = FunctionModel(lambda req: "streamed answer")
    events = await events_of(make_runtime().run_stage(stage(), "x", model=model, stream=True))
    deltas = [e for e in events if e.type == "text_delta"]
    assert "".join(d.text for d in deltas) == "streamed answer"
    assert events[-1].reason == "completed"


class Answer(BaseModel):
    """The stage's typed result."""

    customer_id: str
    total: float
    note: str = ""


async def test_explore_then_format_validates_retries_and_grounds():
    @tool(read_only=True)
    async def lookup(name: str) -> dict:
        """Customer record by name."""
        return {"customer_id": "C-1042", "name": name, "total": 1234.5}

    model = ScriptedModel([
        call("lookup", {"name": "Acme"}),
        "Acme is C-1042 with total 1234.5",
        "not json at all",                                        # format attempt 1
        '{"customer_id": "C-1042", "total": 1234.5}',              # format attempt 2
    ])
    config = stage(tools=["lookup"], output_schema=Answer)
    run = make_runtime(lookup).run_stage(config, "who is Acme?", model=model)
    events = await events_of(run)
    formatted = [e for e in events if e.type == "output_formatted"]
    assert [f.ok for f in formatted] == [False, True]
    assert formatted[0].errors
    # the format turns carried the schema, and the tool definitions the history refers to
    # (adapters forbid calling them; a call is refused, see below)
    assert [t.name for t in model.requests[2].tools] == ["lookup"]
    assert model.requests[2].output_schema.name == "Answer"
    assert "not valid for the required schema" in model.requests[3].messages[-1].content
    grounding = next(e for e in events if e.type == "grounding_checked")
    assert grounding.grounded
    assert events[-1].reason == "passed"
    assert run.result.output == Answer(customer_id="C-1042", total=1234.5)
    assert events[-1].output == {"customer_id": "C-1042", "total": 1234.5, "note": ""}


async def test_invented_values_fail_grounding_and_go_back_as_critique():
    @tool(read_only=True)
    async def lookup(name: str) -> dict:
        """Customer record by name."""
        return {"customer_id": "C-1042", "total": 1234.5}

    model = ScriptedModel([
        call("lookup", {"name": "Acme"}), "done",
        '{"customer_id": "C-9999", "total": 1234.5}',   # invented id
        "rechecked",
        '{"customer_id": "C-1042", "total": 1234.5}',
    ])
    config = stage(tools=["lookup"], output_schema=Answer, grounding="fail")
    events = await events_of(make_runtime(lookup).run_stage(config, "x", model=model))
    checks = [e for e in events if e.type == "grounding_checked"]
    assert [c.grounded for c in checks] == [False, True]
    assert checks[0].ungrounded == ["customer_id='C-9999'"]
    gates = [e for e in events if e.type == "quality_gate"]
    assert gates[0].score == 0.0 and not gates[0].passed
    assert "C-9999" in model.requests[3].messages[-1].content
    assert events[-1].reason == "passed"


async def test_format_phase_gives_up_after_bounded_retries():
    model = ScriptedModel(["answer", "x", "y", "z"])
    config = stage(output_schema=Answer, max_iterations=1, limits=StageLimits(format_retries=2))
    events = await events_of(make_runtime().run_stage(config, "x", model=model))
    assert [e.ok for e in events if e.type == "output_formatted"] == [False, False, False]
    assert events[-1].reason == "max_iterations" and events[-1].score == 0.0
    assert "could not be formatted" in events[-1].critiques[0]
    model.assert_used_up()


async def test_approval_required_tools():
    ran = []

    @tool(requires_approval=True)
    async def delete_everything(target: str) -> str:
        """Dangerous."""
        ran.append(target)
        return "deleted"

    asked = []

    async def approver(request):
        asked.append((request.tool, request.arguments))
        return request.arguments["target"] == "tmp", "only tmp may go"

    turns = [call("delete_everything", {"target": "prod"}),
             call("delete_everything", {"target": "tmp"}), "done"]
    rt = make_runtime(delete_everything, approver=approver)
    events = await events_of(rt.run_stage(stage(tools=["delete_everything"]), "x",
                                          model=ScriptedModel(turns)))
    approvals = [(e.approved, e.reason) for e in events if e.type == "tool_approval"]
    assert approvals == [(False, "only tmp may go"), (True, "only tmp may go")]
    results = [e for e in events if e.type == "tool_result"]
    assert results[0].is_error and "was refused: only tmp may go" in results[0].content
    assert results[1].content == "deleted" and ran == ["tmp"]
    # without an approver nothing runs
    ran.clear()
    rt = make_runtime(delete_everything)
    events = await events_of(rt.run_stage(stage(tools=["delete_everything"]), "x",
                                          model=ScriptedModel([turns[0], "ok"])))
    assert ran == [] and "no approver is configured" in next(
        e for e in events if e.type == "tool_result").content


async def test_model_config_reaches_the_request():
    model = ScriptedModel(["ok"])
    config = stage(model=StageModel(id="openai:gpt-4o", max_tokens=77, temperature=0.1),
                   timeouts=StageTimeouts(model_s=9))
    await events_of(make_runtime().run_stage(config, "x", model=model))
    settings = model.requests[0].settings
    assert (settings.max_tokens, settings.temperature, settings.timeout) == (77, 0.1, 9)


def test_input_must_be_text():
    with pytest.raises(TypeError, match="input must be a str, not dict"):
        make_runtime().run_stage(stage(), {"question": "x"}, model=ScriptedModel([]))  # type: ignore[arg-type]


async def test_a_tool_raising_timeout_error_without_a_timeout_is_an_observation():
    @tool(timeout=None)
    async def flaky() -> str:
        """Its own client timed out."""
        raise TimeoutError("upstream took too long")

    model = ScriptedModel([call("flaky"), "gave up"])
    config = stage(tools=["flaky"], timeouts=StageTimeouts(tool_s=None))
    events = await events_of(make_runtime(flaky).run_stage(config, "x", model=model))
    result = next(e for e in events if e.type == "tool_result")
    assert result.is_error and "raised TimeoutError: upstream took too long" in result.content
    assert events[-1].reason == "completed"
