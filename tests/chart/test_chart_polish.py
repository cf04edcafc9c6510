"""Axis polish: few short category labels stay level, many long ones turn; money axes
show their currency in the ticks and the title (checked in the rendered SVG too)."""

import pytest

from stageagent.tools.chart import build_spec, render_svg, samples, validate_spec
from stageagent.tools.chart.polish import label_angle, money_symbol
from stageagent.tools.results import ColumnInfo, QueryResult


def test_four_short_labels_are_not_rotated():
    spec = build_spec(samples.revenue_by_region(), "bar", x="region", y="revenue")
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0


def test_many_long_labels_turn_and_a_few_longer_ones_slant():
    customers = samples.customer_revenue()
    spec = build_spec(customers, "bar", x="customer", y="revenue", horizontal=False)
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == -90
    assert label_angle(["Home & Garden Supplies", "Electronics", "Clothing"], 400) == -45
    assert label_angle(["A", "B", "C"], 400) == 0


def test_a_currency_hint_or_a_code_in_the_name_sets_the_unit():
    region = samples.revenue_by_region()
    spec = build_spec(region, "bar", x="region", y="revenue", currency="EUR")
    y = spec["encoding"]["y"]
    assert y["title"] == "Revenue (€)" and y["axis"]["format"].startswith("$")
    assert spec["config"]["locale"]["number"]["currency"] == ["€", ""]
    assert validate_spec(spec, region).valid
    assert "€" in render_svg(spec) and "Revenue (€)" in render_svg(spec)
    assert money_symbol("amount_gbp", [1.5]) == "£"
    assert money_symbol("UnitPrice", [0.99]) == "$"
    assert money_symbol("MonthlyTotal", [12.87]) == "$"


@pytest.mark.parametrize("name, values", [
    ("orders", [10, 12]), ("units_sold", [3, 4]), ("invoice_count", [5, 9]),
    ("total_orders", [100, 120]), ("share_pct", [12.5, 3.1]), ("month", [1, 2]),
])
def test_counts_and_rates_are_not_money(name, values):
    assert money_symbol(name, values) is None


def test_a_count_axis_keeps_its_plain_title():
    result = QueryResult(sql="q", columns=[ColumnInfo(name="segment", kind="string"),
                                           ColumnInfo(name="orders", kind="integer")],
                         rows=[["SMB", 10], ["Enterprise", 4]])
    spec = build_spec(result, "bar", x="segment", y="orders")
    assert spec["encoding"]["y"]["title"] == "Orders" and "config" not in spec
