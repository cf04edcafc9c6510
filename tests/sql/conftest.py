"""Fixtures for the SQL tool tests: the demo database on SQLite, PostgreSQL and MariaDB.

Each engine is loaded once per session. Server engines are skipped when unreachable,
unless STAGEAGENT_REQUIRE_SERVICES=1 (CI), where an unreachable server fails the run.
Alongside the demo tables each engine gets `stageagent_canary` (3 rows, the hostile-SQL
tests check it is untouched) and `empty_things` (no rows).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from stageagent.tools.demo_db import DEMO_TABLES, create_demo_database
from stageagent.function_tools import ToolContext
from stageagent.tools.deps import ReportDeps
from stageagent.tools.sql import Database

PG_URL = os.environ.get("STAGEAGENT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("STAGEAGENT_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE = os.environ.get("STAGEAGENT_REQUIRE_SERVICES") == "1"
# a suffix keeps parallel runs on one server apart (each developer sets its own)
DEMO_SCHEMA = "stageagent_demo" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")
ENGINES = ["sqlite", "postgresql", "mysql"]
CANARY_ROWS = 3


@dataclass
class DemoDB:
    """A loaded demo database: the read-only `Database` under test and a writer engine
    (independent of the code under test) for setup and tamper checks."""

    name: str
    database: Database
    writer: Engine
    table_prefix: str

    def counts(self) -> dict[str, int]:
        """Row counts of every table we own, read through the writer connection."""
        with self.writer.connect() as conn:
            return {t: conn.execute(text(f"SELECT COUNT(*) FROM {self.table_prefix}{t}")).scalar()
                    for t in (*DEMO_TABLES, "stageagent_canary", "empty_things")}


def _unavailable(name: str, exc: Exception) -> None:
    message = f"{name} is not reachable: {type(exc).__name__}: {exc}"
    if REQUIRE:
        pytest.fail(message + " (STAGEAGENT_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def _probe(name: str, url: str) -> None:
    """Skip (or fail, in CI) unless the server at `url` answers."""
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        _unavailable(name, exc)


def _extra_tables(writer: Engine, prefix: str) -> None:
    with writer.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {prefix}stageagent_canary"))
        conn.execute(text(f"DROP TABLE IF EXISTS {prefix}empty_things"))
        conn.execute(text(f"CREATE TABLE {prefix}stageagent_canary (id INTEGER PRIMARY KEY, "
                          "note VARCHAR(20))"))
        conn.execute(text(f"INSERT INTO {prefix}stageagent_canary VALUES (1, 'a'), (2, 'b'), "
                          "(3, 'c')"))
        conn.execute(text(f"CREATE TABLE {prefix}empty_things (id INTEGER PRIMARY KEY, "
                          "label VARCHAR(20), amount NUMERIC(10, 2))"))


def _load(name: str, tmp_dir) -> DemoDB:
    if name == "sqlite":
        path = tmp_dir / "demo.db"
        create_demo_database(path)
        writer = create_engine(f"sqlite:///{path}")
        _extra_tables(writer, "")
        return DemoDB(name, Database(path, timeout=2.0), writer, "")
    url = PG_URL if name == "postgresql" else MYSQL_URL
    _probe(name, url)
    create_demo_database(url, schema=DEMO_SCHEMA)
    if name == "postgresql":
        writer = create_engine(url)
        prefix = f'"{DEMO_SCHEMA}".'  # quoted: the suffix may hold capitals
        _extra_tables(writer, prefix)
        return DemoDB(name, Database(url, schema=DEMO_SCHEMA, timeout=2.0), writer, prefix)
    demo_url = make_url(url).set(database=DEMO_SCHEMA)
    writer = create_engine(demo_url)
    _extra_tables(writer, "")
    return DemoDB(name, Database(demo_url.render_as_string(hide_password=False), timeout=2.0),
                  writer, "")


@pytest.fixture(scope="session")
def _demo_cache(tmp_path_factory) -> Iterator[dict[str, DemoDB]]:
    cache: dict[str, DemoDB] = {}
    yield cache
    for demo in cache.values():
        demo.database.close()
        demo.writer.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def demo(request, _demo_cache, tmp_path_factory) -> DemoDB:
    """The demo database on each engine (parametrises every test that uses it)."""
    name = request.param
    if name not in _demo_cache:
        _demo_cache[name] = _load(name, tmp_path_factory.mktemp(name))
    return _demo_cache[name]


@pytest.fixture()
def db(demo: DemoDB) -> Database:
    return demo.database


@pytest.fixture()
def ctx(db: Database) -> ToolContext:
    return ToolContext(run_id="test", stage="sql", deps=ReportDeps(database=db))


@pytest.fixture()
def call():
    """Run a tool the way the runtime does (validated arguments, worker thread)."""
    import asyncio

    def run(tool, ctx: ToolContext, **arguments):
        return asyncio.run(tool.call(arguments, ctx))

    return run


@pytest.fixture()
def q(db: Database):
    """Quote an identifier for the engine under test (`"Unit Price"` / `` `Unit Price` ``)."""
    return lambda name: f"`{name}`" if db.dialect == "mysql" else f'"{name}"'


@pytest.fixture(scope="session")
def _media_cache() -> Iterator[dict[str, tuple[Database, Engine]]]:
    cache: dict[str, tuple[Database, Engine]] = {}
    yield cache
    for database, writer in cache.values():
        database.close()
        writer.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def schemas(request, _demo_cache, _media_cache, tmp_path_factory) -> dict[str, Database]:
    """The demo and the media (bench/media_db.py) schemas on each engine, by name."""
    from bench.media_db import open_media_database

    name = request.param
    if name not in _demo_cache:
        _demo_cache[name] = _load(name, tmp_path_factory.mktemp(name))
    if name not in _media_cache:
        url = {"postgresql": PG_URL, "mysql": MYSQL_URL}.get(name)
        _media_cache[name] = open_media_database(
            name, url, "stageagent_media" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", ""),
            tmp_path_factory.mktemp(name + "_media"))
    return {"demo": _demo_cache[name].database, "media": _media_cache[name][0]}


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL, once the server answered (skip or fail as for `demo`)."""
    _probe("postgresql", PG_URL)
    return PG_URL
