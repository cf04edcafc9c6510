"""The facade end to end: SQL -> chart -> document as one event stream, on every backend."""

from __future__ import annotations

import asyncio
import json

import pytest
from stageagent.tools.results import STATE_SQL_RESULT
from stageagent.tools.sql import SQLQualityEvaluator, SQLStageOutput

from stageagent import (
    ScriptedModel,
    StageAwareRuntime,
    StageConfigManager,
    UserMessage,
    call,
    parse_event,
)
from stageagent.facade import StageAwareFacade, run_report_sync

from .scripts import (
    CHART_TITLE,
    QUESTION,
    SQL,
    PipelineModel,
    chart_turns,
    document_text,
    expected_result,
    happy_model,
    sql_turns,
    wrong_document_text,
)


def stages_started(events):
    return [e.stage for e in events if e.type == "stage_started"]


async def test_full_pipeline_streams_one_run_and_hands_results_on(database):
    expected = expected_result(database)
    model = happy_model(expected)
    facade = StageAwareFacade(database=database, model=model)
    run = facade.run(QUESTION)
    events = [e async for e in run]
    result = run.result

    # one stream: RunStarted, the three stages in order, RunCompleted; seq increases across
    assert events[0].type == "run_started" and events[0].stages == ["sql", "chart", "document"]
    assert events[-1].type == "run_completed" and events[-1].ok
    assert stages_started(events) == ["sql", "chart", "document"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.run_id for e in events} == {run.run_id}
    assert [(e.stage, e.reason) for e in events if e.type == "stage_completed"] == [
        ("sql", "passed"), ("chart", "passed"), ("document", "passed")]
    for event in events:
        assert parse_event(event.model_dump_json()) == event

    # the typed results
    assert result.ok and result.error is None and result.events == events
    assert isinstance(result.sql_output, SQLStageOutput)
    assert result.sql == SQL
    assert result.query_result.rows == expected.rows
    assert result.query_result.dialect == database.dialect
    assert result.chart_spec["title"] == CHART_TITLE
    assert result.chart_spec["data"]["values"][0]["category"] == expected.rows[0][0]
    assert result.document == document_text(expected)

    # usage: per stage, and the total is their sum (10 model calls: 4+format, 3, 2)
    per_stage = result.usage_by_stage
    assert set(per_stage) == {"sql", "chart", "document"}
    assert result.usage.requests == 10 == sum(u.requests for u in per_stage.values())
    assert result.usage.total_tokens == sum(u.total_tokens for u in per_stage.values()) > 0
    assert events[-1].usage.total_tokens == result.usage.total_tokens

    # each stage saw only its own tools, and its prompt carried the upstream results
    chart_prompt = model.requests["chart"][0].messages[0].content
    assert "GROUP BY p.category" in chart_prompt and "`revenue` (number)" in chart_prompt
    assert expected.rows[0][0] in chart_prompt  # the data preview
    doc_prompt = model.requests["document"][0].messages[0].content
    # chart and document run in parallel from the SQL result: the document's prompt has
    # the data, not the chart (document_sees_chart=True orders them to restore it)
    assert CHART_TITLE not in doc_prompt and "| category | revenue |" in doc_prompt
    assert {t.name for t in model.requests["document"][0].tools} == {
        "paragraph_analyzer", "draft_generator", "style_checker", "consistency_validator"}
    sql_prompt = model.requests["sql"][0].messages[0].content
    assert f"Dialect: **{database.dialect}**" in sql_prompt


async def test_chart_stage_can_be_switched_off(sqlite_db):
    expected = expected_result(sqlite_db)
    model = happy_model(expected, chart=False)
    facade = StageAwareFacade(database=sqlite_db, model=model)
    result = await facade.report(QUESTION, chart=False)
    assert result.ok
    assert stages_started(result.events) == ["sql", "document"]
    assert result.events[0].stages == ["sql", "document"]
    assert result.chart_spec is None and "chart" not in model.requests
    doc_prompt = model.requests["document"][0].messages[0].content
    assert "# The chart" not in doc_prompt and "| category | revenue |" in doc_prompt


async def test_document_sees_chart_runs_the_document_after_the_chart(sqlite_db):
    expected = expected_result(sqlite_db)
    model = happy_model(expected)
    facade = StageAwareFacade(database=sqlite_db, model=model, document_sees_chart=True)
    result = await facade.report(QUESTION)
    assert result.ok
    assert CHART_TITLE in model.requests["document"][0].messages[0].content
    assert result.plan.step("document").depends_on == ["sql", "chart"]


async def test_the_report_runs_as_a_template_plan_with_chart_and_document_in_parallel(
        sqlite_db):
    result = await StageAwareFacade(database=sqlite_db,
                                    model=happy_model(expected_result(sqlite_db))).report(QUESTION)
    plan = result.plan
    assert [s.id for s in plan.steps] == ["sql", "chart", "document", "report"]
    assert plan.step("chart").depends_on == ["sql"] == plan.step("document").depends_on
    assert plan.step("report").depends_on == ["chart", "document"]
    assert result.step_statuses == dict.fromkeys(["sql", "chart", "document", "report"],
                                                 "completed")
    # no plan events in the facade's stream: it is what it was
    assert not any(e.type.startswith(("plan_", "step_")) for e in result.events)


async def test_failed_document_gate_iterates_with_the_critique(sqlite_db):
    expected = expected_result(sqlite_db)
    wrong, right = wrong_document_text(expected), document_text(expected)
    model = PipelineModel({"sql": sql_turns(), "chart": chart_turns(),
                           "document": [call("consistency_validator", {"text": wrong}), wrong,
                                        right]})
    result = await StageAwareFacade(database=sqlite_db, model=model).report(QUESTION)

    assert result.ok and result.document == right
    gates = [(e.passed, e.score) for e in result.events
             if e.type == "quality_gate" and e.stage == "document"]
    assert [p for p, _ in gates] == [False, True] and gates[0][1] <= 0.5
    # the critique of the misquoted figure went back as the next user turn
    third = model.requests["document"][2].messages
    critique = third[-1]
    assert isinstance(critique, UserMessage)
    assert "did not pass the quality check of stage 'document'" in critique.content
    misquoted = wrong.split(" generated the highest revenue at ")[1].split(" EUR")[0]
    assert misquoted in critique.content
    assert result.stages["document"].iterations == 3


async def test_failed_sql_stage_ends_the_run_before_chart_and_document(sqlite_db):
    manager = StageConfigManager()
    manager.register(manager.get("sql").model_copy(update={"max_iterations": 2}))
    runtime = StageAwareRuntime(manager, evaluators={
        "sql_quality": SQLQualityEvaluator(sqlite_db)})
    # the model answers twice without ever executing its query
    unexecuted = "SELECT category, COUNT(*) AS n FROM products GROUP BY category"
    answer = json.dumps({"sql": unexecuted, "columns": ["category", "n"], "row_count": 5,
                         "notes": ""})
    model = ScriptedModel(["Here is the query.", answer, "Here it is again.", answer])
    facade = StageAwareFacade(runtime, database=sqlite_db, model=model)
    result = await facade.report(QUESTION)

    model.assert_used_up()
    assert not result.ok and result.failed_stage == "sql"
    assert result.error_type == "max_iterations"
    assert "stage 'sql' stopped: max_iterations" in result.error
    assert "sql_executor" in result.error  # the critique says what was missing
    last = result.events[-1]
    assert last.type == "run_failed" and last.failed_stage == "sql" and last.error == result.error
    assert stages_started(result.events) == ["sql"]
    assert not any(e.type == "run_completed" for e in result.events)
    assert result.chart_spec is None and result.document is None


async def test_missing_api_key_fails_before_any_stage(sqlite_db, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    facade = StageAwareFacade(database=sqlite_db, model="anthropic:claude-sonnet-4-6")
    result = await facade.report(QUESTION)
    assert [e.type for e in result.events] == ["run_started", "run_failed"]
    assert result.error_type == "MissingAPIKeyError" and "ANTHROPIC_API_KEY" in result.error
    assert result.failed_stage == "sql"


async def test_per_stage_models_costs_and_state_sharing(sqlite_db):
    expected = expected_result(sqlite_db)
    sql_model = ScriptedModel([*sql_turns(), _format(expected)], name="sql-only")
    rest = happy_model(expected)
    runtime = StageAwareRuntime(price=lambda model, usage: usage.total_tokens / 1e6)
    facade = StageAwareFacade(runtime, database=sqlite_db,
                              model={"sql": sql_model, "chart": rest, "document": rest})
    result = await facade.report(QUESTION, stream=True)
    assert result.ok
    # $1 per million tokens: the total is the sum of the stages, and RunCompleted says so
    costs = result.cost_by_stage
    assert all(c and c > 0 for c in costs.values())
    assert result.cost_usd == pytest.approx(sum(costs.values()))
    assert result.events[-1].cost_usd == pytest.approx(result.cost_usd)
    # stream=True: the model's text arrives as deltas too
    deltas = "".join(e.text for e in result.events if e.type == "text_delta" and e.stage == "document")
    assert deltas.startswith(document_text(expected))
    sql_model.assert_used_up()
    assert "sql" not in rest.requests or not rest.requests["sql"]
    started = {e.stage: e.model for e in result.events if e.type == "stage_started"}
    assert started["sql"] == "scripted:sql-only" and started["chart"] == "function:pipeline-script"
    # the chart tools read the executor's QueryResult from the shared state
    assert result.stages["chart"].state[STATE_SQL_RESULT] is result.query_result


def _format(expected) -> str:
    return SQLStageOutput(sql=SQL, columns=expected.column_names,
                          row_count=expected.row_count).model_dump_json()


async def test_cancel_stops_the_run_with_run_failed(sqlite_db):
    gate = asyncio.Event()

    async def slow(request):
        gate.set()
        await asyncio.sleep(30)

    from stageagent import FunctionModel

    facade = StageAwareFacade(database=sqlite_db, model=FunctionModel(slow))
    run = facade.run(QUESTION)
    events = []

    async def consume():
        async for event in run:
            events.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(gate.wait(), 5)
    run.cancel()
    await asyncio.wait_for(task, 5)
    assert events[-1].type == "run_failed" and events[-1].failed_stage == "sql"
    assert run.result.error_type == "cancelled"


def test_bad_arguments_are_clear_errors(sqlite_db):
    from stageagent import UnknownStageError

    with pytest.raises(ValueError, match="sql, chart, document"):
        StageAwareFacade(database=sqlite_db, stages=("sql", "document"))
    with pytest.raises(UnknownStageError, match="nope"):
        StageAwareFacade(database=sqlite_db, stages=("sql", "nope", "document"))
    facade = StageAwareFacade(database=sqlite_db)
    with pytest.raises(ValueError, match="non-empty"):
        facade.run("  ")


def test_run_sync_works_without_a_loop(sqlite_path):
    expected = None
    from stageagent.tools.sql import Database

    with Database(sqlite_path) as db:
        expected = expected_result(db)
    result = run_report_sync(QUESTION, database=sqlite_path, model=happy_model(expected))
    assert result.ok and result.document == document_text(expected)


async def test_run_sync_works_inside_a_running_loop(sqlite_path):
    """A notebook cell runs inside the kernel's loop: the sync entry points still work."""
    from stageagent.tools.sql import Database

    with Database(sqlite_path) as db:
        expected = expected_result(db)
        facade = StageAwareFacade(database=db, model=happy_model(expected))
        result = facade.run_sync(QUESTION)
        assert result.ok and result.document == document_text(expected)
    result = run_report_sync(QUESTION, database=sqlite_path, model=happy_model(expected))
    assert result.ok and result.sql == SQL
