"""Runs a plan on a SQLite store until it is killed (the kill -9 resume test).

    python -m tests.plan.crash_worker STORE PLAN_JSON_PATH

STORE is a SQLite path, or `postgresql...URL#table_prefix`.

Steps with target "hang" never finish; everything else completes at once.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from stageagent.plan import ExecutionPlan, FunctionRunner, PlanExecutor, SQLitePlanStore


async def echo(value: object = None) -> object:
    return value


async def hang(key: str = "") -> None:
    await asyncio.Event().wait()


def open_store(spec: str):
    if spec.startswith("postgresql"):
        from stageagent.plan.postgres_store import PostgresPlanStore

        url, _, prefix = spec.partition("#")
        return PostgresPlanStore(url, table_prefix=prefix)
    return SQLitePlanStore(spec)


async def main(store: str, plan_path: str) -> None:
    plan = ExecutionPlan.from_json(Path(plan_path).read_text())
    executor = PlanExecutor(FunctionRunner({"echo": echo, "hang": hang}), open_store(store))
    await executor.run(plan).wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
