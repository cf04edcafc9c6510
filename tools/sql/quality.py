"""`sql_quality`: the SQL stage's deterministic quality gate.

Checks, each worth a share of the score and each with a critique the model can act on:
the final SQL is a read-only query; it validates against the schema (when a database is
known); it was really executed (the executor's last result in `candidate.state` is for
this SQL), within the time budget; it returned rows when the question asks for rows; the
output's columns/row count match the result; and a question about revenue, totals,
counts or averages gets a numeric column.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot.errors import SqlglotError

from stageagent.quality import Candidate, QualityReport

from ..results import STATE_SQL_RESULT, QueryResult
from .guard import check_read_only
from .output import SQLStageOutput
from .parsed import ParsedSQL, parse_sql
from .validate import validate_sql

if TYPE_CHECKING:
    from .database import Database

_MEASURE_WORDS = re.compile(
    r"\b(revenue|sales|total|totals|sum|count|how many|number of|average|avg|mean|"
    r"median|share|percent|percentage|amount|profit|spend|spent|growth|rate)\b", re.I)
_ROW_WORDS = re.compile(r"\b(list|show|which|who|top|each|per|by|what|find|give)\b", re.I)
_SQL_BLOCK = re.compile(r"```(?:sql)?\s*(.+?)```", re.S | re.I)


def _normalise(sql: str, dialect: str, parsed: ParsedSQL | None = None) -> str:
    """The query as `parse_one` reads and regenerates it (lower case, no comments), so
    formatting does not matter; the text itself when it does not parse. `parsed`: a
    reading of `sql` in `dialect`, so it is not parsed again."""
    statements = parsed.statements if parsed is not None else None
    try:
        if statements is not None and len(statements) == 1 and statements[0] is not None:
            return statements[0].sql(dialect, comments=False).lower()
        if parsed is None or (statements and statements[0] is not None):  # several: a Block
            return sqlglot.parse_one(sql, read=dialect).sql(dialect, comments=False).lower()
    except SqlglotError:
        pass
    return " ".join(sql.lower().rstrip(";").split())  # what parse_one could not read


def _same_query(executed: str, sql: str, dialect: str, parsed: ParsedSQL) -> bool:
    """Whether the executed text is the final SQL, up to formatting."""
    if executed == sql:  # the usual case: the output quotes what the executor ran
        return True
    return _normalise(executed, dialect) == _normalise(sql, dialect, parsed)


def _candidate_sql(candidate: Candidate) -> tuple[str, SQLStageOutput | None]:
    out = candidate.output
    if isinstance(out, SQLStageOutput):
        return out.sql, out
    if isinstance(out, dict) and "sql" in out:
        parsed = SQLStageOutput.model_validate(out)
        return parsed.sql, parsed
    block = _SQL_BLOCK.search(candidate.text or "")
    return (block.group(1).strip() if block else ""), None


class SQLQualityEvaluator:
    """Deterministic evaluator for the SQL stage (`name = "sql_quality"`).

    Args:
        database: when given, the SQL is also validated against its (cached) schema.
        time_budget_ms: slowest acceptable execution.
    """

    name = "sql_quality"

    def __init__(self, database: "Database | None" = None, *, time_budget_ms: float = 5000.0,
                 weight: float = 1.0):
        self.database = database
        self.time_budget_ms = time_budget_ms
        self.weight = weight

    def evaluate(self, candidate: Candidate) -> QualityReport:
        sql, output = _candidate_sql(candidate)
        result = candidate.state.get(STATE_SQL_RESULT)
        result = result if isinstance(result, QueryResult) else None
        dialect = (self.database.dialect if self.database else None) or (
            result.dialect if result else "") or "sqlite"
        checks: dict[str, bool] = {}
        critiques: list[str] = []

        def check(name: str, ok: bool, critique: str) -> bool:
            checks[name] = ok
            if not ok:
                critiques.append(critique)
            return ok

        if not check("has_sql", bool(sql.strip()), "No final SQL: put the executed query in "
                     "the output's `sql` field."):
            return self._report(checks, critiques)
        parsed = parse_sql(sql, dialect)  # read once; the guard and the validator share it
        verdict = check_read_only(sql, dialect, parsed=parsed)
        check("read_only", verdict.allowed, f"The SQL is not an allowed query: {verdict.reason}")
        if self.database is not None and verdict.allowed:
            v = validate_sql(sql, self.database.schema(), dialect, database=self.database,
                             parsed=parsed, qualify_columns=False)
            check("qualifies", v.valid, f"The SQL does not match the schema: {v.summary()}")
        executed = result is not None and _same_query(result.sql, sql, dialect, parsed)
        check("executed", executed, "The final SQL was not run: execute exactly this query "
              "with sql_executor before answering." if result else
              "No query result: run the final SQL with sql_executor.")
        if executed and result is not None:
            check("within_budget", result.elapsed_ms <= self.time_budget_ms,
                  f"The query took {result.elapsed_ms:.0f} ms (budget "
                  f"{self.time_budget_ms:.0f} ms): aggregate or filter earlier.")
            if _ROW_WORDS.search(candidate.input) or _MEASURE_WORDS.search(candidate.input):
                check("non_empty", result.row_count > 0, "The query returned no rows, but the "
                      "question expects data: check filters (values, case, date ranges).")
            measure = _MEASURE_WORDS.search(candidate.input)
            if measure:
                numeric = [c.name for c in result.columns if c.kind in ("integer", "number")]
                check("measure_column", bool(numeric), "The question asks for a measure "
                      f"({measure.group(0)!r}) but the result "
                      "has no numeric column: add the aggregate (SUM/COUNT/AVG).")
            if output is not None:
                check("output_matches", output.columns == result.column_names
                      and output.row_count == result.row_count,
                      f"The output says columns {output.columns} / {output.row_count} rows; "
                      f"the result has {result.column_names} / {result.row_count} rows.")
        return self._report(checks, critiques)

    def _report(self, checks: dict[str, bool], critiques: list[str]) -> QualityReport:
        score = sum(checks.values()) / len(checks) if checks else 0.0
        # an unsafe or unexecuted query can never pass, however many other checks hold
        if not checks.get("read_only", True) or not checks.get("executed", True) \
                or not checks.get("has_sql", True):
            score = min(score, 0.4)
        details: dict[str, Any] = {"checks": checks}
        return QualityReport(score=round(score, 4), critiques=critiques, evaluator=self.name,
                             details=details)


sql_quality = SQLQualityEvaluator()
