"""The executor on real result sets, and the bad inputs it must survive."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from stageagent.exceptions import StageAgentError, ToolError
from stageagent.function_tools import ToolContext
from stageagent.tools.deps import ReportDeps
from stageagent.tools.results import STATE_SQL_RESULT, QueryResult
from stageagent.tools.sql import (Database, DatabaseAuthError, DatabaseError,
                                  DatabaseUnreachableError, QueryTimeoutError, execute_query,
                                  sql_executor)

REVENUE_BY_CUSTOMER = (
    "SELECT c.name, COUNT(DISTINCT o.id) AS orders, SUM(oi.quantity * oi.unit_price) AS revenue,"
    " MIN(o.order_date) AS first_order FROM customers c JOIN orders o ON o.customer_id = c.id "
    "JOIN order_items oi ON oi.order_id = o.id GROUP BY c.name ORDER BY revenue DESC")


def test_typed_json_safe_columns(db):
    result = execute_query(db, REVENUE_BY_CUSTOMER, limit=10)
    kinds = {c.name: c.kind for c in result.columns}
    assert kinds == {"name": "string", "orders": "integer", "revenue": "number",
                     "first_order": "date"}
    assert result.row_count == 10 and result.truncated
    assert result.rows[0][0] == "O'Brien & Sons"  # the skew: the top customer dominates
    json.dumps(result.model_dump())  # no Decimal/date left
    assert isinstance(result.rows[0][2], float) and result.rows[0][3] == "2023-01-01"


def test_awkward_identifiers_and_unicode_round_trip(db, q):
    result = execute_query(db, f"SELECT {q('SKU')}, {q('Unit Price')} FROM products "
                               f"WHERE {q('SKU')} = 'SKU-1000'")
    assert result.column_names == ["SKU", "Unit Price"] and result.row_count == 1
    names = execute_query(db, "SELECT name FROM customers WHERE name LIKE '%GmbH%' OR "
                              "name = '東京商事' ORDER BY id").rows
    assert ["Müller GmbH"] in names and ["東京商事"] in names


def test_existing_smaller_limit_is_kept_and_not_truncated(db):
    result = execute_query(db, "SELECT id FROM orders ORDER BY id LIMIT 3", limit=100)
    assert [r[0] for r in result.rows] == [1, 2, 3] and not result.truncated


def test_empty_table(db):
    result = execute_query(db, "SELECT id, label, amount FROM empty_things")
    assert result.rows == [] and result.row_count == 0 and not result.truncated
    assert result.column_names == ["id", "label", "amount"]


def test_ten_million_rows_come_back_truncated_with_bounded_memory(db):
    sql = ("SELECT a.id AS a, b.id AS b FROM order_items a CROSS JOIN order_items b "
           "CROSS JOIN order_items c")  # 8296^3 rows
    tracemalloc.start()
    try:
        result = execute_query(db, sql, limit=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.row_count == 1000 and result.truncated
    assert peak < 20_000_000


def test_recursive_cte_of_ten_million_rows_is_cut_or_timed_out(db):
    sql = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
           "WHERE i < 10000000) SELECT i FROM n")
    try:
        result = execute_query(db, sql, limit=500, timeout=1.5)
        assert result.row_count == 500 and result.truncated
    except QueryTimeoutError as exc:
        assert "timeout" in str(exc)


def test_statement_timeout_is_enforced(db):
    slow = ("SELECT SUM(a.quantity * b.quantity + c.quantity) AS s FROM order_items a "
            "CROSS JOIN order_items b CROSS JOIN order_items c")  # 5.7e11 row combinations
    with pytest.raises(QueryTimeoutError, match="statement timeout"):
        execute_query(db, slow, timeout=0.5)  # 5.7e11 combinations: only a timeout ends it
    assert execute_query(db, "SELECT COUNT(*) FROM orders").rows == [[3000]]  # still usable


def test_executor_tool_stores_result_and_echoes_sql_columns_rows(ctx, call):
    out = call(sql_executor, ctx, sql=REVENUE_BY_CUSTOMER + ";", limit=50)
    stored = ctx.state[STATE_SQL_RESULT]
    assert isinstance(stored, QueryResult) and stored.row_count == 50
    assert out["sql"] == REVENUE_BY_CUSTOMER
    assert [c["name"] for c in out["columns"]] == ["name", "orders", "revenue", "first_order"]
    assert len(out["rows"]) == 20 and out["rows"] == stored.rows[:20] and out["truncated"]


def test_executor_tool_turns_db_errors_into_tool_errors(ctx, call):
    with pytest.raises(ToolError, match="rejected the query"):
        call(sql_executor, ctx, sql="SELECT no_such_column FROM orders")
    with pytest.raises(ToolError, match="limit must be at least 1"):
        call(sql_executor, ctx, sql="SELECT 1", limit=0)
    assert STATE_SQL_RESULT not in ctx.state


def test_missing_database_in_deps(call):
    with pytest.raises(ToolError, match="no database configured"):
        call(sql_executor, ToolContext(deps=None), sql="SELECT 1")


# --- bad connections -------------------------------------------------------------------


def test_unreachable_server_is_a_typed_error_with_masked_url():
    db = Database("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test", connect_timeout=1)
    with pytest.raises(DatabaseUnreachableError) as info:
        db.ping()
    assert "s3cret" not in str(info.value) and "***" in str(info.value)
    assert isinstance(info.value, StageAgentError)
    with pytest.raises(DatabaseUnreachableError):
        execute_query(db, "SELECT 1")


def test_missing_sqlite_file(tmp_path):
    with pytest.raises(DatabaseUnreachableError, match="does not exist"):
        Database(tmp_path / "nope.db")


def test_unsupported_backend():
    with pytest.raises(DatabaseError, match="unsupported database backend"):
        Database("oracle://u:p@h/x")


def test_wrong_password_on_mariadb(demo):
    if demo.name != "mysql":
        pytest.skip("the wrong-password case runs against MariaDB (PostgreSQL here is trust)")
    url = demo.writer.url.set(password="definitely-wrong")
    db = Database(url.render_as_string(hide_password=False), connect_timeout=2)
    with pytest.raises(DatabaseAuthError) as info:
        db.ping()
    assert "definitely-wrong" not in str(info.value) and "***" in str(info.value)
    ctx = ToolContext(deps=ReportDeps(database=db))
    import asyncio

    with pytest.raises(ToolError, match="authentication failed"):
        asyncio.run(sql_executor.call({"sql": "SELECT 1"}, ctx))
