"""Verdict accuracy of the SQL validator and fixer on the labelled cases (bench/sql_cases.py).

`python -m bench verdicts --json` loads the demo and media schemas on SQLite and, when
reachable, PostgreSQL ($STAGEAGENT_PG_URL) and MariaDB/MySQL ($STAGEAGENT_MYSQL_URL), then
reports per engine: validator verdicts that match the hand label, and fixes that return
the reference query's rows (or, for a case with no faithful fix, are not reported valid).
The same functions back tests/sql/test_sql_verdicts.py, which asserts every case.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from bench.media_db import open_media_database
from bench.sql_cases import (BLIND_FIXES, BLIND_VERDICTS, FIXES, VERDICTS, FixCase,
                              VerdictCase, quoted)
from stageagent.tools.demo_db import create_demo_database
from stageagent.tools.sql import Database, auto_fix_sql, execute_query, validate_sql

_ZERO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\+00:00|\+00)?$")


def verdict(case: VerdictCase, db: Database) -> tuple[bool, str]:
    """(the validator's verdict, its summary) for `case` on `db`."""
    result = validate_sql(quoted(case.sql, db.backend), db.schema(), database=db)
    return result.valid, result.summary()


def normalise(value: Any) -> Any:
    """Values comparable across engines: numbers rounded, midnight timestamps as dates."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 4)
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, str):
        match = _ZERO_TIME.match(value)
        if match:
            return match.group(1)
        try:
            return round(float(value), 4)
        except ValueError:
            return value
    return value


def rows_of(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(normalise(v) for v in row) for row in execute_query(db, sql).rows]


def fix_outcome(case: FixCase, db: Database) -> tuple[bool, str]:
    """(the fix is right, why): the reference's rows, or not `valid` when unfixable."""
    sql = quoted(case.sql, db.backend)
    fixed = auto_fix_sql(sql, db.schema(), database=db)
    reference = case.reference_for(db.backend)
    if reference is None:
        return not fixed.valid, f"valid={fixed.valid}: {fixed.sql}"
    if not fixed.valid:
        return False, "not valid: " + "; ".join(e.message for e in fixed.remaining)
    want, got = rows_of(db, quoted(reference, db.backend)), rows_of(db, fixed.sql)
    return want == got, f"{fixed.sql} -> {got[:3]} (want {want[:3]})"


def open_databases(backend: str, url: str | None, suffix: str,
                   tmp: Path) -> dict[str, Database]:
    """The demo and media schemas on one engine, read-only."""
    demo_name, media_name = f"stageagent_demo{suffix}", f"stageagent_media{suffix}"
    if backend == "sqlite":
        path = tmp / f"{demo_name}.db"
        create_demo_database(path)
        demo = Database(path)
    elif backend == "postgresql" and url:
        create_demo_database(url, schema=demo_name)
        demo = Database(url, schema=demo_name)
    else:
        from sqlalchemy.engine import make_url

        assert url
        create_demo_database(url, schema=demo_name)
        demo = Database(make_url(url).set(database=demo_name).render_as_string(
            hide_password=False))
    media, writer = open_media_database(backend, url, media_name, tmp)
    writer.dispose()
    return {"demo": demo, "media": media}


def _reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not measured here"
        return False


def _right(cases: list[VerdictCase], backend: str, dbs: dict[str, Database]) -> list[str]:
    return [c.id for c in cases if verdict(c, dbs[c.schema])[0] == (backend in c.valid_on)]


def _score(backend: str, dbs: dict[str, Database]) -> dict[str, Any]:
    verdicts = [c for c in VERDICTS + BLIND_VERDICTS if backend in c.engines]
    right_v = _right(verdicts, backend, dbs)
    fixes = [c for c in FIXES + BLIND_FIXES if backend in c.broken_on]
    right_f = [c.id for c in fixes if fix_outcome(c, dbs[c.schema])[0]]
    return {
        "verdict_cases": len(verdicts), "verdicts_correct": len(right_v),
        "verdict_accuracy": round(len(right_v) / len(verdicts), 4),
        "verdict_misses": sorted({c.id for c in verdicts} - set(right_v)),
        "fix_cases": len(fixes), "fixes_correct": len(right_f),
        "fix_accuracy": round(len(right_f) / len(fixes), 4) if fixes else None,
        "fix_misses": sorted({c.id for c in fixes} - set(right_f)),
    }


def run() -> dict[str, Any]:
    """Accuracy per engine and over all engines measured."""
    suffix = "_bench" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")
    urls = {"sqlite": None, "postgresql": os.environ.get("STAGEAGENT_PG_URL"),
            "mysql": os.environ.get("STAGEAGENT_MYSQL_URL")}
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend, url in urls.items():
            if backend != "sqlite" and (not url or not _reachable(url)):
                out[backend] = "not reachable"
                continue
            dbs = open_databases(backend, url, suffix, Path(tmp))
            try:
                out[backend] = _score(backend, dbs)
            finally:
                for db in dbs.values():
                    db.close()
    measured = [v for v in out.values() if isinstance(v, dict)]
    total_v = sum(v["verdict_cases"] for v in measured)
    total_f = sum(v["fix_cases"] for v in measured)
    out["overall"] = {
        "verdict_accuracy": round(sum(v["verdicts_correct"] for v in measured) / total_v, 4),
        "fix_accuracy": round(sum(v["fixes_correct"] for v in measured) / total_f, 4),
        "verdict_cases": total_v, "fix_cases": total_f,
    }
    return out
