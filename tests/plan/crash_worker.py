"""Runs a plan on a SQLite store until it is killed (the kill -9 resume test).

    python -m tests.plan.crash_worker DB_PATH PLAN_JSON_PATH

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


async def main(db: str, plan_path: str) -> None:
    plan = ExecutionPlan.from_json(Path(plan_path).read_text())
    executor = PlanExecutor(FunctionRunner({"echo": echo, "hang": hang}), SQLitePlanStore(db))
    await executor.run(plan).wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
