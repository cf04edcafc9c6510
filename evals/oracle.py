"""Models of known quality, for testing the harness and benchmarking it (no network).

`oracle_model(dataset, right=...)` is a `FunctionModel` that plays a competent model on
the dataset's SQL and chart cases: it recognises the case by its question, runs the gold
SQL (or, when `right(case)` is False, a plausible wrong query) through the real
`sql_executor` tool, then answers and formats as the SQL stage asks; for a chart case it
calls `chart_generator` with the expected type and encodings (or the wrong chart type);
for a document case it asks the pipeline's `draft_generator` for a grounded draft and
answers with it (or with its largest figure misquoted by +37%). Its
score on a dataset is known in advance, so the harness's reported score can be checked
exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stageagent.messages import ToolReturnMessage, UserMessage
from stageagent.models import FunctionModel, ModelRequest, call

from .dataset import Case, Dataset

WRONG_SQL = "SELECT 1 AS wrong_answer"


def _question(request: ModelRequest) -> str:
    return next((m.content for m in request.messages if isinstance(m, UserMessage)), "")


def _last_result(request: ModelRequest, tool: str) -> Any:
    last = request.messages[-1] if request.messages else None
    if isinstance(last, ToolReturnMessage):
        for result in last.results:
            if result.name == tool:
                return result
    return None


def _sql_turn(request: ModelRequest, sql: str) -> Any:
    if request.output_schema is not None:  # the format phase: what the executor returned
        for message in reversed(request.messages):
            if isinstance(message, ToolReturnMessage):
                for result in message.results:
                    if result.name == "sql_executor" and not result.is_error:
                        seen = json.loads(result.content)
                        return json.dumps({"sql": seen["sql"], "row_count": seen["row_count"],
                                           "columns": [c["name"] for c in seen["columns"]],
                                           "notes": ""})
        return json.dumps({"sql": sql, "columns": [], "row_count": 0, "notes": ""})
    if _last_result(request, "sql_executor") is not None:
        return "The query answers the question from the tables it names."
    return call("sql_executor", {"sql": sql})


def _chart_turn(request: ModelRequest, args: dict[str, Any]) -> Any:
    if _last_result(request, "chart_generator") is not None:
        return "The chart shows the measure by the category the question asks about."
    return call("chart_generator", args)


def _document_turn(request: ModelRequest, right: bool) -> Any:
    seen = _last_result(request, "draft_generator")
    if seen is None:
        return call("draft_generator", {"question": _question(request)})
    draft = json.loads(seen.content)["draft"]
    return draft if right else misquote(draft)


def misquote(text: str) -> str:
    """`text` with its largest figure inflated by 37% (a wrong number, same format)."""
    from stageagent.tools.document import extract_quantities

    figures = [q for q in extract_quantities(text) if q.kind != "date"]
    if not figures:
        return text + " Revenue grew by 137% over the period."
    worst = max(figures, key=lambda q: abs(q.value))
    wrong = f"{worst.value * 1.37:,.2f}"
    return text[:worst.start] + wrong + text[worst.end:]


def chart_arguments(case: Case, right: bool) -> dict[str, Any]:
    """Right: the expected type and encodings (`auto`, the tool's own choice, when the case
    names no encodings). Wrong: another chart type."""
    expected = case.expected_output
    chart_type = (expected.chart_types() or ["auto"])[0] if expected.encoding else "auto"
    args: dict[str, Any] = {"chart_type": chart_type, **(expected.encoding or {}),
                            "title": case.inputs.question.rstrip("?.")[:80]}
    if not right:
        args["chart_type"] = "arc" if chart_type != "arc" else "bar"
    return args


def oracle_model(dataset: Dataset, *, right: Callable[[Case], bool] = lambda case: True,
                 wrong_sql: str = WRONG_SQL, name: str = "oracle") -> FunctionModel:
    """A model that is right exactly on the cases where `right(case)` is True."""
    cases = {case.inputs.question: case for case in dataset.cases}

    def answer(request: ModelRequest) -> Any:
        case = cases.get(_question(request))
        if case is None:
            raise LookupError(f"oracle: no case asks {_question(request)[:80]!r}")
        tools = {t.name for t in request.tools}
        if "chart_generator" in tools:
            return _chart_turn(request, chart_arguments(case, right(case)))
        if "draft_generator" in tools:
            return _document_turn(request, right(case))
        sql = case.expected_output.sql if right(case) else wrong_sql
        return _sql_turn(request, sql or wrong_sql)

    return FunctionModel(answer, name=name)
