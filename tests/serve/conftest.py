"""Fixtures for the service tests: a real uvicorn server on 127.0.0.1, scripted models.

Every server plays the scripted pipeline turns of `tests/pipeline/scripts.py` on the demo
SQLite database, plus a `guarded` stage whose only tool needs approval - a run of it
waits, deterministically, until the test decides (that is how tests hold a run in flight
without sleeping).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from stageagent.tools.sql import Database

from stageagent.tools.demo_db import create_demo_database
from tests.pipeline.scripts import cli_script, expected_result

from .server import ServerThread

PG_URL = os.environ.get("STAGEAGENT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("STAGEAGENT_REQUIRE_SERVICES") == "1"
PG_SCHEMA = "stageagent_serve" + os.environ.get("STAGEAGENT_TEST_SCHEMA_SUFFIX", "")

GUARDED_STAGE = """
name = "guarded"
description = "Deletes a table, but only with a human's approval."
prompt_text = "You maintain the database. Task: {{ input }}"
tools = ["drop_table"]
max_iterations = 3
"""


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("serve-db") / "demo.sqlite"
    create_demo_database(path)
    return str(path)


@pytest.fixture(scope="session")
def expected(demo_db: str):
    db = Database(demo_db)
    try:
        return expected_result(db)
    finally:
        db.close()


@pytest.fixture(scope="session")
def serve_files(tmp_path_factory: pytest.TempPathFactory, expected) -> dict[str, str]:
    """The script file (pipeline + guarded stage) and the stage dir."""
    root = tmp_path_factory.mktemp("serve-files")
    stages = root / "stages"
    stages.mkdir()
    (stages / "guarded.toml").write_text(GUARDED_STAGE)
    script = cli_script(expected)
    script["guarded"] = [{"tool": "drop_table", "args": {"table": "orders"}},
                         "I asked to drop the orders table; see the tool result."]
    (root / "script.json").write_text(json.dumps(script))
    return {"script": str(root / "script.json"), "stages_dir": str(stages)}


@pytest.fixture
def settings(tmp_path: Path, demo_db: str, serve_files: dict[str, str]) -> dict:
    """Keyword arguments of `ServeConfig` for a test server (its own SQLite store)."""
    return {"databases": {"demo": demo_db}, "store": f"sqlite:///{tmp_path / 'runs.sqlite'}",
            "script": serve_files["script"], "stages_dir": serve_files["stages_dir"],
            "tools": ["tests.serve.guarded_tools:drop_table"], "keepalive_s": 0.2, "port": 0,
            "render_workers": 0}  # charts render in a thread; one test uses the process


@pytest.fixture
def server(settings: dict) -> Iterator[ServerThread]:
    with ServerThread(settings) as running:
        yield running
