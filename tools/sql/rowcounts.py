"""Row counts that stay cheap on big databases: catalogue estimates, exact only when small.

`COUNT(*)` on every table reads every row - seconds on a table of millions. PostgreSQL
(`pg_class.reltuples`) and MySQL/MariaDB (`information_schema.tables.table_rows`) keep an
estimate in their catalogue, read for all tables in one query. A table whose estimate is
above `EXACT_COUNT_LIMIT` keeps the estimate (marked as such); the others, and every
table whose estimate is unknown (never analysed, SQLite), get a *bounded* count that stops
after `EXACT_COUNT_LIMIT + 1` rows - exact when small, never a full scan of a big table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

EXACT_COUNT_LIMIT = 100_000

_PG_ESTIMATES = """
SELECT c.relname, c.reltuples::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = COALESCE(%(schema)s, current_schema()) AND c.relkind IN ('r', 'p', 'm')
"""
_MYSQL_ESTIMATES = """
SELECT table_name, table_rows FROM information_schema.tables
WHERE table_schema = COALESCE(%(schema)s, DATABASE())
"""


def catalogue_estimates(conn: Any, backend: str, schema: str | None) -> dict[str, int]:
    """table -> the engine's own row estimate (tables it has no estimate for are left out)."""
    query = {"postgresql": _PG_ESTIMATES, "mysql": _MYSQL_ESTIMATES}.get(backend)
    if query is None:
        return {}
    try:
        rows = conn.exec_driver_sql(query, {"schema": schema}).fetchall()
    except DBAPIError:
        conn.rollback()
        return {}
    # PostgreSQL >= 14 says -1 for a table never vacuumed or analysed: unknown, not empty
    return {str(name): int(n) for name, n in rows if n is not None and int(n) >= 0}


def bounded_count(conn: Any, qualified: str, limit: int = EXACT_COUNT_LIMIT) -> int:
    """COUNT(*) that reads at most `limit + 1` rows."""
    return int(conn.exec_driver_sql(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {qualified} LIMIT {limit + 1}) AS bounded"
    ).scalar() or 0)


def row_counts(conn: Any, backend: str, schema: str | None, tables: list[str],
               limit: int = EXACT_COUNT_LIMIT) -> dict[str, tuple[int | None, bool]]:
    """table -> (row count, is_estimate) for every table, cheaply."""
    preparer = conn.dialect.identifier_preparer
    estimates = catalogue_estimates(conn, backend, schema)
    out: dict[str, tuple[int | None, bool]] = {}
    for name in tables:
        estimate = estimates.get(name)
        if estimate is not None and estimate > limit:
            out[name] = (estimate, True)
            continue
        qualified = preparer.quote(name)
        if schema:
            qualified = f"{preparer.quote_schema(schema)}.{qualified}"
        exact = bounded_count(conn, qualified, limit)
        # past the bound: the estimate if there is one, else "at least limit + 1"
        out[name] = (exact, False) if exact <= limit else (max(estimate or 0, exact), True)
    return out
