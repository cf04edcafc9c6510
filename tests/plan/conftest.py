"""Plan stores to run the same tests on: memory, SQLite (a file) and PostgreSQL (the real
server; each test gets its own tables). An unreachable server skips, unless
STAGEAGENT_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("STAGEAGENT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("STAGEAGENT_REQUIRE_SERVICES") == "1"


async def _postgres_store():
    from stageagent.plan.postgres_store import PostgresPlanStore

    prefix = f"plan_t{uuid.uuid4().hex[:10]}"
    store = PostgresPlanStore(PG_URL, table_prefix=prefix)
    try:
        await store.plan_ids()
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL at {PG_URL} is required: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    return store, prefix


async def _drop(prefix: str) -> None:
    import psycopg

    from stageagent.plan.postgres_store import _psycopg_url

    async with await psycopg.AsyncConnection.connect(_psycopg_url(PG_URL),
                                                     autocommit=True) as conn:
        await conn.execute(f"DROP TABLE IF EXISTS {prefix}_records, {prefix}_leases")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def any_store(request, tmp_path):
    from stageagent.plan import MemoryPlanStore, SQLitePlanStore

    prefix = None
    if request.param == "memory":
        store = MemoryPlanStore()
    elif request.param == "sqlite":
        store = SQLitePlanStore(tmp_path / "plans.db")
    else:
        store, prefix = await _postgres_store()
    yield store
    await store.close()
    if prefix is not None:
        await _drop(prefix)


@pytest.fixture
async def pg_store_factory():
    """Several PostgreSQL store objects on the same tables (several executors)."""
    from stageagent.plan.postgres_store import PostgresPlanStore

    first, prefix = await _postgres_store()
    made = [first]

    def make():
        store = PostgresPlanStore(PG_URL, table_prefix=prefix)
        made.append(store)
        return store

    yield first, make
    for store in made:
        await store.close()
    await _drop(prefix)
