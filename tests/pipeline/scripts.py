"""Realistic scripted model turns for whole pipeline runs (no network).

`PipelineModel` is a `FunctionModel` that plays, per stage, what a good model does:
SQL: schema_retrieval + schema_discovery -> sql_validator -> sql_executor -> summary ->
format JSON (built from the executor's real observation); chart: data_analyzer ->
chart_generator -> summary; document: consistency_validator -> final text. It tells the
stages apart by the tools offered (the runtime shows each stage only its own tools), and
it keeps every request so tests can look at the prompts and the critiques.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stageagent.tools.results import QueryResult
from stageagent.tools.sql import Database, execute_query

from stageagent import FunctionModel, ModelRequest, call
from stageagent.messages import AssistantMessage, ToolReturnMessage

QUESTION = "What was the total revenue per product category in 2024?"

#: portable across SQLite, PostgreSQL and MariaDB (ISO date literals, ROUND on numeric)
SQL = """SELECT p.category AS category,
       ROUND(SUM(oi.quantity * oi.unit_price * (1 - COALESCE(oi.discount, 0))), 2) AS revenue
FROM order_items AS oi
JOIN orders AS o ON o.id = oi.order_id
JOIN products AS p ON p.id = oi.product_id
WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01'
  AND o.status <> 'cancelled' AND p.category IS NOT NULL
GROUP BY p.category
ORDER BY revenue DESC"""

CHART_TITLE = "Revenue by product category, 2024"

Turn = Any


def stage_of(request: ModelRequest) -> str:
    names = {t.name for t in request.tools}
    if "sql_executor" in names or request.output_schema is not None:
        return "sql"
    if "chart_generator" in names:
        return "chart"
    if "consistency_validator" in names:
        return "document"
    raise AssertionError(f"request with unexpected tools: {sorted(names)}")


def last_observation(request: ModelRequest, tool: str) -> Any:
    """The JSON content of the newest successful result of `tool` in the request."""
    for message in reversed(request.messages):
        if isinstance(message, ToolReturnMessage):
            for result in message.results:
                if result.name == tool and not result.is_error:
                    return json.loads(result.content)
    raise AssertionError(f"no {tool} result in the request")


def format_turn(request: ModelRequest) -> str:
    """The format phase: SQLStageOutput filled from what sql_executor really returned."""
    seen = last_observation(request, "sql_executor")
    return json.dumps({"sql": seen["sql"], "columns": [c["name"] for c in seen["columns"]],
                       "row_count": seen["row_count"], "notes": ""})


def document_text(result: QueryResult) -> str:
    """A grounded paragraph about the revenue-by-category result (every figure exact)."""
    rows = sorted(result.rows, key=lambda r: r[1], reverse=True)
    total = sum(r[1] for r in rows)
    (top, top_v), (second, second_v), (low, low_v) = rows[0], rows[1], rows[-1]
    return (f"Total revenue across the {len(rows)} product categories in 2024 was "
            f"{total / 1e6:.2f} million EUR. {top} generated the highest revenue at "
            f"{top_v / 1e6:.2f} million EUR, {100 * top_v / total:.1f}% of the total. "
            f"{second} followed with {second_v:,.0f} EUR, while {low} had the lowest revenue "
            f"at {low_v:,.0f} EUR.")


def wrong_document_text(result: QueryResult) -> str:
    """The same paragraph with the top category's revenue misquoted."""
    rows = sorted(result.rows, key=lambda r: r[1], reverse=True)
    right = f"{rows[0][1] / 1e6:.2f} million"
    wrong = f"{rows[0][1] * 1.37 / 1e6:.2f} million"
    text = document_text(result)
    assert right in text
    return text.replace(right, wrong, 1)


def sql_turns(sql: str = SQL) -> list[Turn]:
    return [
        ["I will find the tables that hold revenue and categories first.",
         call("schema_retrieval", {"question": QUESTION}),
         call("schema_discovery", {"tables": ["orders", "order_items", "products"]})],
        call("sql_validator", {"sql": sql}),
        call("sql_executor", {"sql": sql}),
        ("The query sums quantity * unit_price * (1 - discount) per category for 2024, "
         "excluding cancelled orders and unclassified products."),
    ]


def chart_turns(**chart_args: Any) -> list[Turn]:
    args = {"chart_type": "bar", "x": "category", "y": "revenue", "title": CHART_TITLE,
            **chart_args}
    return [call("data_analyzer"), call("chart_generator", args),
            "A bar chart of revenue per category, sorted by revenue."]


def document_turns(text: str) -> list[Turn]:
    return [call("consistency_validator", {"text": text}), text]


class PipelineModel(FunctionModel):
    """Plays per-stage turn lists; a turn may be a callable of the request."""

    def __init__(self, turns: dict[str, list[Turn | Callable[[ModelRequest], Turn]]]):
        self.turns = turns
        self.requests: dict[str, list[ModelRequest]] = {stage: [] for stage in turns}
        super().__init__(self._answer, name="pipeline-script")

    def _answer(self, request: ModelRequest) -> Turn:
        stage = stage_of(request)
        self.requests.setdefault(stage, []).append(request)
        if request.output_schema is not None:
            return format_turn(request)
        index = sum(isinstance(m, AssistantMessage) and not _is_format(m)
                    for m in request.messages)
        script = self.turns.get(stage, [])
        if index >= len(script):
            raise AssertionError(f"stage {stage!r} asked for turn {index + 1}; "
                                 f"the script has {len(script)}")
        turn = script[index]
        return turn(request) if callable(turn) else turn


def _is_format(message: AssistantMessage) -> bool:
    return message.text.lstrip().startswith("{") and not message.tool_calls


def expected_result(db: Database) -> QueryResult:
    """The scripted query's result, computed directly (not through the pipeline)."""
    return execute_query(db, SQL)


def happy_model(result: QueryResult, *, chart: bool = True) -> PipelineModel:
    turns: dict[str, list[Any]] = {"sql": sql_turns(), "document": document_turns(
        document_text(result))}
    if chart:
        turns["chart"] = chart_turns()
    return PipelineModel(turns)


def cli_script(expected: QueryResult) -> dict[str, Any]:
    """The pipeline's turns as `--script` JSON (same turns as the in-process tests);
    also what `stageagent serve --script` plays."""
    fmt = json.dumps({"sql": SQL, "columns": expected.column_names,
                      "row_count": expected.row_count, "notes": ""})
    return {
        "sql": [[{"tool": "schema_discovery", "args": {"tables": ["orders", "order_items",
                                                                 "products"]}}],
                {"tool": "sql_validator", "args": {"sql": SQL}},
                {"tool": "sql_executor", "args": {"sql": SQL}},
                "Revenue per category for 2024, cancelled orders excluded.", fmt],
        "chart": [{"tool": "data_analyzer"},
                  {"tool": "chart_generator", "args": {"chart_type": "bar", "x": "category",
                                                       "y": "revenue", "title": CHART_TITLE}},
                  "A bar chart of revenue per category."],
        "document": [{"tool": "consistency_validator", "args": {"text": document_text(expected)}},
                     document_text(expected)],
    }
