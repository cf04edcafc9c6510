import pytest

from stageagent.exceptions import ToolError
from stageagent.quality import Candidate
from stageagent.function_tools import ToolContext
from stageagent.tools.chart import (build_spec, chart_generator, chart_quality, chart_type_selector,
                                    chart_validator, data_analyzer)
from stageagent.tools.chart import samples
from stageagent.tools.results import STATE_ANALYSIS, STATE_CHART_SPEC, STATE_SQL_RESULT


def ctx_for(result):
    return ToolContext(stage="chart", state={STATE_SQL_RESULT: result})


async def test_data_analyzer_stores_analysis():
    ctx = ctx_for(samples.monthly_revenue())
    out = await data_analyzer.call({}, ctx)
    assert ctx.state[STATE_ANALYSIS] is out and out["time_column"] == "month"


async def test_tools_need_a_sql_result():
    with pytest.raises(ToolError, match="sql_executor"):
        await data_analyzer.call({}, ToolContext())


async def test_selector_uses_intent():
    ctx = ctx_for(samples.revenue_by_region())
    out = await chart_type_selector.call({"intent": "share of revenue per region"}, ctx)
    assert out["chart_type"] == "arc" and out["columns"]["region"] == "nominal"
    out = await chart_type_selector.call({}, ctx_for(samples.customer_directory()))
    assert out["chart_type"] == "table" and "No measure to plot" in out["reason"]


async def test_generator_stores_valid_spec_without_echoing_rows():
    ctx = ctx_for(samples.revenue_by_category())
    out = await chart_generator.call({"chart_type": "bar", "x": "category", "y": "revenue",
                                      "title": "Revenue by category"}, ctx)
    spec = ctx.state[STATE_CHART_SPEC]
    assert spec["title"] == "Revenue by category" and len(spec["data"]["values"]) == 8
    assert out["spec"]["data"] == {"values": "<8 rows inline>"}


async def test_generator_auto_and_refusals():
    ctx = ctx_for(samples.monthly_revenue())
    await chart_generator.call({}, ctx)
    assert ctx.state[STATE_CHART_SPEC]["mark"]["type"] == "line"
    with pytest.raises(ToolError, match="'sales'.*month \\(temporal\\), revenue"):
        await chart_generator.call({"chart_type": "line", "x": "month", "y": "sales"}, ctx)
    with pytest.raises(ToolError, match="No measure to plot"):
        await chart_generator.call({}, ctx_for(samples.customer_directory()))


async def test_chart_validator_checks_stored_or_given_spec():
    result = samples.monthly_revenue()
    ctx = ctx_for(result)
    with pytest.raises(ToolError, match="No chart"):
        await chart_validator.call({}, ctx)
    ctx.state[STATE_CHART_SPEC] = build_spec(result, "line", x="month", y="revenue")
    assert (await chart_validator.call({}, ctx))["valid"] is True
    bad = build_spec(result, "line", x="month", y="revenue")
    bad["encoding"]["x"]["field"] = "order_month"
    out = await chart_validator.call({"spec": bad}, ctx)
    assert out["valid"] is False and "'order_month'" in out["field_errors"][0]


def candidate(result, spec=None, output=None):
    state = {STATE_SQL_RESULT: result}
    if spec is not None:
        state[STATE_CHART_SPEC] = spec
    return Candidate(stage="chart", input="q", text="", output=output, state=state)


def test_chart_quality_scores():
    result = samples.monthly_revenue()
    good = build_spec(result, "line", x="month", y="revenue")
    report = chart_quality.evaluate(candidate(result, good))
    assert report.score == 1.0 and not report.critiques and chart_quality.name == "chart_quality"
    # the spec may come as the stage output instead of the state
    assert chart_quality.evaluate(candidate(result, output=good)).score == 1.0

    empty = chart_quality.evaluate(candidate(result))
    assert empty.score == 0.0 and "chart_generator" in empty.critiques[0]

    bad = build_spec(result, "line", x="month", y="revenue")
    bad["encoding"]["y"]["field"] = "revenu"
    low = chart_quality.evaluate(candidate(result, bad))
    assert low.score <= 0.5 and any("'revenu'" in c for c in low.critiques)


def test_chart_quality_judges_type_against_roles():
    customers = samples.customer_revenue()
    crowded = build_spec(customers, "bar", x="customer", y="revenue")  # 40 bars, no top_n
    report = chart_quality.evaluate(candidate(customers, crowded))
    assert report.score == 0.75 and any("top_n" in c for c in report.critiques)
    fixed = build_spec(customers, "bar", x="customer", y="revenue", top_n=10)
    assert chart_quality.evaluate(candidate(customers, fixed)).score == 1.0

    categories = samples.revenue_by_category()
    pie = build_spec(categories, "arc", theta="revenue", color="category", top_n=8)
    assert any("slices" in c for c in chart_quality.evaluate(candidate(categories, pie)).critiques)
    line = build_spec(categories, "bar", x="category", y="revenue", horizontal=False)
    line["mark"] = {"type": "line"}
    assert any("time axis" in c for c in chart_quality.evaluate(candidate(categories, line)).critiques)
