"""Big databases: catalogue row estimates, and schema text within the token ceiling.

The 200-table schema (bench/wide_schema.py) lives in PostgreSQL; what the schema tools
return for each question must stay under 4,000 tokens and still hold the tables the
question needs. The figures (tokens, recall, timings) are `python -m bench schema --json`.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from bench.wide_schema import QUESTIONS, create_wide_schema
from stageagent.function_tools import ToolContext
from stageagent.tools.deps import ReportDeps
from stageagent.tools.sql import Database, relevant_tables, schema_discovery, schema_retrieval
from stageagent.tools.sql.rowcounts import row_counts
from stageagent.tools.sql.schema_budget import count_tokens, fit_schema

CEILING = 4000
WIDE = "stageagent_wide" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")


@pytest.fixture(scope="module")
def wide_db(pg_url):
    create_wide_schema(pg_url, WIDE)
    db = Database(pg_url, schema=WIDE)
    yield db
    db.close()
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{WIDE}" CASCADE')
    engine.dispose()


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_schema_tools_stay_under_the_ceiling_and_keep_the_needed_tables(wide_db, call,
                                                                          question):
    ctx = ToolContext(run_id="t", stage="sql", deps=ReportDeps(database=wide_db))
    assert len(wide_db.schema().tables) == 200
    retrieved = call(schema_retrieval, ctx, question=question)
    assert count_tokens(retrieved) < CEILING
    for table in QUESTIONS[question]:
        assert f"TABLE {table}" in retrieved, (table, retrieved[:400])
    chosen = relevant_tables(wide_db.schema(), question)
    detail = call(schema_discovery, ctx, tables=chosen)
    assert count_tokens(detail) < CEILING and all(f"TABLE {t}" in detail for t in chosen)


def test_full_discovery_of_200_tables_is_an_overview_within_the_ceiling(wide_db, call):
    ctx = ToolContext(run_id="t", stage="sql", deps=ReportDeps(database=wide_db))
    overview = call(schema_discovery, ctx)
    assert count_tokens(overview) < CEILING
    assert "200 table(s)" in overview and "schema_retrieval" in overview
    assert all(f"- {name} (" in overview for name in wide_db.schema().tables)
    everything = call(schema_discovery, ctx, tables=list(wide_db.schema().tables))
    assert count_tokens(everything) < CEILING and "more table(s) not shown" not in everything


def test_fit_schema_degrades_until_it_fits(wide_db):
    schema = wide_db.schema()
    names = list(schema.tables)
    full = schema.render(names)
    assert count_tokens(full) > 6 * CEILING  # the problem being solved
    for budget in (3500, 1200, 300):
        text_ = fit_schema(schema, names, "header", budget)
        assert count_tokens(text_) <= budget
    assert "more table(s) not shown" in fit_schema(schema, names, "header", 300)


def _counts(demo, tables: list[str], limit: int) -> dict[str, tuple[int | None, bool]]:
    conn = demo.database.connect()
    try:
        return row_counts(conn, demo.database.backend, demo.database.schema_name, tables,
                          limit=limit)
    finally:
        conn.close()


@pytest.mark.parametrize("demo", ["postgresql", "mysql"], indirect=True)
def test_row_counts_use_catalogue_estimates_for_big_tables(demo):
    backend = demo.name
    prefix = demo.table_prefix
    with demo.writer.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {prefix}many_rows"))
        conn.execute(text(f"CREATE TABLE {prefix}many_rows (id INTEGER PRIMARY KEY)"))
        conn.execute(text(f"INSERT INTO {prefix}many_rows VALUES " +
                          ", ".join(f"({i})" for i in range(1, 2001))))
        conn.execute(text(f"ANALYZE {prefix}many_rows" if backend == "postgresql"
                          else "ANALYZE TABLE many_rows"))
    try:
        counts = _counts(demo, ["many_rows", "departments"], limit=1000)
        estimate, estimated = counts["many_rows"]
        assert estimated and 1500 <= estimate <= 2500  # the catalogue's figure, not COUNT(*)
        assert counts["departments"] == (8, False)     # small: exact
    finally:
        with demo.writer.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {prefix}many_rows"))


def test_unanalysed_big_table_gets_a_bounded_count(demo):
    """No estimate (SQLite, or never analysed): count at most limit + 1 rows."""
    counts = _counts(demo, ["orders", "departments"], limit=100)
    rows, estimated = counts["orders"]
    assert estimated and rows >= 101   # 3,000 rows: more than the bound, marked inexact
    assert counts["departments"] == (8, False)
    assert "(~" not in demo.database.schema().render(["departments"])
