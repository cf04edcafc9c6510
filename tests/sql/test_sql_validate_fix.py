"""Validator and auto-fixer against the real schema of each engine."""

from __future__ import annotations

import pytest

from stageagent.exceptions import ToolError
from stageagent.tools.sql import (auto_fix_sql, execute_query, sql_auto_fixer, sql_validator,
                                  validate_sql)

GOOD = [
    "SELECT c.name, COUNT(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id "
    "GROUP BY c.name ORDER BY orders DESC",
    "WITH t AS (SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id) "
    "SELECT c.name, t.n FROM t JOIN customers c ON c.id = t.customer_id",
    "SELECT status, COUNT(*) AS n FROM orders GROUP BY status HAVING COUNT(*) > 10 ORDER BY n",
    "SELECT name FROM customers WHERE name = 'O''Brien & Sons' UNION SELECT name FROM products",
    "SELECT d.name, AVG(e.salary) FROM departments d LEFT JOIN employees e "
    "ON e.department_id = d.id GROUP BY d.name",
    "SELECT x.n FROM (SELECT COUNT(*) AS n FROM order_items) AS x",
    "SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = "
    "'Germany')",
    "SELECT c.name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
    "o.customer_id = c.id)",
    "SELECT (SELECT MAX(order_date) FROM orders o WHERE o.customer_id = c.id) AS last_order "
    "FROM customers c",
]


def test_unknown_columns_inside_correlated_subqueries(db):
    sql = ("SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.idd = "
           "o.customer_idd AND countryy = 'x')")
    names = {e.name for e in validate_sql(sql, db.schema()).errors}
    assert names == {"idd", "customer_idd", "countryy"}


@pytest.mark.parametrize("sql", GOOD)
def test_valid_queries_pass_and_run(db, sql):
    result = validate_sql(sql, db.schema())
    assert result.valid, result.summary()
    assert result.qualified_sql
    execute_query(db, sql, limit=5)


def test_unknown_columns_are_named_with_position_and_suggestion(db):
    sql = ("SELECT c.nme, o.ordr_date, bogus\nFROM orders o JOIN customers c "
           "ON c.id = o.customer_id")
    result = validate_sql(sql, db.schema())
    assert not result.valid
    by_name = {e.name: e for e in result.errors}
    assert set(by_name) == {"nme", "ordr_date", "bogus"}
    assert all(e.kind == "unknown_column" for e in result.errors)
    assert by_name["nme"].suggestions[0] == "name"
    assert by_name["ordr_date"].suggestions[0] == "order_date"
    assert (by_name["nme"].line, by_name["nme"].col) == (1, 10)  # where "nme" starts


def test_unknown_table_ambiguous_column_bad_alias(db):
    errors = validate_sql("SELECT id FROM orderz", db.schema()).errors
    assert errors[0].kind == "unknown_table" and errors[0].suggestions == ["orders"]
    errors = validate_sql("SELECT id FROM orders JOIN customers ON customers.id = "
                          "orders.customer_id", db.schema()).errors
    assert [e.kind for e in errors] == ["ambiguous_column"]
    errors = validate_sql("SELECT x.id FROM orders o", db.schema()).errors
    assert errors[0].kind == "unknown_table" and errors[0].name == "x"
    assert errors[0].message.startswith(('"x" (in x.id)', '`x` (in x.id)'))


def test_syntax_error_has_line_and_column(db):
    result = validate_sql("SELECT name\nFROM customers\nWHERE (id = 1", db.schema())
    assert not result.valid and result.errors[0].kind == "syntax"
    assert result.errors[0].line == 3 and result.errors[0].col


def test_unknown_function(db):
    result = validate_sql("SELECT frobnicate(id) FROM orders", db.schema())
    assert [i.name for i in result.errors if i.kind == "unknown_function"] == ["frobnicate"]
    assert validate_sql("SELECT upper(name) FROM customers", db.schema()).valid


def test_unsafe_statement_is_a_validation_error(db):
    result = validate_sql("DELETE FROM orders", db.schema())
    assert result.errors[0].kind == "unsafe"


def test_case_rules_follow_the_dialect(db, q):
    result = validate_sql(f"SELECT SKU, {q('Unit Price')} FROM products", db.schema())
    if db.dialect == "postgres":
        assert not result.valid and 'write "SKU"' in result.errors[0].message
    else:
        assert result.valid


def test_validator_tool(ctx, call):
    out = call(sql_validator, ctx, sql="SELECT nme FROM customers")
    assert out["valid"] is False and out["errors"][0]["name"] == "nme"
    with pytest.raises(ToolError):
        call(sql_validator, ctx, sql=" ")


def test_autofix_misspelt_column_and_table_then_runs(db):
    bad = "SELECT c.nme, COUNT(*) AS n FROM order o JOIN customer c ON c.id = o.custmer_id " \
          "GROUP BY c.nme"
    assert not validate_sql(bad, db.schema()).valid
    fixed = auto_fix_sql(bad, db.schema())
    assert fixed.valid and fixed.changed, fixed.remaining
    assert any("'nme' -> name" in c for c in fixed.changes)
    assert any("'custmer_id' -> customer_id" in c for c in fixed.changes)
    assert any("'order' -> orders" in c for c in fixed.changes)
    assert execute_query(db, fixed.sql).row_count > 0


def test_autofix_quotes_awkward_names_and_transpiles(db, q):
    fixed = auto_fix_sql("SELECT TOP 3 name, unit_prices FROM products ORDER BY name",
                         db.schema(), source_dialect="tsql")
    assert fixed.valid
    assert f"{q('Unit Price')}" in fixed.sql and "LIMIT 3" in fixed.sql
    assert "transpiled from tsql" in fixed.changes[0]
    assert execute_query(db, fixed.sql).row_count == 3


def test_autofix_leaves_valid_sql_alone_and_reports_what_it_cannot_fix(db):
    sql = "SELECT name FROM customers"
    assert auto_fix_sql(sql, db.schema()).model_dump() == {
        "sql": sql, "changed": False, "changes": [], "valid": True, "remaining": []}
    result = auto_fix_sql("SELECT zzzzqqq FROM customers", db.schema())
    assert not result.valid and result.remaining[0].name == "zzzzqqq"


def test_autofix_tool(ctx, call):
    out = call(sql_auto_fixer, ctx, sql="SELECT nme FROM customers")
    assert out["valid"] and out["changes"]
    with pytest.raises(ToolError, match="unknown source_dialect"):
        call(sql_auto_fixer, ctx, sql="SELECT 1", source_dialect="cobol")
