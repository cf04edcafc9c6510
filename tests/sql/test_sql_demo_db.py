"""The demo database: deterministic, shaped like real sales data, identical on every engine."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from stageagent.tools.demo_db import DEMO_TABLES, create_demo_database, generate_rows
from stageagent.tools.sql import execute_query


def test_same_seed_same_rows_and_other_seed_differs():
    assert generate_rows(7) == generate_rows(7)
    assert generate_rows(7)["orders"] != generate_rows(8)["orders"]


def test_sqlite_creation_is_repeatable(tmp_path):
    """(Its speed is `demo_db_create_ms_sqlite` in `python -m bench sql`, not a test.)"""
    counts = create_demo_database(tmp_path / "a.db")
    assert create_demo_database(tmp_path / "a.db") == counts  # drop + create, no duplicates
    assert set(counts) == set(DEMO_TABLES)
    assert 3000 <= sum(counts.values()) <= 20000


def test_data_has_skew_seasonality_nulls_and_awkward_names():
    rows = generate_rows(7)
    orders = rows["orders"]
    per_customer = Counter(o["customer_id"] for o in orders).most_common()
    top5 = sum(n for _, n in per_customer[:5])
    assert top5 / len(orders) > 0.25, "a few customers should dominate"
    q4 = sum(1 for o in orders if o["order_date"].month >= 10)
    assert q4 / len(orders) > 0.30, "Q4 is the peak (a flat year would be 25%)"
    years = Counter(o["order_date"].year for o in orders)
    assert set(years) == {2023, 2024} and years[2024] > years[2023]
    assert any(o["shipped_date"] is None for o in orders)
    assert any(c["email"] is None for c in rows["customers"])
    assert any(p["category"] is None for p in rows["products"])
    names = {c["name"] for c in rows["customers"]}
    assert "O'Brien & Sons" in names and any(not n.isascii() for n in names)
    assert "Unit Price" in rows["products"][0] and "SKU" in rows["products"][0]


def test_every_engine_holds_the_same_data(db):
    """Same revenue per year on SQLite, PostgreSQL and MariaDB as computed in Python."""
    rows = generate_rows(7)
    year_of = {o["id"]: o["order_date"].year for o in rows["orders"]}
    expected: dict[int, Decimal] = {}
    for item in rows["order_items"]:
        year = year_of[item["order_id"]]
        expected[year] = expected.get(year, Decimal(0)) + item["quantity"] * Decimal(
            str(item["unit_price"]))
    year_expr = {"sqlite": "CAST(strftime('%Y', o.order_date) AS INTEGER)",
                 "postgres": "CAST(EXTRACT(YEAR FROM o.order_date) AS INTEGER)",
                 "mysql": "YEAR(o.order_date)"}[db.dialect]
    result = execute_query(db, f"SELECT {year_expr} AS y, SUM(oi.quantity * oi.unit_price) AS "
                               "revenue FROM orders o JOIN order_items oi ON oi.order_id = o.id "
                               "GROUP BY 1 ORDER BY 1")
    got = {int(r[0]): r[1] for r in result.rows}
    assert got.keys() == expected.keys()
    for year, value in expected.items():
        assert abs(got[year] - float(value)) < 0.5
