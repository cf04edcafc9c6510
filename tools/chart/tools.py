"""The chart stage's tools: analyse the SQL result, pick a chart, build and check its spec.

The data always comes from `ctx.state[STATE_SQL_RESULT]` (the SQL executor's last result):
the model names columns, it never copies rows into arguments.
"""

from __future__ import annotations

from typing import Any, Literal

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from ..results import STATE_ANALYSIS, STATE_CHART_SPEC, STATE_SQL_RESULT, QueryResult
from .analysis import analyze
from .selection import select_chart
from .spec import build_spec
from .validation import validate_spec


def result_from_state(state: dict[str, Any]) -> QueryResult:
    """The SQL stage's result from the run state (a `QueryResult` or its dict form)."""
    result = state.get(STATE_SQL_RESULT)
    if result is None:
        raise ToolError("No SQL result to chart yet: the SQL stage (sql_executor) must run a "
                        "query first.")
    if isinstance(result, dict):
        result = QueryResult.model_validate(result)
    return result


def _summary(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without its rows: the model needs the encodings, not the data back."""
    rows = len(spec.get("data", {}).get("values", []))
    return {**spec, "data": {"values": f"<{rows} rows inline>"}}


@tool(read_only=True, parallel_safe=False)  # writes ctx.state
def data_analyzer(ctx: ToolContext) -> dict[str, Any]:
    """Analyse the SQL result: each column's role (temporal, quantitative, nominal, ordinal),
    cardinality and NULL count, the time column, and trends of the measures over time."""
    analysis = analyze(result_from_state(ctx.state))
    ctx.state[STATE_ANALYSIS] = analysis
    return analysis


@tool(read_only=True, parallel_safe=False)  # writes ctx.state
def chart_type_selector(ctx: ToolContext, intent: str = "") -> dict[str, Any]:
    """Recommend a chart type and the columns to encode for the SQL result.

    Args:
        intent: the user's question or what the chart should show (e.g. "share of revenue
            by region"); words like share/proportion/breakdown favour a pie for few parts.
    """
    result = result_from_state(ctx.state)
    analysis = analyze(result)
    ctx.state[STATE_ANALYSIS] = analysis
    choice = select_chart(analysis, intent)
    choice["columns"] = {c["name"]: c["role"] for c in analysis["columns"]}
    return choice


@tool
def chart_generator(
    ctx: ToolContext,
    chart_type: Literal["auto", "line", "bar", "arc", "point"] = "auto",
    x: str | None = None,
    y: str | None = None,
    color: str | None = None,
    theta: str | None = None,
    title: str = "",
    top_n: int | None = None,
    horizontal: bool | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """Build a Vega-Lite chart of the SQL result (rows inline), validate it and store it.

    Args:
        chart_type: line (time series), bar (categories), arc (share of a whole, <= 6
            parts), point (two measures), or auto to use the recommended type.
        x: column for the x axis (time column for line, category for bar, first measure
            for point).
        y: measure column for the y axis (second measure for point).
        color: category column for colour (series of a line chart, parts of an arc).
        theta: measure column for the angle of an arc chart.
        title: chart title; a descriptive one is derived when empty (with auto, the title
            also serves as the intent, e.g. "Share of revenue by region").
        top_n: keep the N largest categories and group the rest as "Other".
        horizontal: bar orientation; chosen from label length when omitted.
        currency: currency of money columns (revenue, price, amount...) as a code (EUR,
            USD) or symbol, when the schema or question says which; "$" otherwise.
    """
    result = result_from_state(ctx.state)
    if chart_type == "auto":
        choice = select_chart(analyze(result), title)
        if choice["chart_type"] == "table":
            raise ToolError(choice["reason"])
        chart_type = choice["chart_type"]
        x, y = x or choice.get("x"), y or choice.get("y")
        color, theta = color or choice.get("color"), theta or choice.get("theta")
        top_n = top_n or choice.get("top_n")
        horizontal = choice.get("horizontal") if horizontal is None else horizontal
    spec = build_spec(result, chart_type, x=x, y=y, color=color, theta=theta,
                      title=title or None, top_n=top_n, horizontal=horizontal,
                      currency=currency)
    report = validate_spec(spec, result)
    if not report.valid:
        raise ToolError("The chart spec is invalid:\n- " + "\n- ".join(report.errors)
                        + f"\nColumns of the result: {', '.join(result.column_names)}.")
    ctx.state[STATE_CHART_SPEC] = spec
    return {"stored": True, "warnings": report.warnings, "spec": _summary(spec)}


@tool(read_only=True)
def chart_validator(ctx: ToolContext, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate a Vega-Lite spec (the stored chart when omitted): the Vega-Lite v5 schema,
    and every encoded field a real column of the SQL result with a compatible type.

    Args:
        spec: a Vega-Lite v5 spec with inline data; omit to check the stored chart.
    """
    if spec is None:
        spec = ctx.state.get(STATE_CHART_SPEC)
        if spec is None:
            raise ToolError("No chart to validate: pass a spec, or build one with chart_generator.")
    result = ctx.state.get(STATE_SQL_RESULT)
    if isinstance(result, dict):
        result = QueryResult.model_validate(result)
    return validate_spec(spec, result).to_dict()
