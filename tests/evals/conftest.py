"""Fixtures for the eval harness tests: bundled databases built into a temp cache dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stageagent.evals.dataset import Dataset, bundled, load_dataset
from stageagent.evals.resources import Resources


@pytest.fixture(scope="session")
def db_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("evaldbs")


@pytest.fixture
def resources(db_dir) -> Iterator[Resources]:
    res = Resources(cache_dir=db_dir)
    try:
        yield res
    finally:
        res.close()


@pytest.fixture(scope="session")
def sql_demo() -> Dataset:
    return load_dataset(bundled("sql_demo"))


@pytest.fixture(scope="session")
def sql_shop() -> Dataset:
    return load_dataset(bundled("sql_shop"))
