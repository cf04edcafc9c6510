"""Realistic example results (the shapes the demo database's queries return).

Used by the tests, the benchmarks and notebook demos of the chart and document stages;
deterministic, so a figure quoted in a test is a figure of the data.
"""

from __future__ import annotations

import math

from ..results import ColumnInfo, QueryResult

CATEGORIES = ["Electronics", "Home & Garden", "Clothing", "Sports", "Books", "Toys",
              "Beauty", "Grocery"]
REGIONS = ["North", "South", "East", "West"]


def _result(sql: str, columns: list[tuple[str, str]], rows: list[list]) -> QueryResult:
    return QueryResult(sql=sql, dialect="sqlite", rows=rows, row_count=len(rows),
                       columns=[ColumnInfo(name=n, kind=k) for n, k in columns])  # type: ignore[arg-type]


def monthly_revenue() -> QueryResult:
    """24 months (2023-01 .. 2024-12) of revenue: a rising trend with a December peak."""
    rows = []
    for i in range(24):
        year, month = 2023 + i // 12, i % 12 + 1
        seasonal = 1 + 0.15 * math.sin(2 * math.pi * (month - 3) / 12) + (0.25 if month == 12 else 0)
        rows.append([f"{year}-{month:02d}", round((80_000 + 2_500 * i) * seasonal, 2)])
    return _result("SELECT strftime('%Y-%m', order_date) AS month, SUM(amount) AS revenue "
                   "FROM orders GROUP BY 1 ORDER BY 1", [("month", "string"), ("revenue", "number")],
                   rows)


def revenue_by_category() -> QueryResult:
    values = [412_530.5, 298_110.0, 251_870.25, 187_400.0, 96_215.75, 88_940.0, 61_305.0, 40_120.0]
    return _result("SELECT p.category, SUM(oi.quantity * oi.unit_price) AS revenue FROM ... "
                   "GROUP BY 1 ORDER BY 2 DESC", [("category", "string"), ("revenue", "number")],
                   [[c, v] for c, v in zip(CATEGORIES, values)])


def revenue_by_region() -> QueryResult:
    values = [512_000.0, 301_500.0, 245_250.0, 178_900.0]
    return _result("SELECT region, SUM(amount) AS revenue FROM orders JOIN customers ... "
                   "GROUP BY 1", [("region", "string"), ("revenue", "number")],
                   [[r, v] for r, v in zip(REGIONS, values)])


def product_measures() -> QueryResult:
    """Two measures per product: units sold and revenue."""
    names = ["Laptop Pro 14", "Wireless Mouse", "USB-C Hub", "Desk Lamp", "Office Chair",
             "Standing Desk", "Monitor 27", "Keyboard", "Webcam HD", "Headset", "Tablet 11",
             "Phone Case"]
    rows = [[n, 40 + 37 * i % 300, round((40 + 37 * i % 300) * (25 + 90 * (i % 5)), 2)]
            for i, n in enumerate(names)]
    return _result("SELECT p.name AS product, SUM(quantity) AS units_sold, SUM(...) AS revenue "
                   "FROM ... GROUP BY 1", [("product", "string"), ("units_sold", "integer"),
                                           ("revenue", "number")], rows)


def customer_revenue() -> QueryResult:
    """40 customers with long names: too many for a readable bar chart."""
    rows = [[f"Customer {i:02d} Holdings Ltd", round(95_000 / (1 + 0.15 * i), 2)]
            for i in range(1, 41)]
    return _result("SELECT c.name AS customer, SUM(o.amount) AS revenue FROM ... GROUP BY 1",
                   [("customer", "string"), ("revenue", "number")], rows)


def customer_directory() -> QueryResult:
    """No numeric column at all: names and places."""
    rows = [["Ada Lovelace", "London", "UK"], ["Grace Hopper", "New York", "US"],
            ["Alan Turing", "Manchester", "UK"], ["Edsger Dijkstra", "Austin", "US"]]
    return _result("SELECT name, city, country FROM customers LIMIT 4",
                   [("name", "string"), ("city", "string"), ("country", "string")], rows)


def empty_result() -> QueryResult:
    return _result("SELECT month, revenue FROM monthly WHERE 1 = 0",
                   [("month", "string"), ("revenue", "number")], [])


def revenue_with_nulls() -> QueryResult:
    """NULLs in the category and the measure (outer joins do this)."""
    rows = [["Electronics", 1200.0], ["Books", None], [None, 300.0], ["Toys", 450.5]]
    return _result("SELECT category, SUM(amount) AS revenue FROM ... LEFT JOIN ... GROUP BY 1",
                   [("category", "string"), ("revenue", "number")], rows)


def yearly_orders() -> QueryResult:
    """Integer years: an ordered category, not a measure."""
    return _result("SELECT CAST(strftime('%Y', order_date) AS INTEGER) AS year, COUNT(*) AS orders "
                   "FROM orders GROUP BY 1", [("year", "integer"), ("orders", "integer")],
                   [[2023, 1480], [2024, 1735]])
