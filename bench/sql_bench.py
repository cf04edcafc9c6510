"""SQL tool benchmark: validation cost per query (schema checks alone, and with the engine's
EXPLAIN compile check), and executor overhead on SQLite.

`run()` returns a dict of figures; `python bench/sql_bench.py` prints it as JSON.
Executor overhead = `execute_query` (guard, LIMIT rewrite, read-only transaction, typing,
JSON-safe conversion) minus the raw sqlite3 call on the same query and file.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from stageagent.tools.demo_db import create_demo_database
from stageagent.tools.sql import Database, execute_query, validate_sql

QUERIES = [
    "SELECT COUNT(*) FROM orders",
    "SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY n DESC",
    "SELECT c.name, SUM(oi.quantity * oi.unit_price) AS revenue FROM customers c JOIN orders o "
    "ON o.customer_id = c.id JOIN order_items oi ON oi.order_id = o.id GROUP BY c.name "
    "ORDER BY revenue DESC LIMIT 10",
    "SELECT strftime('%Y-%m', o.order_date) AS month, SUM(oi.quantity * oi.unit_price) AS revenue "
    "FROM orders o JOIN order_items oi ON oi.order_id = o.id GROUP BY month ORDER BY month",
    "SELECT p.category, AVG(oi.unit_price) AS avg_price FROM products p JOIN order_items oi "
    "ON oi.product_id = p.id GROUP BY p.category",
    "SELECT d.name, AVG(e.salary) AS avg_salary, COUNT(*) AS staff FROM departments d JOIN "
    "employees e ON e.department_id = d.id GROUP BY d.name",
    "WITH t AS (SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id) "
    "SELECT c.name, t.n FROM t JOIN customers c ON c.id = t.customer_id ORDER BY t.n DESC LIMIT 5",
    "SELECT country, COUNT(*) FROM customers GROUP BY country HAVING COUNT(*) > 10",
    "SELECT name FROM customers WHERE email IS NULL ORDER BY name",
    "SELECT e.first_name, e.last_name, m.first_name AS manager FROM employees e LEFT JOIN "
    "employees m ON m.id = e.manager_id",
    "SELECT \"SKU\", \"Unit Price\" FROM products WHERE \"Unit Price\" > 200 ORDER BY 2 DESC",
    "SELECT o.id, o.order_date, o.shipped_date FROM orders o WHERE o.shipped_date IS NULL "
    "AND o.status <> 'cancelled'",
    "SELECT segment, COUNT(DISTINCT c.id) AS customers, COUNT(o.id) AS orders FROM customers c "
    "LEFT JOIN orders o ON o.customer_id = c.id GROUP BY segment",
    "SELECT p.name, SUM(oi.quantity) AS units FROM products p JOIN order_items oi ON "
    "oi.product_id = p.id GROUP BY p.name ORDER BY units DESC LIMIT 10",
    "SELECT CASE WHEN discount IS NULL THEN 'none' ELSE 'discounted' END AS kind, COUNT(*) "
    "FROM order_items GROUP BY 1",
    "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = "
    "'Germany')",
    "SELECT c.name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
    "o.customer_id = c.id)",
    "SELECT strftime('%Y', order_date) AS y, COUNT(*) FROM orders GROUP BY y UNION ALL "
    "SELECT 'all', COUNT(*) FROM orders",
    "SELECT e.id, COUNT(o.id) AS orders FROM employees e LEFT JOIN orders o ON o.employee_id = "
    "e.id GROUP BY e.id ORDER BY orders DESC",
    "SELECT o.id, SUM(oi.quantity * oi.unit_price * (1 - COALESCE(oi.discount, 0))) AS net "
    "FROM orders o JOIN order_items oi ON oi.order_id = o.id GROUP BY o.id ORDER BY net DESC "
    "LIMIT 20",
]


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(repeat: int = 20) -> dict[str, Any]:
    """Validation ms/query (sqlglot) and executor overhead ms on the SQLite demo db."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        create_demo_database(path)
        create_ms = (time.perf_counter() - start) * 1000
        db = Database(path)
        schema = db.schema()
        for sql in QUERIES:  # every benchmark query must be valid and runnable
            assert validate_sql(sql, schema).valid, sql
        validate_ms = [_median_ms(lambda s=sql: validate_sql(s, schema), repeat)
                       for sql in QUERIES]
        engine_ms = [_median_ms(lambda s=sql: validate_sql(s, schema, database=db), repeat)
                     for sql in QUERIES]
        raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        overheads, raw_ms = [], []
        for sql in QUERIES:
            raw_t = _median_ms(lambda s=sql: raw.execute(s).fetchmany(1001), repeat)
            exec_t = _median_ms(lambda s=sql: execute_query(db, s, limit=1000), repeat)
            raw_ms.append(raw_t)
            overheads.append(exec_t - raw_t)
        raw.close()
        db.close()
    return {
        "queries": len(QUERIES),
        "demo_db_create_ms_sqlite": round(create_ms, 1),
        "validate_ms_per_query_median": round(statistics.median(validate_ms), 3),
        "validate_ms_per_query_max": round(max(validate_ms), 3),
        "validate_with_engine_check_ms_median": round(statistics.median(engine_ms), 3),
        "raw_sqlite_ms_per_query_median": round(statistics.median(raw_ms), 3),
        "executor_overhead_ms_median": round(statistics.median(overheads), 3),
        "executor_overhead_ms_max": round(max(overheads), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
