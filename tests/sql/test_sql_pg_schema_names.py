"""A PostgreSQL schema is used by the name it was given: capitals, spaces, commas and
quotes in it are not folded or split when it becomes the connection's search_path."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from stageagent.tools.sql import Database, execute_query

# mixed case, a space, a comma and a double quote: each breaks an unquoted search_path
SCHEMA = 'Sales "Q1", EU' + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")
QUOTED = '"' + SCHEMA.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def awkward_schema(pg_url):
    writer = create_engine(pg_url)
    with writer.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {QUOTED} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {QUOTED}"))
        conn.execute(text(f"CREATE TABLE {QUOTED}.orders (id INTEGER PRIMARY KEY)"))
        conn.execute(text(f"INSERT INTO {QUOTED}.orders VALUES (1), (2), (3)"))
    yield SCHEMA
    with writer.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {QUOTED} CASCADE"))
    writer.dispose()


def test_queries_run_in_a_schema_named_with_capitals_spaces_and_commas(awkward_schema,
                                                                       pg_url):
    db = Database(pg_url, schema=awkward_schema, timeout=5.0)
    try:
        result = execute_query(db, "SELECT COUNT(*) AS n FROM orders")
        assert result.rows == [[3]]
        assert list(db.schema().tables) == ["orders"]
    finally:
        db.close()
