"""Fixtures for the pipeline tests: the demo database on SQLite, PostgreSQL and MariaDB.

Server databases are loaded into their own schema/database `stageagent_pipeline` (the SQL
tool tests use `stageagent_demo`), once per session. An unreachable server skips its
tests, unless STAGEAGENT_REQUIRE_SERVICES=1 (CI), where it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from stageagent.tools.sql import Database

from stageagent.tools.demo_db import create_demo_database

PG_URL = os.environ.get("STAGEAGENT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("STAGEAGENT_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_SERVICES = os.environ.get("STAGEAGENT_REQUIRE_SERVICES") == "1"
SCHEMA = "stageagent_pipeline" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("pipeline") / "demo.sqlite"
    create_demo_database(path)
    return str(path)


def _server(url: str) -> None:
    """Load the demo data into SCHEMA, or skip/fail when the server is unreachable."""
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        message = f"{url} is not reachable: {type(exc).__name__}: {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (STAGEAGENT_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    create_demo_database(url, schema=SCHEMA)


_loaded: set[str] = set()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database(request: pytest.FixtureRequest, sqlite_path: str) -> Iterator[Database]:
    """A read-only `Database` on the demo data, for each backend."""
    if request.param == "sqlite":
        db = Database(sqlite_path)
    else:
        url = PG_URL if request.param == "postgresql" else MYSQL_URL
        if url not in _loaded:
            _server(url)
            _loaded.add(url)
        db = Database(url, schema=SCHEMA)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def sqlite_db(sqlite_path: str) -> Iterator[Database]:
    db = Database(sqlite_path)
    try:
        yield db
    finally:
        db.close()
