from stageagent.tools.chart import analyze, infer_role, select_chart, trend
from stageagent.tools.chart import samples
from stageagent.tools.results import ColumnInfo


def roles(result):
    return {c["name"]: c["role"] for c in analyze(result)["columns"]}


def test_iso_month_strings_are_temporal_and_trend_is_up():
    a = analyze(samples.monthly_revenue())
    assert roles(samples.monthly_revenue()) == {"month": "temporal", "revenue": "quantitative"}
    assert a["time_column"] == "month"
    t = a["trends"]["revenue"]
    assert t["direction"] == "up" and t["points"] == 24
    first, last = samples.monthly_revenue().rows[0][1], samples.monthly_revenue().rows[-1][1]
    assert t["change_pct"] == round((last - first) / first * 100, 2)


def test_integer_year_is_ordinal_and_ids_are_nominal():
    assert roles(samples.yearly_orders()) == {"year": "ordinal", "orders": "quantitative"}
    assert infer_role(ColumnInfo(name="customer_id", kind="integer"), [1, 2, 3]) == "nominal"
    assert infer_role(ColumnInfo(name="month", kind="integer"), [1, 2, 12]) == "ordinal"
    # a "month" column holding amounts is not a calendar part
    assert infer_role(ColumnInfo(name="month_total", kind="number"), [1500.5, 2300.0]) == "quantitative"
    assert infer_role(ColumnInfo(name="d", kind="date"), ["2024-01-01"]) == "temporal"


def test_cardinality_and_nulls():
    a = analyze(samples.revenue_with_nulls())
    cols = {c["name"]: c for c in a["columns"]}
    assert cols["category"]["nulls"] == 1 and cols["category"]["cardinality"] == 3
    assert cols["revenue"]["nulls"] == 1 and cols["revenue"]["sum"] == 1950.5
    assert any("NULL" in n for n in a["notes"])


def test_trend_down_and_flat():
    assert trend([10, 8, 6, 4])["direction"] == "down"
    assert trend([100, 100.1, 99.9, 100])["direction"] == "flat"
    assert trend([5])["change_pct"] is None


def test_selection_rules():
    assert select_chart(analyze(samples.monthly_revenue()))["chart_type"] == "line"
    by_cat = select_chart(analyze(samples.revenue_by_category()), "revenue by category")
    assert by_cat["chart_type"] == "bar" and by_cat["x"] == "category" and by_cat["y"] == "revenue"
    share = select_chart(analyze(samples.revenue_by_region()), "What share of revenue comes from each region?")
    assert share == {**share, "chart_type": "arc", "theta": "revenue", "color": "region"}
    # same data without a share question: bars compare better than a pie
    assert select_chart(analyze(samples.revenue_by_region()), "revenue by region")["chart_type"] == "bar"
    # share of 8 parts: too many for a pie
    assert select_chart(analyze(samples.revenue_by_category()), "breakdown of revenue")["chart_type"] == "bar"
    point = select_chart(analyze(samples.product_measures()))
    assert point["chart_type"] == "point" and {point["x"], point["y"]} == {"units_sold", "revenue"}
    many = select_chart(analyze(samples.customer_revenue()))
    assert many["chart_type"] == "bar" and many["top_n"] == 10 and many["horizontal"] is True


def test_no_measure_and_empty_say_table():
    no_measure = select_chart(analyze(samples.customer_directory()))
    assert no_measure["chart_type"] == "table"
    assert "No measure to plot" in no_measure["reason"]
    assert select_chart(analyze(samples.empty_result()))["chart_type"] == "table"
