"""OpenTelemetry spans from event streams, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Literal

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from stageagent import AssistantMessage, BaseEvent, ScriptedModel, TextPart, Usage, call
from stageagent.exceptions import ModelConnectionError
from stageagent.facade import StageAwareFacade
from stageagent.events import StepEvent
from stageagent.tracing import CONTENT_ENV, SpanBuilder, tool_error_type, traced
from core.helpers import make_runtime, stage  # tests/ is on sys.path: its packages import by name
from tests.pipeline.scripts import QUESTION, document_text, expected_result, happy_model


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def by_name(spans: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def children(spans: Any, parent: Any) -> list[Any]:
    return [s for s in spans if s.parent is not None
            and s.parent.span_id == parent.context.span_id]


def within(child: Any, parent: Any) -> bool:
    return parent.start_time <= child.start_time <= child.end_time <= parent.end_time


async def test_report_run_span_tree(demo_db, provider, exporter):
    model = happy_model(expected_result(demo_db))
    facade = StageAwareFacade(database=demo_db, model=model)
    run = facade.run(QUESTION)
    events = [e async for e in traced(run, tracer_provider=provider)]
    assert run.result.ok
    spans = exporter.get_finished_spans()
    names = by_name(spans)

    (root,) = names["invoke_workflow report"]
    assert root.parent is None
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert root.attributes["gen_ai.conversation.id"] == run.run_id
    assert root.status.status_code is StatusCode.UNSET
    stage_spans = children(spans, root)
    assert [s.name for s in stage_spans] == [
        "invoke_agent sql", "invoke_agent chart", "invoke_agent document"]

    completed = {e.stage: e for e in events if e.type == "stage_completed"}
    for span in stage_spans:
        name = span.attributes["gen_ai.agent.name"]
        assert within(span, root)
        assert span.attributes["gen_ai.operation.name"] == "invoke_agent"
        assert span.attributes["gen_ai.provider.name"] == "function"
        assert span.attributes["gen_ai.request.model"] == "pipeline-script"
        assert span.attributes["stageagent.stage.reason"] == "passed"
        kids = children(spans, span)
        chats = [k for k in kids if k.name == "chat pipeline-script"]
        # one chat span per request the model really received in that stage
        assert len(chats) == len(model.requests[name])
        for chat in chats:
            assert within(chat, span)
            assert chat.attributes["gen_ai.operation.name"] == "chat"
            assert chat.attributes["gen_ai.response.model"] == "pipeline-script"
            assert chat.attributes["gen_ai.provider.name"] == "function"
        usage = completed[name].usage
        assert sum(c.attributes.get("gen_ai.usage.input_tokens", 0) for c in chats) \
            == usage.input_tokens == span.attributes["gen_ai.usage.input_tokens"] > 0
        assert sum(c.attributes.get("gen_ai.usage.output_tokens", 0) for c in chats) \
            == usage.output_tokens
        called = [(e.tool, e.tool_call_id) for e in events
                  if e.type == "tool_called" and e.stage == name]
        tools = [k for k in kids if k.name.startswith("execute_tool ")]
        assert sorted((t.attributes["gen_ai.tool.name"], t.attributes["gen_ai.tool.call.id"])
                      for t in tools) == sorted(called)
        for t in tools:
            assert t.name == f"execute_tool {t.attributes['gen_ai.tool.name']}"
            assert t.attributes["gen_ai.operation.name"] == "execute_tool"
            assert "error.type" not in t.attributes and within(t, span)
    # the SQL stage's format phase is a model call of its own
    assert any(s.attributes.get("stageagent.phase") == "format" for s in spans)
    # no content without opt-in
    for span in spans:
        assert not any(k in span.attributes for k in (
            "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.output.messages",
            "gen_ai.input.messages"))
    assert len(spans) == 1 + 3 + sum(len(r) for r in model.requests.values()) + sum(
        e.type == "tool_called" for e in events)


async def test_content_only_with_opt_in(demo_db, provider, exporter, monkeypatch):
    expected = expected_result(demo_db)
    facade = StageAwareFacade(database=demo_db, model=happy_model(expected))
    monkeypatch.setenv(CONTENT_ENV, "true")
    async for _ in traced(facade.run(QUESTION), tracer_provider=provider):
        pass
    spans = by_name(exporter.get_finished_spans())
    (root,) = spans["invoke_workflow report"]
    assert QUESTION in root.attributes["gen_ai.input.messages"]
    (executor,) = spans["execute_tool sql_executor"]
    assert "SELECT" in json.loads(executor.attributes["gen_ai.tool.call.arguments"])["sql"]
    assert json.loads(executor.attributes["gen_ai.tool.call.result"])["row_count"] == \
        expected.row_count
    (document,) = spans["invoke_agent document"]
    assert document_text(expected) in document.attributes["gen_ai.output.messages"]
    messages = [json.loads(c.attributes["gen_ai.output.messages"])
                for c in spans["chat pipeline-script"] if "gen_ai.output.messages" in c.attributes]
    parts = [p for m in messages for p in m[0]["parts"]]
    assert {"type": "text", "content": document_text(expected)} in parts
    assert any(p["type"] == "tool_call" and p["name"] == "consistency_validator" for p in parts)

    exporter.clear()
    async for _ in traced(facade.run(QUESTION), tracer_provider=provider,
                          capture_content=False):  # the argument beats the environment
        pass
    assert not any("gen_ai.tool.call.arguments" in s.attributes
                   for s in exporter.get_finished_spans())


async def test_failing_tool_gives_error_type(provider, exporter):
    runtime = make_runtime()
    model = ScriptedModel([call("boom", {"reason": "x"}), call("add", {"a": 1, "b": 2}),
                           "3"])
    run = runtime.run_stage(stage(), "1 + 2?", model=model)
    async for _ in traced(run, tracer_provider=provider):
        pass
    assert run.result.reason == "completed"
    spans = by_name(exporter.get_finished_spans())
    (boom,) = spans["execute_tool boom"]
    assert boom.status.status_code is StatusCode.ERROR
    assert boom.attributes["error.type"] == "ValueError"
    (add,) = spans["execute_tool add"]
    assert add.status.status_code is StatusCode.UNSET and "error.type" not in add.attributes
    (agent,) = spans["invoke_agent calc"]
    assert agent.parent is None  # a bare stage run: the stage is the root
    assert agent.status.status_code is StatusCode.UNSET
    assert len(spans["chat scripted"]) == 3


async def test_model_failure_marks_the_call_and_the_stage(provider, exporter):
    runtime = make_runtime()
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), ModelConnectionError("gone")])
    async for _ in traced(runtime.run_stage(stage(), "1 + 2?", model=model),
                          tracer_provider=provider):
        pass
    spans = by_name(exporter.get_finished_spans())
    (agent,) = spans["invoke_agent calc"]
    assert agent.status.status_code is StatusCode.ERROR
    assert agent.attributes["error.type"] == "ModelConnectionError"
    assert agent.attributes["stageagent.stage.reason"] == "error"
    ok, failed = sorted(spans["chat scripted"], key=lambda s: s.start_time)
    assert "error.type" not in ok.attributes
    assert failed.attributes["error.type"] == "error"
    assert failed.status.status_code is StatusCode.ERROR


async def test_cache_tokens_and_finish_reason(provider, exporter):
    usage = Usage(input_tokens=120, output_tokens=7, cache_read_tokens=100,
                  cache_write_tokens=20, requests=1)
    answer = AssistantMessage(parts=[TextPart(text="3")], usage=usage, stop_reason="end_turn",
                              model="claude-test-2026")
    run = make_runtime().run_stage(stage(), "1 + 2?", model=ScriptedModel([answer]))
    async for _ in traced(run, tracer_provider=provider):
        pass
    (chat,) = by_name(exporter.get_finished_spans())["chat scripted"]
    assert chat.attributes["gen_ai.usage.input_tokens"] == 120
    assert chat.attributes["gen_ai.usage.output_tokens"] == 7
    assert chat.attributes["gen_ai.usage.cache_read.input_tokens"] == 100
    assert chat.attributes["gen_ai.usage.cache_creation.input_tokens"] == 20
    assert chat.attributes["gen_ai.response.model"] == "claude-test-2026"
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


async def test_a_stream_closed_early_ends_its_spans(provider, exporter):
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), "3"])
    run = make_runtime().run_stage(stage(), "1 + 2?", model=model)
    stream = traced(run, tracer_provider=provider)
    async for event in stream:
        if event.type == "tool_called":
            break
    await stream.aclose()
    spans = by_name(exporter.get_finished_spans())
    (agent,) = spans["invoke_agent calc"]
    assert agent.attributes["error.type"] == "cancelled"
    (add,) = spans["execute_tool add"]
    assert add.attributes["error.type"] == "cancelled"


def test_tool_error_types_follow_the_observations():
    assert tool_error_type("Tool 'x' raised KeyError: 'a'") == "KeyError"
    assert tool_error_type("Tool 'x' timed out after 2 s.") == "timeout"
    assert tool_error_type("Invalid arguments for tool 'x':\n- a: ...") == "invalid_arguments"
    assert tool_error_type("Unknown tool 'y'. Available tools: x.") == "unknown_tool"
    assert tool_error_type("the table does not exist") == "tool_error"


class PlanStarted(BaseEvent):
    type: Literal["plan_started"] = "plan_started"
    plan_id: str


class PlanCompleted(BaseEvent):
    type: Literal["plan_completed"] = "plan_completed"
    plan_id: str


class StepStarted(BaseEvent):
    type: Literal["step_started"] = "step_started"
    plan_id: str
    step_id: str


class StepFailed(BaseEvent):
    type: Literal["step_failed"] = "step_failed"
    plan_id: str
    step_id: str
    error: str = ""
    error_type: str = ""


class StepCompleted(BaseEvent):
    type: Literal["step_completed"] = "step_completed"
    plan_id: str
    step_id: str


async def test_plan_events_map_to_plan_and_step_spans(provider, exporter):
    """Plan events (stageagent.plan) by type name: plan > steps > the stages they run."""
    run = make_runtime().run_stage(stage(), "1 + 2?", model=ScriptedModel(["3"]))
    stage_events = [e async for e in run]
    t = stage_events[0].ts
    stream = [
        PlanStarted(run_id="r", plan_id="p1", seq=1, ts=t - 1),
        StepStarted(run_id="r", plan_id="p1", step_id="fetch", seq=2, ts=t - 0.5),
        StepStarted(run_id="r", plan_id="p1", step_id="calc", seq=3, ts=t - 0.1),
        StepFailed(run_id="r", plan_id="p1", step_id="fetch", error="no rows",
                   error_type="ToolError", seq=4, ts=t),
        *[StepEvent(run_id="r", plan_id="p1", step_id="calc", event=e, seq=5 + i, ts=e.ts)
          for i, e in enumerate(stage_events)],
        StepCompleted(run_id="r", plan_id="p1", step_id="calc", seq=90, ts=t + 1),
        PlanCompleted(run_id="r", plan_id="p1", seq=91, ts=t + 2),
    ]
    builder = SpanBuilder(tracer_provider=provider)
    for event in stream:
        builder.on_event(event)
    builder.close()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    plan, fetch, calc = spans["plan p1"], spans["step fetch"], spans["step calc"]
    assert plan.parent is None
    assert fetch.parent.span_id == calc.parent.span_id == plan.context.span_id
    assert fetch.attributes["error.type"] == "ToolError"
    assert calc.status.status_code is StatusCode.UNSET
    assert spans["invoke_agent calc"].parent.span_id == calc.context.span_id
    assert spans["chat scripted"].parent.span_id == spans["invoke_agent calc"].context.span_id


ROOT = Path(__file__).resolve().parents[2]


def _python(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_without_a_tracer_provider_the_stream_is_returned_unchanged():
    proc = _python("""
        from stageagent.tracing import traced, tracing_active
        stream = iter(())
        assert not tracing_active()
        assert traced(stream) is stream
        print("ok")
    """)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_without_opentelemetry_installed_runs_work_untraced(demo_path):
    """opentelemetry-api is optional: blocked from import, a facade run still works."""
    proc = _python(f"""
        import sys
        sys.modules["opentelemetry"] = None  # as if not installed
        from stageagent.tracing import traced, tracing_active
        from stageagent.facade import StageAwareFacade
        from tests.pipeline.scripts import QUESTION, expected_result, happy_model
        from stageagent.tools.sql import Database
        assert not tracing_active()
        with Database({demo_path!r}) as db:
            facade = StageAwareFacade(database=db, model=happy_model(expected_result(db)))
            assert facade.run_sync(QUESTION).ok
        try:
            from stageagent.tracing import SpanBuilder
            SpanBuilder()
        except ImportError as exc:
            print("ImportError:", exc)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'stageagent[otel]'" in proc.stdout


def test_facade_runs_are_traced_with_the_global_provider(demo_path):
    """The facade wires tracing itself: a global provider is all an application sets."""
    proc = _python(f"""
        import json
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        from stageagent.facade import StageAwareFacade
        from tests.pipeline.scripts import QUESTION, expected_result, happy_model
        from stageagent.tools.sql import Database
        tracer = trace.get_tracer("app")
        with Database({demo_path!r}) as db:
            facade = StageAwareFacade(database=db, model=happy_model(expected_result(db)))
            with tracer.start_as_current_span("request") as outer:
                assert facade.run_sync(QUESTION).ok
        spans = {{s.name: s for s in exporter.get_finished_spans()}}
        root = spans["invoke_workflow report"]
        assert root.parent.span_id == spans["request"].context.span_id
        print(json.dumps(sorted(spans)))
    """)
    assert proc.returncode == 0, proc.stderr
    names = json.loads(proc.stdout)
    assert {"invoke_workflow report", "invoke_agent sql", "invoke_agent chart",
            "invoke_agent document", "chat pipeline-script",
            "execute_tool sql_executor"} <= set(names)


async def test_a_tracing_failure_never_breaks_the_run(provider, exporter):
    """An event the span builder chokes on: the run goes on untraced, events unchanged."""
    run = make_runtime().run_stage(stage(), "1 + 2?", model=ScriptedModel(
        [call("add", {"a": 1, "b": 2}), "3"]))
    events = [e async for e in run]
    broken = [*events[:2], events[2].model_copy(update={"ts": "not a time"}), *events[2:]]

    async def stream():
        for event in broken:
            yield event

    seen = [e async for e in traced(stream(), tracer_provider=provider)]
    assert seen == broken
    (agent,) = exporter.get_finished_spans()[-1:]
    assert agent.name == "invoke_agent calc"
    assert agent.attributes["error.type"] == "TypeError"


async def test_a_streamed_run_gives_one_chat_span_per_call(provider, exporter):
    model = ScriptedModel([["Adding.", call("add", {"a": 1, "b": 2})], "It is 3."])
    run = make_runtime().run_stage(stage(), "1 + 2?", model=model, stream=True)
    events = [e async for e in traced(run, tracer_provider=provider)]
    assert any(e.type == "text_delta" for e in events)
    chats = sorted(by_name(exporter.get_finished_spans())["chat scripted"],
                   key=lambda s: s.start_time)
    assert len(chats) == 2
    for chat in chats:
        assert 0 <= chat.attributes["gen_ai.response.time_to_first_chunk"] < 60
    assert chats[0].attributes["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert chats[1].attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
