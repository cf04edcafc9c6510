"""Schema discovery and retrieval on a big PostgreSQL schema.

`python -m bench schema --json` builds the 200-table schema of bench/wide_schema.py in
PostgreSQL ($STAGEAGENT_PG_URL, schema `stageagent_wide_bench...`), plus one table of a
million rows, and reports: discovery time for all tables; the tokens of what the SQL stage
shows the model (the full-schema overview, each question's retrieval, the discovery of the
retrieved tables) against the 4,000-token ceiling; the recall of the tables each question
needs; and what a COUNT(*) of the big table (and of every table) costs - the work the
catalogue estimates save.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from sqlalchemy import create_engine

from bench.wide_schema import QUESTIONS, create_wide_schema
from stageagent.tools.sql import Database, describe_schema, relevant_tables, retrieve_schema
from stageagent.tools.sql.schema_budget import count_tokens

CEILING = 4000
BIG_ROWS = 1_000_000


def _big_table(url: str, schema: str) -> float:
    """Add `page_views_raw` with BIG_ROWS rows (analysed); returns COUNT(*) seconds."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE TABLE "{schema}".page_views_raw AS SELECT g AS id, '
                                 "mod(g, 97) AS session_id, now() AS viewed_at FROM "
                                 f"generate_series(1, {BIG_ROWS}) g")
            conn.exec_driver_sql(f'ANALYZE "{schema}".page_views_raw')
        with engine.connect() as conn:
            start = time.perf_counter()
            conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{schema}".page_views_raw').scalar()
            return time.perf_counter() - start
    finally:
        engine.dispose()


def count_star_all(url: str, schema: str, tables: list[str]) -> float:
    """Seconds for what discovery used to do: COUNT(*) on every table."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            start = time.perf_counter()
            for name in tables:
                conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{schema}"."{name}"').scalar()
            return time.perf_counter() - start
    finally:
        engine.dispose()


def measure(db: Database) -> dict[str, Any]:
    """Tokens and recall of the schema tools on `db` for every question of QUESTIONS."""
    schema = db.schema()
    retrieval_tokens, discovery_tokens, recalls = [], [], []
    for question, needed in QUESTIONS.items():
        chosen = relevant_tables(schema, question)
        retrieval_tokens.append(count_tokens(retrieve_schema(schema, question)))
        discovery_tokens.append(count_tokens(describe_schema(db, chosen)))
        recalls.append(len(needed & set(chosen)) / len(needed))
    return {
        "tables": len(schema.tables),
        "overview_tokens": count_tokens(describe_schema(db)),
        "retrieval_tokens_max": max(retrieval_tokens),
        "retrieval_tokens_median": statistics.median(retrieval_tokens),
        "discovery_of_retrieved_tokens_max": max(discovery_tokens),
        "token_ceiling": CEILING,
        "questions": len(QUESTIONS),
        "table_recall": round(statistics.mean(recalls), 4),
        "questions_with_all_tables": sum(r == 1.0 for r in recalls),
    }


def run(quick: bool = False) -> dict[str, Any]:
    url = os.environ.get("STAGEAGENT_PG_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = "stageagent_wide_bench" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")
    try:
        create_wide_schema(url, schema)
    except Exception as exc:  # noqa: BLE001 - no server, no figures
        return {"skipped": f"PostgreSQL not reachable: {type(exc).__name__}: {exc}"}
    count_s = None if quick else _big_table(url, schema)
    db = Database(url, schema=schema)
    try:
        start = time.perf_counter()
        schema_obj = db.schema()
        discovery_s = time.perf_counter() - start
        out = measure(db)
        big = schema_obj.table("page_views_raw")
        out.update({
            "discovery_s_all_tables": round(discovery_s, 3),
            "count_star_every_table_s": round(count_star_all(url, schema,
                                                              list(schema_obj.tables)), 3),
            "big_table_rows": big.row_count if big else None,
            "big_table_row_count_estimated": big.row_count_estimated if big else None,
            "big_table_count_star_s": round(count_s, 3) if count_s is not None else None,
        })
        return out
    finally:
        db.close()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
