"""The read-only executor: guard first, then a read-only transaction with a time limit.

Two independent defences: the guard (`guard.py`) lets through only one side-effect-free
query, and the database itself is asked to refuse writes (the connection is read-only for
life, see `Database`, and each query runs in an explicit READ ONLY transaction that is
always rolled back). What runs is the SQL sqlglot parsed and regenerated - without
comments, so a MySQL `/*! ... */` cannot smuggle code past the parser - with an outer
`LIMIT limit+1`, and only `limit+1` rows are ever fetched: a 10-million-row query costs
what a 1001-row one does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sqlglot import exp
from sqlglot.tokens import Token

from stageagent.exceptions import ToolError
from stageagent.function_tools import ToolContext, tool

from ..results import STATE_SQL_RESULT, ColumnInfo, ColumnKind, QueryResult
from .database import DatabaseError, QueryError, QueryTimeoutError, translate_error
from .functions import function_calls
from .guard import UnsafeQueryError, ensure_read_only
from .parsed import parse_sql
from .schema import database_from

if TYPE_CHECKING:
    from .database import Database

#: rows of the result echoed back to the model (the full result stays in ctx.state)
PREVIEW_ROWS = 20
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def json_safe(value: Any) -> Any:
    """A value JSON can carry: decimals as floats, dates as ISO text, bytes as hex."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def kind_of_type(db_type: str) -> ColumnKind:
    """A portable column kind from a database type name (`int8`, `NEWDECIMAL`, ...)."""
    t = db_type.lower()
    if not t:
        return "other"
    if t.startswith("bool"):
        return "boolean"
    if any(k in t for k in ("int", "serial", "long", "short", "tiny", "year")):
        return "integer"
    if any(k in t for k in ("numeric", "decimal", "float", "double", "real", "money")):
        return "number"
    if "timestamp" in t or "datetime" in t:
        return "datetime"
    if t.startswith("date"):
        return "date"
    if t.startswith("time") or t == "interval":
        return "time"
    if any(k in t for k in ("char", "text", "string", "json", "enum", "uuid", "name")):
        return "string"
    return "other"


def kind_of_values(values: list[Any]) -> ColumnKind:
    """The kind the (raw, non-null) values show - for SQLite, which reports no types."""
    sample = [v for v in values if v is not None][:50]
    if not sample:
        return "other"
    if all(isinstance(v, bool) for v in sample):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in sample):
        return "integer"
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in sample):
        return "number"
    if all(isinstance(v, dt.datetime) for v in sample):
        return "datetime"
    if all(isinstance(v, dt.date) for v in sample):
        return "date"
    if all(isinstance(v, str) for v in sample):
        if all(_ISO_DATE.match(v) for v in sample):
            return "date"
        if all(_ISO_DATETIME.match(v) for v in sample):
            return "datetime"
        return "string"
    return "other"


def _type_name(db: "Database", raw: Any, type_code: Any) -> str:
    if type_code is None:
        return ""
    if db.backend == "postgresql":
        info = raw.dbapi_connection.adapters.types.get(type_code)
        return info.name if info is not None else str(type_code)
    if db.backend == "mysql":
        from pymysql.constants import FIELD_TYPE  # type: ignore[import-untyped]

        names = {v: k for k, v in vars(FIELD_TYPE).items() if k.isupper()}
        return names.get(type_code, str(type_code))
    return str(type_code)


def with_row_limit(tree: exp.Expression, limit: int) -> exp.Expression:
    """A copy of `tree` with an outer LIMIT of at most `limit` (an existing smaller one is
    kept); `tree` itself is left as it is."""
    tree = tree.copy()
    current = tree.args.get("limit")
    if current is not None:
        value = current.expression if isinstance(current, exp.Limit) else current
        if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= limit:
            return tree
        if not (isinstance(value, exp.Literal) and value.is_int) and isinstance(tree, exp.Query):
            return exp.select("*").from_(tree.subquery("_limited")).limit(limit)
    tree.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return tree


def begin_read_only(db: "Database", raw: Any, cursor: Any, timeout: float) -> None:
    """Open an explicit READ ONLY transaction with the statement timeout."""
    if db.backend == "postgresql":
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
    elif db.backend == "mysql":
        if db.is_mariadb:
            cursor.execute(f"SET SESSION max_statement_time = {max(0.001, timeout):.3f}")
        else:
            cursor.execute(f"SET SESSION max_execution_time = {max(1, int(timeout * 1000))}")
        cursor.execute("START TRANSACTION READ ONLY")
    else:
        deadline = time.monotonic() + timeout
        raw.dbapi_connection.set_progress_handler(
            lambda: 1 if time.monotonic() > deadline else 0, 2000)


@contextmanager
def read_only_cursor(db: "Database", timeout: float) -> Iterator[tuple[Any, Any]]:
    """(raw connection, cursor) inside a READ ONLY transaction with the statement timeout;
    always rolled back and closed. Driver errors of the statement propagate as they are."""
    try:
        raw = db.engine.raw_connection()
    except Exception as exc:  # noqa: BLE001 - driver/pool errors become typed errors
        raise translate_error(exc, db.url, connecting=True) from exc
    try:
        cursor = raw.cursor()
        try:
            begin_read_only(db, raw, cursor, timeout)
            yield raw, cursor
        finally:
            cursor.close()
    finally:
        try:
            raw.rollback()
        finally:
            if db.backend == "sqlite" and raw.dbapi_connection is not None:
                raw.dbapi_connection.set_progress_handler(None, 0)
            raw.close()


def run_read_only(db: "Database", sql: str, *, limit: int, timeout: float
                  ) -> tuple[list[ColumnInfo], list[list[Any]], bool, float]:
    """Run `sql` as-is in a read-only transaction: (columns, rows, truncated, elapsed ms).

    No guard here - this is the second line of defence on its own, and the unit the
    tests use to prove the database refuses writes. Call `execute_query` instead.
    """
    dbapi_error = db.engine.dialect.loaded_dbapi.Error
    try:
        with read_only_cursor(db, timeout) as (raw, cursor):
            start = time.perf_counter()
            cursor.execute(sql)
            fetched = cursor.fetchmany(limit + 1) if cursor.description else []
            elapsed = (time.perf_counter() - start) * 1000
            description = [(d[0], _type_name(db, raw, d[1]))
                           for d in cursor.description or []]
    except dbapi_error as exc:
        raise translate_error(exc, db.url) from exc
    truncated = len(fetched) > limit
    raw_rows = [list(r) for r in fetched[:limit]]
    columns = []
    for index, (name, db_type) in enumerate(description):
        kind = kind_of_type(db_type)
        if kind in ("other", "string") or db.backend == "sqlite":
            by_values = kind_of_values([r[index] for r in raw_rows])
            kind = by_values if by_values != "other" else kind
        columns.append(ColumnInfo(name=name, kind=kind, db_type=db_type))
    rows = [[json_safe(v) for v in r] for r in raw_rows]
    return columns, rows, truncated, elapsed


def refuse_missing_functions(db: "Database", sql: str, tree: exp.Expression,
                             tokens: Sequence[Token] | None = None) -> None:
    """QueryError for a call the engine lacks, as the engine would refuse it.

    What runs is sqlglot's regeneration of the query, which would quietly turn
    `TO_CHAR(d, 'YYYY-MM')` into `CAST(d AS TEXT)` on SQLite: the query the model wrote
    must fail as it would on the engine, not return other rows. Only where the catalogue
    is complete (SQLite, PostgreSQL); MySQL's own error comes from the engine.
    """
    if db.backend not in ("sqlite", "postgresql"):
        return
    available = db.functions()
    if available is None:
        return
    missing = [c for c in function_calls(sql, db.dialect, tree, tokens=tokens)
               if c.name not in available]
    if missing:
        call = missing[0]
        raise QueryError(f"no such function: {call.written}() (line {call.line}, column "
                         f"{call.col}); sql_auto_fixer rewrites other dialects' functions",
                         url=db.url)


def execute_query(db: "Database", sql: str, *, limit: int | None = None,
                  timeout: float | None = None) -> QueryResult:
    """Guard, limit and run one read-only query; raises UnsafeQueryError / DatabaseError."""
    limit = db.row_limit if limit is None else max(0, min(int(limit), db.row_limit))
    timeout = db.timeout if timeout is None else float(timeout)
    parsed = parse_sql(sql, db.dialect)
    tree = ensure_read_only(sql, db.dialect, parsed=parsed)
    refuse_missing_functions(db, sql, tree, parsed.tokens)
    # with_row_limit returns a tree of its own: generating from it needs no second copy
    executable = with_row_limit(tree, limit + 1).sql(db.dialect, comments=False, copy=False)
    columns, rows, truncated, elapsed = run_read_only(db, executable, limit=limit,
                                                      timeout=timeout)
    return QueryResult(sql=sql.strip().rstrip(";").strip(), dialect=db.dialect,
                       columns=columns, rows=rows, row_count=len(rows), truncated=truncated,
                       elapsed_ms=round(elapsed, 3))


@tool(read_only=True, parallel_safe=False)  # writes ctx.state
def sql_executor(ctx: ToolContext, sql: str, limit: int = 200) -> dict:
    """Run one read-only SELECT and return its columns and first rows.

    Only a single SELECT / WITH ... SELECT / UNION is accepted; anything else is refused
    with the reason. The full result (up to `limit` rows) is kept for the next stages.

    Args:
        sql: the SELECT query, in the database's dialect.
        limit: the most rows to return (capped by the database's row limit).
    """
    if limit < 1:
        raise ToolError("limit must be at least 1")
    db = database_from(ctx)
    try:
        result = execute_query(db, sql, limit=limit)
    except UnsafeQueryError as exc:
        raise ToolError(f"query refused: {exc.reason}") from exc
    except QueryTimeoutError as exc:
        raise ToolError(f"query cancelled after {db.timeout:g}s (statement timeout): filter, "
                        f"aggregate or LIMIT it. ({exc.message})") from exc
    except DatabaseError as exc:
        raise ToolError(f"the database rejected the query: {exc.message}. Check names with "
                        "sql_validator or schema_retrieval.") from exc
    ctx.state[STATE_SQL_RESULT] = result
    return {
        "sql": result.sql,
        "columns": [{"name": c.name, "kind": c.kind} for c in result.columns],
        "row_count": result.row_count,
        "truncated": result.truncated,
        "rows": result.rows[:PREVIEW_ROWS],
        "rows_shown": min(PREVIEW_ROWS, result.row_count),
        # no timing here: observations stay deterministic, so recorded runs replay
    }
