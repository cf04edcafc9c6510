"""Durable state on every store: small append-only records written before they are
announced, a fold that gives the plan back, no lost update under concurrency, leases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading

import pytest

from stageagent.plan import (
    Lease,
    PlanExecutor,
    Record,
    SQLitePlanStore,
    load_state,
)
from stageagent.plan.store import HOST

from .helpers import Busy, Recorder, plan_of, step


async def test_a_plan_folds_back_from_its_records_on_every_store(any_store):
    rec = Recorder()
    plan = plan_of(step("a", params={"value": {"rows": [[1, "ü"]]}}),
                   step("b", "fail", "a"), step("c", "echo", "a"), on_error="continue")
    result = await PlanExecutor(rec.runner(), any_store).run(plan).wait()
    state = await load_state(any_store, plan.id)
    assert state.plan == plan and state.status == result.status == "partial"
    assert {k: v.status for k, v in state.steps.items()} == {
        k: v.status for k, v in result.steps.items()}
    assert state.steps["a"].output == {"rows": [[1, "ü"]]}
    assert "boom" in state.steps["b"].error
    assert plan.id in await any_store.plan_ids()


async def test_records_grow_linearly_with_transitions(any_store):
    for n in (3, 30):
        plan = plan_of(*(step(f"s{i}", params={"value": i}) for i in range(n)))
        await PlanExecutor(Recorder().runner(), any_store).run(plan).wait()
        records = await any_store.records(plan.id)
        # the plan, approved, executing, two per step, completed: never the whole plan again
        assert len(records) == 4 + 2 * n
        assert [r.kind for r in records].count("plan") == 1
        assert [r.seq for r in records] == sorted({r.seq for r in records})
        step_records = [r for r in records if r.kind == "step"]
        assert max(len(repr(r.data)) for r in step_records) < 200


async def test_every_transition_is_stored_before_it_is_announced(tmp_path):
    path = tmp_path / "plans.db"
    store = SQLitePlanStore(path)
    reader = sqlite3.connect(path)
    seen = []

    def check(event):
        if event.type in ("step_started", "step_completed", "step_failed", "step_skipped"):
            status = {"step_started": "running", "step_completed": "completed",
                      "step_failed": "failed", "step_skipped": "skipped"}[event.type]
            rows = reader.execute("SELECT data FROM plan_records WHERE step_id = ? AND "
                                  "data LIKE ?", (event.step_id, f'%"{status}"%')).fetchall()
            seen.append((event.step_id, status, len(rows) > 0))

    plan = plan_of(step("a", params={"value": 1}), step("b", "fail", "a"),
                   step("c", "echo", "b"), on_error="continue")
    await PlanExecutor(Recorder().runner(), store, on_event=check).run(plan).wait()
    assert len(seen) == 5 and all(stored for _, _, stored in seen), seen
    reader.close()
    await store.close()


async def test_concurrent_step_updates_lose_nothing(any_store):
    rec = Busy()
    plan = plan_of(*(step(f"s{i}", "busy", params={"tag": str(i)}) for i in range(150)),
                   max_parallel=150, max_steps=150)
    result = await PlanExecutor(rec.runner(), any_store).run(plan).wait()
    assert result.status == "completed" and rec.max_active > 1
    state = await load_state(any_store, plan.id)
    assert all(s.status == "completed" for s in state.steps.values())
    assert len(await any_store.records(plan.id)) == 4 + 2 * 150


def test_two_sqlite_writers_in_threads_lose_no_record(tmp_path):
    path = tmp_path / "plans.db"

    def writer(name):
        async def go():
            store = SQLitePlanStore(path)
            for i in range(100):
                await store.append(Record("p", "step", f"{name}{i}", {"status": "running"}))
            await store.close()
        asyncio.run(go())

    threads = [threading.Thread(target=writer, args=(n,)) for n in "xyz"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    async def count():
        store = SQLitePlanStore(path)
        records = await store.records("p")
        await store.close()
        return records

    records = asyncio.run(count())
    assert len(records) == 300 and len({r.seq for r in records}) == 300


def test_stores_opening_one_new_file_at_once_all_open(tmp_path):
    # switching a new file to WAL takes its exclusive lock, and SQLite refuses a second
    # connection at once (no busy wait) while the first does it: each store must retry
    for attempt in range(12):
        path = tmp_path / f"new-{attempt}.db"
        start = threading.Barrier(8)
        errors: list[BaseException] = []

        def open_one(i: int, path=path, start=start, errors=errors) -> None:
            start.wait()
            try:
                store = SQLitePlanStore(path)
                asyncio.run(store.append(Record("p", "step", f"s{i}", {})))
                asyncio.run(store.close())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=open_one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


async def test_postgres_writers_racing_lose_nothing_and_one_lease_wins(pg_store_factory):
    first, make = pg_store_factory
    stores = [first, make(), make()]

    async def write(store, name):
        for i in range(40):
            await store.append(Record("p", "step", f"{name}{i}", {"status": "running"}))

    await asyncio.gather(*(write(s, n) for s, n in zip(stores, "xyz")))
    records = await first.records("p")
    assert len(records) == 120 and len({r.seq for r in records}) == 120

    leases = [Lease("p", f"owner{i}", os.getpid(), HOST, 0.0) for i in range(3)]
    refused = await asyncio.gather(*(s.acquire_lease(l) for s, l in zip(stores, leases)))
    assert sum(r is None for r in refused) == 1  # exactly one executor holds the plan
    winner = refused.index(None)
    await stores[winner].release_lease(leases[winner])
    assert await stores[(winner + 1) % 3].acquire_lease(leases[(winner + 1) % 3]) is None


async def test_a_dead_owner_does_not_hold_a_plan(any_store):
    dead = Lease("p", "old", 2**22 + 12345, HOST, 0.0)
    assert await any_store.acquire_lease(dead) is None
    # the heartbeat is fresh but the pid is not alive on this host
    assert await any_store.acquire_lease(Lease("p", "new", os.getpid(), HOST, 0.0)) is None
    other_host = Lease("q", "remote", 1, "another-host", 0.0)
    assert await any_store.acquire_lease(other_host) is None
    held = await any_store.acquire_lease(Lease("q", "me", os.getpid(), HOST, 0.0))
    assert held is not None and held.owner == "remote"  # fresh heartbeat elsewhere: live
    assert await any_store.acquire_lease(Lease("q", "me", os.getpid(), HOST, 0.0),
                                         ttl=-1) is None  # ... until it is stale


async def test_resume_on_postgres_after_the_executor_went_away(pg_store_factory):
    first, make = pg_store_factory
    rec = Recorder()
    plan = plan_of(step("a", params={"value": 1}),
                   step("h", "hang", "a", params={"key": "h"}, idempotent=True))
    run = PlanExecutor(rec.runner(), first).run(plan)
    async for event in run:
        if event.type == "step_started" and event.step_id == "h":
            break
    run.start().cancel()
    with pytest.raises(asyncio.CancelledError):
        await run.wait()
    rec2 = Recorder()
    runner = rec2.runner()
    runner.tools["hang"] = lambda key: f"done {key}"  # the new process's "hang" returns
    result = await PlanExecutor(runner, make()).resume(plan.id).wait()
    assert result.status == "completed" and result.outputs["h"] == "done h"
    assert rec.calls == ["1"] and rec2.calls == []  # "a" did not run again
