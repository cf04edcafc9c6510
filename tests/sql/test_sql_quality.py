"""`sql_quality` on candidates built from real executions."""

from __future__ import annotations

import pytest

from stageagent.quality import Candidate, evaluate_all
from stageagent.tools.results import STATE_SQL_RESULT
from stageagent.tools.sql import SQLQualityEvaluator, SQLStageOutput, execute_query, sql_quality

REVENUE = ("SELECT p.category, SUM(oi.quantity * oi.unit_price) AS revenue FROM order_items oi "
           "JOIN products p ON p.id = oi.product_id GROUP BY p.category ORDER BY revenue DESC")


def _candidate(db, question: str, sql: str, *, executed_sql: str | None = None,
               output: SQLStageOutput | None = None) -> Candidate:
    result = execute_query(db, executed_sql or sql)
    output = output or SQLStageOutput(sql=sql, columns=result.column_names,
                                      row_count=result.row_count)
    return Candidate(stage="sql", input=question, text="", output=output,
                     state={STATE_SQL_RESULT: result})


def test_good_answer_passes_every_check(db):
    report = SQLQualityEvaluator(db).evaluate(
        _candidate(db, "What is the revenue per product category?", REVENUE))
    assert report.score == 1.0 and report.critiques == []
    assert report.details["checks"]["qualifies"] and report.evaluator == "sql_quality"


def test_missing_measure_column_is_criticised(db):
    report = sql_quality.evaluate(_candidate(
        db, "What is the total revenue per category?", "SELECT DISTINCT category FROM products"))
    assert report.score < 1.0
    assert any("numeric column" in c for c in report.critiques)


def test_empty_result_for_a_question_expecting_rows(db):
    report = sql_quality.evaluate(_candidate(
        db, "List the customers from Atlantis", "SELECT name FROM customers WHERE country = "
                                                 "'Atlantis'"))
    assert report.details["checks"]["non_empty"] is False
    assert any("no rows" in c for c in report.critiques)


def test_sql_not_the_one_executed_cannot_pass(db):
    candidate = _candidate(db, "revenue per category", REVENUE,
                           executed_sql="SELECT COUNT(*) FROM orders")
    report = sql_quality.evaluate(candidate)
    assert report.score <= 0.4 and any("sql_executor" in c for c in report.critiques)


def test_unsafe_or_missing_sql(db):
    candidate = _candidate(db, "revenue", "SELECT 1")
    candidate.output = SQLStageOutput(sql="DELETE FROM orders", columns=[], row_count=0)
    report = sql_quality.evaluate(candidate)
    assert report.score <= 0.4 and any("not an allowed query" in c for c in report.critiques)
    empty = Candidate(stage="sql", input="x", text="no sql here")
    assert sql_quality.evaluate(empty).score == 0.0


def test_output_that_misreports_the_result(db):
    output = SQLStageOutput(sql=REVENUE, columns=["category"], row_count=999)
    report = sql_quality.evaluate(_candidate(db, "revenue per category", REVENUE, output=output))
    assert report.details["checks"]["output_matches"] is False


def test_unknown_column_fails_qualification_with_a_database(db):
    candidate = _candidate(db, "count of orders", "SELECT COUNT(*) AS n FROM orders")
    candidate.output = SQLStageOutput(sql="SELECT COUNT(nope) AS n FROM orders")
    report = SQLQualityEvaluator(db).evaluate(candidate)
    assert report.details["checks"]["qualifies"] is False
    assert any("nope" in c for c in report.critiques)


@pytest.mark.asyncio
async def test_works_inside_evaluate_all(db):
    report = await evaluate_all([sql_quality], _candidate(db, "revenue per category", REVENUE))
    assert report.score == 1.0
