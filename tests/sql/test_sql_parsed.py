"""One reading of a query shared by the guard, the validator, the engine check and the gate.

The checks used to parse the same text again each; now they take a `ParsedSQL`. What must
hold: the reading is exactly sqlglot's, a reading of another text is never trusted (it
could smuggle a write past the guard), and no check modifies the shared tree.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot.errors import SqlglotError

from stageagent.quality import Candidate
from stageagent.tools.results import STATE_SQL_RESULT
from stageagent.tools.sql import (SQLQualityEvaluator, SQLStageOutput, check_read_only,
                                  compile_check, execute_query, parse_sql, validate_sql)
from stageagent.tools.sql.functions import tokenize

TEXTS = [
    "SELECT 1", "SELECT 1;", "SELECT 1 ; ;", "SELECT 1; -- trailing", "/* c */ SELECT a FROM t",
    "SELECT 1; SELECT 2", "SELEC name FROM t", "SELECT 'open", "", "WITH x AS (SELECT 1 AS n) "
    "SELECT n FROM x", "DELETE FROM orders",
]


def _sqlglot(sql: str, dialect: str) -> object:
    try:
        return [s.sql(dialect) if s is not None else None
                for s in sqlglot.parse(sql, read=dialect)]
    except SqlglotError as exc:
        return type(exc)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql"])
@pytest.mark.parametrize("sql", TEXTS)
def test_the_reading_is_exactly_sqlglots(sql, dialect):
    parsed = parse_sql(sql, dialect)
    got = type(parsed.error) if parsed.statements is None else \
        [s.sql(dialect) if s is not None else None for s in parsed.statements]
    assert got == _sqlglot(sql, dialect)
    assert [t.text for t in parsed.tokens] == [t.text for t in tokenize(sql, dialect)]


def test_a_reading_of_another_text_is_not_trusted():
    harmless = parse_sql("SELECT 1", "sqlite")
    verdict = check_read_only("DELETE FROM orders", "sqlite", parsed=harmless)
    assert not verdict.allowed and "DELETE" in verdict.reason
    # nor a reading of the same text in another dialect
    assert not check_read_only("DELETE FROM orders", "mysql",
                               parsed=parse_sql("DELETE FROM orders", "sqlite")).allowed


def test_the_checks_leave_the_shared_tree_as_it_was(db):
    sql = ("SELECT c.name, COUNT(o.id) AS order_count FROM customers c "
           "JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY order_count DESC")
    parsed = parse_sql(sql, db.dialect)
    before = parsed.statements[0].sql(db.dialect)
    assert validate_sql(sql, db.schema(), db.dialect, database=db, parsed=parsed).valid
    assert compile_check(db, sql, parsed=parsed).ok
    assert check_read_only(sql, db.dialect, parsed=parsed).allowed
    assert parsed.statements[0].sql(db.dialect) == before


def test_the_gate_needs_no_qualified_text_to_give_the_same_verdict(db):
    for sql in ("SELECT id FROM orders", "SELECT nope FROM orders", "SELECT id FROM nowhere"):
        full = validate_sql(sql, db.schema(), db.dialect, database=db)
        short = validate_sql(sql, db.schema(), db.dialect, database=db, qualify_columns=False)
        assert (short.valid, short.errors) == (full.valid, full.errors)
        assert short.qualified_sql is None


@pytest.mark.parametrize("written", [
    "select COUNT(*)  AS n\nfrom orders;", "SELECT COUNT(*) AS n FROM orders -- the count",
])
def test_the_executed_query_is_recognised_however_it_is_formatted(db, written):
    result = execute_query(db, "SELECT COUNT(*) AS n FROM orders")
    candidate = Candidate(stage="sql", input="How many orders?", text="",
                          output=SQLStageOutput(sql=written, columns=["n"], row_count=1),
                          state={STATE_SQL_RESULT: result})
    report = SQLQualityEvaluator(db).evaluate(candidate)
    assert report.details["checks"]["executed"] is True and report.score == 1.0
