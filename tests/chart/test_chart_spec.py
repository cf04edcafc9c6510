import copy

import pytest

from stageagent.exceptions import ToolError
from stageagent.tools.chart import build_spec, to_echarts, validate_spec
from stageagent.tools.chart import samples


def test_line_spec_is_valid_with_inline_data_titles_and_tooltips():
    result = samples.monthly_revenue()
    spec = build_spec(result, "line", x="month", y="revenue")
    report = validate_spec(spec, result)
    assert report.valid, report.errors
    assert len(spec["data"]["values"]) == 24
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["y"]["title"] == "Revenue ($)"  # money: the unit is in the title
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["month", "revenue"]
    assert spec["title"]


def test_bar_sorted_descending_and_top_n_other():
    result = samples.customer_revenue()
    spec = build_spec(result, "bar", x="customer", y="revenue", top_n=10)
    values = spec["data"]["values"]
    assert len(values) == 11 and values[-1]["customer"] == "Other (30)"
    assert values[-1]["revenue"] == pytest.approx(sum(r[1] for r in result.rows[10:]))
    kept = [v["revenue"] for v in values[:-1]]
    assert kept == sorted(kept, reverse=True)
    assert spec["encoding"]["y"]["field"] == "customer"  # long labels -> horizontal
    assert spec["encoding"]["y"]["sort"][-1] == "Other (30)"
    assert validate_spec(spec, result).valid


def test_bar_accepts_measure_and_category_swapped():
    result = samples.revenue_by_region()
    spec = build_spec(result, "bar", x="revenue", y="region")
    assert spec["encoding"]["y"]["field"] == "region" and spec["encoding"]["x"]["field"] == "revenue"


def test_arc_and_point_specs_validate():
    region = samples.revenue_by_region()
    arc = build_spec(region, "arc", theta="revenue", color="region")
    assert arc["mark"]["type"] == "arc" and validate_spec(arc, region).valid
    products = samples.product_measures()
    point = build_spec(products, "point", x="units_sold", y="revenue")
    assert validate_spec(point, products).valid
    assert point["encoding"]["tooltip"][0]["field"] == "product"


def test_unknown_field_is_refused_naming_it_and_the_columns():
    with pytest.raises(ToolError) as err:
        build_spec(samples.monthly_revenue(), "line", x="month", y="revenu")
    message = str(err.value)
    assert "'revenu'" in message and "Did you mean 'revenue'" in message and "month (temporal)" in message


def test_wrong_role_is_refused():
    with pytest.raises(ToolError, match="'category' is nominal"):
        build_spec(samples.revenue_by_category(), "line", x="category", y="category")
    with pytest.raises(ToolError, match="No measure to plot"):
        build_spec(samples.customer_directory(), "bar", x="name", y="city")
    with pytest.raises(ToolError, match="empty"):
        build_spec(samples.empty_result(), "line", x="month", y="revenue")


def test_validator_catches_unknown_field_the_schema_accepts():
    result = samples.monthly_revenue()
    spec = build_spec(result, "line", x="month", y="revenue")
    bad = copy.deepcopy(spec)
    bad["encoding"]["y"]["field"] = "total_sales"
    report = validate_spec(bad, result)
    assert not report.schema_errors  # schema-valid ...
    assert not report.valid and "'total_sales'" in report.field_errors[0]  # ... but empty chart
    assert "month, revenue" in report.field_errors[0]


def test_validator_catches_schema_errors_and_type_mismatch():
    result = samples.revenue_by_category()
    spec = build_spec(result, "bar", x="category", y="revenue")
    bad_mark = {**spec, "mark": "barr"}
    assert validate_spec(bad_mark, result).schema_errors
    wrong_type = copy.deepcopy(spec)
    cat_channel = "y" if wrong_type["encoding"]["y"]["field"] == "category" else "x"
    wrong_type["encoding"][cat_channel]["type"] = "quantitative"
    errors = validate_spec(wrong_type, result).field_errors
    assert any("'category' is encoded as quantitative" in e for e in errors)
    no_data = {k: v for k, v in spec.items() if k != "data"}
    assert any("data.values" in e for e in validate_spec(no_data, result).field_errors)
    url = {**spec, "data": {"url": "https://example.com/data.csv"}}
    assert any("external data" in e for e in validate_spec(url, result).field_errors)


def test_echarts_export_matches_spec():
    bar = build_spec(samples.revenue_by_region(), "bar", x="region", y="revenue")
    option = to_echarts(bar)
    assert option["xAxis"]["data"] == ["North", "South", "East", "West"]
    assert option["series"][0]["data"][0] == 512_000.0
    pie = to_echarts(build_spec(samples.revenue_by_region(), "arc", theta="revenue", color="region"))
    assert pie["series"][0]["type"] == "pie" and len(pie["series"][0]["data"]) == 4
    line = to_echarts(build_spec(samples.monthly_revenue(), "line", x="month", y="revenue"))
    assert line["xAxis"]["type"] == "time" and len(line["series"][0]["data"]) == 24
    assert to_echarts(build_spec(samples.product_measures(), "point", x="units_sold",
                                 y="revenue"))["series"][0]["type"] == "scatter"
