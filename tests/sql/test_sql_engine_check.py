"""The engine as final judge: EXPLAIN without running, its words passed on, read-only."""

from __future__ import annotations

import pytest

from stageagent.tools.sql import QueryError, execute_query, validate_sql
from stageagent.tools.sql.compile_check import compile_check, statement_text


def test_engine_refuses_what_the_schema_checks_accept(db):
    sql = "SELECT country, name, COUNT(*) FROM customers GROUP BY country"
    result = validate_sql(sql, db.schema(), database=db)
    if db.backend == "postgresql":  # SQLite and MariaDB (default sql_mode) allow bare columns
        assert not result.valid and result.errors[0].kind == "engine"
        assert "must appear in the GROUP BY" in result.errors[0].message
        assert (result.errors[0].line, result.errors[0].col) == (1, 17)  # where "name" is
    else:
        assert result.valid and result.engine_checked


def test_engine_message_goes_to_the_model(db):
    result = validate_sql("SELECT name FROM customers WHERE id = 1 +", db.schema(), database=db)
    assert not result.valid
    sql = "SELECT CAST(name AS INTEGER) + 'x' FROM customers" if db.backend == "postgresql" \
        else "SELECT name FROM customers WHERE id IN (SELECT id, name FROM orders)"
    result = validate_sql(sql, db.schema(), database=db)
    assert not result.valid and result.errors[0].kind == "engine", result.summary()
    assert result.errors[0].message.startswith("the database refused the query")


def test_compile_check_never_runs_a_write(demo):
    before = demo.counts()
    for sql in ("DELETE FROM stageagent_canary", "SELECT 1; DELETE FROM stageagent_canary",
                "UPDATE stageagent_canary SET note = 'x'"):
        verdict = compile_check(demo.database, sql)
        assert not verdict.ok and "allowed" in verdict.message
    assert compile_check(demo.database, "SELECT COUNT(*) FROM stageagent_canary;").ok
    assert demo.counts() == before


def test_statement_text_drops_trailing_semicolons_and_comments():
    assert statement_text("SELECT 1 ; -- done\n", "sqlite") == "SELECT 1"
    assert statement_text("SELECT ';' AS x;;", "postgres") == "SELECT ';' AS x"


@pytest.mark.parametrize("sql, token, hint", [
    ("SELEC name FROM customers", "SELEC", "SELECT"),
    ("SELECT name FORM customers", "FORM", "FROM"),
    ("SELECT name FROM customers WHER id = 1", "WHER", "WHERE"),
    ("SELECT name, FROM customers", ",", "trailing comma after 'name' before 'FROM'"),
    ("SELECT id FROM orders WHERE status IN ('a', 'b',)", ",", "before ')'"),
])
def test_syntax_errors_name_the_offending_token(db, sql, token, hint):
    result = validate_sql(sql, db.schema(), database=db)
    assert not result.valid
    error = result.errors[0]
    assert error.kind == "syntax" and error.name == token and hint in error.message
    assert error.line == 1 and sql[error.col - 1:].startswith(token)


def test_identifiers_are_quoted_whole(db, q):
    result = validate_sql("SELECT Unit Price FROM products", db.schema())
    assert not result.valid
    assert f"did you mean {q('Unit Price')}" in result.errors[0].message
    result = validate_sql(f"SELECT {q('Unit Prise')} FROM products", db.schema())
    assert q("Unit Prise") in result.errors[0].message
    assert result.errors[0].suggestions == ["Unit Price"]


@pytest.mark.parametrize("call", ["TO_CHAR(order_date, 'YYYY-MM')", "YEAR(order_date)",
                                  "LEFT(status, 2)"])
def test_executor_refuses_functions_the_engine_lacks(db, call):
    """sqlglot would rewrite these on the way (TO_CHAR -> CAST AS TEXT on SQLite) and
    return other rows than the engine would; the executor refuses like the engine."""
    sql = f"SELECT {call} FROM orders"
    valid_here = validate_sql(sql, db.schema(), database=db).valid
    if valid_here:
        assert execute_query(db, sql, limit=1).row_count == 1
    else:
        with pytest.raises(QueryError, match="no such function|does not exist"):
            execute_query(db, sql, limit=1)
    assert valid_here == {"sqlite": False, "postgresql": call.startswith(("TO_CHAR", "LEFT")),
                          "mysql": True}[db.backend]


def test_window_functions_ctes_and_quoted_names_are_valid(db, q):
    for sql in [
        f"SELECT name, {q('Unit Price')}, AVG({q('Unit Price')}) OVER (PARTITION BY category) "
        "AS avg_price FROM products",
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 5) "
        "SELECT SUM(k) AS total FROM n",
        "SELECT t.kind, t.n FROM (SELECT status AS kind, COUNT(*) AS n FROM orders GROUP BY "
        "status) AS t(kind, n) ORDER BY t.n DESC" if db.backend == "postgresql" else
        "SELECT t.kind, t.n FROM (SELECT status AS kind, COUNT(*) AS n FROM orders GROUP BY "
        "status) AS t ORDER BY t.n DESC",
    ]:
        result = validate_sql(sql, db.schema(), database=db)
        assert result.valid and result.engine_checked, (sql, result.summary())


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 400 + "1" + ")" * 400,
    "SELECT name FROM customers WHERE name = 'a\x00b'",
    "SELECT \u202ename FROM customers",
    "-- nothing but a comment",
    "SELECT name FROM customers WHERE id = ?",
])
def test_hostile_sql_gets_a_verdict_not_a_crash(db, sql):
    from stageagent.tools.sql import auto_fix_sql

    result = validate_sql(sql, db.schema(), database=db)
    if "\x00" in sql and db.backend == "mysql":
        assert result.valid  # MariaDB takes a NUL inside a string literal
    else:
        assert not result.valid and result.errors[0].message
    fixed = auto_fix_sql(sql, db.schema(), database=db)
    assert fixed.valid == validate_sql(fixed.sql, db.schema(), database=db).valid
