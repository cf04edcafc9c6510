"""The report pipeline's SQL stage (explore, then format) through the real anthropic SDK.

The wire server refuses, as the real API does, a request whose history holds `tool_use` /
`tool_result` blocks but which defines no tools. The bundled `sql` stage's format turn is
exactly such a request: it must carry the stage's tools with `tool_choice: none`.
"""

from __future__ import annotations

import json

import pytest

from stageagent import StageAwareRuntime
from stageagent.tools.deps import ReportDeps
from stageagent.tools.demo_db import create_demo_database
from stageagent.tools.sql import Database

from .conftest import collect
from .replies import anthropic_message
from .wire_server import TOOLS_REQUIRED, Received, Reply

SQL = ("SELECT p.category AS category, ROUND(SUM(oi.quantity * oi.unit_price), 2) AS revenue "
       "FROM order_items AS oi JOIN orders AS o ON o.id = oi.order_id "
       "JOIN products AS p ON p.id = oi.product_id "
       "WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01' "
       "GROUP BY p.category ORDER BY revenue DESC")
QUESTION = "What was the revenue per product category in 2024?"


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "demo.sqlite"
    create_demo_database(path)
    db = Database(str(path))
    try:
        yield db
    finally:
        db.close()


def executor_result(received: Received) -> dict:
    for message in reversed(received.body["messages"]):
        for block in message["content"] if isinstance(message["content"], list) else ():
            if block.get("type") == "tool_result" and block["tool_use_id"] == "call_exec":
                content = block["content"]
                return json.loads(content if isinstance(content, str) else content[0]["text"])
    raise AssertionError("no sql_executor result in the format request")


def format_reply(received: Received) -> Reply:
    seen = executor_result(received)
    output = {"sql": seen["sql"], "columns": [c["name"] for c in seen["columns"]],
              "row_count": seen["row_count"], "notes": ""}
    return Reply.json(anthropic_message([json.dumps(output)]))


TURNS = [
    [("tool", "call_ret", "schema_retrieval", {"question": QUESTION}),
     ("tool", "call_disc", "schema_discovery", {"tables": ["orders", "order_items", "products"]})],
    [("tool", "call_val", "sql_validator", {"sql": SQL})],
    [("tool", "call_exec", "sql_executor", {"sql": SQL})],
    ["The query sums quantity * unit_price per category over 2024's orders."],
]


async def test_bundled_sql_stage_format_turn_carries_tools_over_the_wire(
        wire, make_model, database):
    wire.queue(*[Reply.json(anthropic_message(items)) for items in TURNS], format_reply)
    runtime = StageAwareRuntime()  # the bundled stage names the pipeline's toolkit itself
    run = runtime.run_stage("sql", QUESTION, model=make_model("anthropic"),
                            deps=ReportDeps(database=database))
    events = await collect(run, seconds=30)

    bodies = [r.body for r in wire.received]
    assert len(bodies) == 5, [e.type for e in events]
    format_call = bodies[-1]
    assert format_call["tool_choice"] == {"type": "none"}
    assert {t["name"] for t in format_call["tools"]} == {
        "schema_discovery", "schema_retrieval", "sql_validator", "sql_auto_fixer",
        "sql_executor"}
    history_blocks = {b["type"] for m in format_call["messages"]
                      if isinstance(m["content"], list) for b in m["content"]}
    assert {"tool_use", "tool_result"} <= history_blocks
    assert [e.ok for e in events if e.type == "output_formatted"] == [True]
    assert events[-1].type == "stage_completed" and events[-1].reason == "passed", events[-1]
    assert run.result.output.row_count == executor_result(wire.received[-1])["row_count"]


async def test_wire_server_refuses_tool_blocks_without_tools(make_model, wire):
    """The refusal the test above relies on, shown with the SDK directly."""
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=wire.url, max_retries=0)
    try:
        with pytest.raises(anthropic.BadRequestError) as info:
            await client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=[
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "add", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "3"}]}])
    finally:
        await client.close()
    assert TOOLS_REQUIRED in str(info.value)
