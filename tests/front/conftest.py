"""Fixtures for the front-door tests (notebooks, traces): the demo SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stageagent.tools.sql import Database

from stageagent.tools.demo_db import create_demo_database


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("front") / "demo.sqlite"
    create_demo_database(path)
    return str(path)


@pytest.fixture
def demo_db(demo_path: str) -> Iterator[Database]:
    db = Database(demo_path)
    try:
        yield db
    finally:
        db.close()
