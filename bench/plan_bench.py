"""Plan executor benchmark: `python -m bench plan [--json] [--quick]`.

* `overhead_ms`: wall time of 1,000 no-op steps (in-memory store) for a chain, a wide
  fan-out (one root, 999 children) and a random DAG (each step depends on up to 3 earlier
  ones) - everything the executor does per step: records, state, events, scheduling.
  Best of N runs; validation and plan construction are not timed (they happen before).
  `overhead_cpu_ms` is the same in CPU time of the thread: on a loaded machine, wall time
  also counts the time the process waited for a core.
* `sqlite_us_per_transition`: the fan-out on a SQLite file store, wall time per record.
* `critical_path_ratio`: a random DAG of sleeping steps; wall time / its critical path
  (the longest chain of sleeps). 1.0 would be a scheduler that costs nothing.
* `baseline`: the same machine without the executor - 1,000 bare asyncio tasks
  (`tasks_ms`) and the sleeping DAG as plain coroutines awaiting futures
  (`critical_path_ratio`): on a loaded machine, read the figures against these.
* `report_critical_path_ratio`: the report template plan on the facade with a model that
  takes a fixed time per call; wall time / its critical path (SQL step + the longer of the
  chart and document steps + the report step, as the executor's step events time them,
  stage set-up included). `report_sequential_ratio` is the sum of the steps over the same
  critical path: what running them one after another would cost.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from stageagent.plan import (
    ExecutionPlan,
    FunctionRunner,
    PlanExecutor,
    PlanOptions,
    SQLitePlanStore,
    Step,
)

N = 1000


async def _noop() -> None:
    return None


async def _nap(seconds: float) -> None:
    await asyncio.sleep(seconds)


def dag(shape: str, n: int = N, seed: int = 7) -> ExecutionPlan:
    rng = random.Random(seed)
    steps = []
    for i in range(n):
        if shape == "chain":
            deps = [f"s{i - 1}"] if i else []
        elif shape == "fanout":
            deps = ["s0"] if i else []
        else:
            deps = sorted({f"s{rng.randrange(i)}" for _ in range(rng.randint(0, 3))}) if i else []
        steps.append(Step(id=f"s{i}", target="noop", depends_on=deps))
    return ExecutionPlan(id=f"{shape}-{n}", steps=steps,
                         options=PlanOptions(max_parallel=n, max_steps=n))


async def overhead(shape: str, repeats: int, clock: Any = time.perf_counter) -> float:
    plan = dag(shape)
    runner = FunctionRunner({"noop": _noop})
    best = float("inf")
    for k in range(repeats):
        run = PlanExecutor(runner).run(plan.model_copy(update={"id": f"{shape}{k}"}))
        start = clock()
        result = await run.wait()
        best = min(best, clock() - start)
        assert result.status == "completed"
    return round(best * 1000, 2)


async def sqlite_per_transition(repeats: int) -> float:
    plan = dag("fanout")
    runner = FunctionRunner({"noop": _noop})
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLitePlanStore(Path(tmp) / "plans.db")
        for k in range(repeats):
            run = PlanExecutor(runner, store).run(plan.model_copy(update={"id": f"sq{k}"}))
            start = time.perf_counter()
            result = await run.wait()
            elapsed = time.perf_counter() - start
            records = len(await store.records(result.plan_id))
            best = min(best, elapsed / records)
        await store.close()
    return round(best * 1e6, 2)


async def sleeping(seed: int = 3, n: int = 60) -> float:
    rng = random.Random(seed)
    sleeps = {f"s{i}": rng.uniform(0.005, 0.03) for i in range(n)}
    steps = []
    for i in range(n):
        deps = sorted({f"s{rng.randrange(i)}" for _ in range(rng.randint(0, 2))}) if i else []
        steps.append(Step(id=f"s{i}", target="nap", depends_on=deps,
                          params={"seconds": sleeps[f"s{i}"]}))
    plan = ExecutionPlan(steps=steps, options=PlanOptions(max_parallel=n))
    finish: dict[str, float] = {}
    for step in steps:  # topological by construction
        finish[step.id] = sleeps[step.id] + max((finish[d] for d in step.depends_on), default=0)
    critical = max(finish.values())
    runner = FunctionRunner({"nap": _nap})
    start = time.perf_counter()
    result = await PlanExecutor(runner).run(plan).wait()
    wall = time.perf_counter() - start
    assert result.status == "completed"
    return round(wall / critical, 4)


async def bare_tasks(repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        await asyncio.gather(*(asyncio.ensure_future(_noop()) for _ in range(N)))
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


async def bare_sleeping(seed: int = 3, n: int = 60) -> float:
    """The sleeping DAG as bare coroutines: each awaits its dependencies' futures."""
    rng = random.Random(seed)
    sleeps = [rng.uniform(0.005, 0.03) for _ in range(n)]
    deps = [sorted({rng.randrange(i) for _ in range(rng.randint(0, 2))}) if i else []
            for i in range(n)]
    loop = asyncio.get_running_loop()
    done = [loop.create_future() for _ in range(n)]
    finish: list[float] = []
    for i in range(n):
        finish.append(sleeps[i] + max((finish[d] for d in deps[i]), default=0))

    async def node(i: int) -> None:
        for d in deps[i]:
            await done[d]
        await asyncio.sleep(sleeps[i])
        done[i].set_result(None)

    start = time.perf_counter()
    await asyncio.gather(*(node(i) for i in range(n)))
    return round((time.perf_counter() - start) / max(finish), 4)


async def report(seconds_per_call: float = 0.1) -> tuple[float, float]:
    from stageagent.tools.sql import Database

    from stageagent import FunctionModel
    from stageagent.tools.demo_db import create_demo_database
    from stageagent.facade import StageAwareFacade
    from tests.pipeline.scripts import QUESTION, expected_result, happy_model

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.sqlite"
        create_demo_database(path)
        with Database(path) as db:
            inner = happy_model(expected_result(db))._function  # the tests' scripted turns

            async def slow(request: Any) -> Any:
                await asyncio.sleep(seconds_per_call)
                return inner(request)

            facade = StageAwareFacade(database=db, model=FunctionModel(slow))
            run = facade.run(QUESTION)
            start = time.perf_counter()
            result = await run.collect()
            wall = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"benchmark report failed: {result.error}")
    spans: dict[str, list[float]] = {}
    for event in run.plan_events:  # each step's own duration, set-up included
        if event.type in ("step_started", "step_completed"):
            spans.setdefault(getattr(event, "step_id"), []).append(event.ts)
    took = {step: ts[-1] - ts[0] for step, ts in spans.items()}
    critical = took["sql"] + max(took["chart"], took["document"]) + took["report"]
    return round(wall / critical, 4), round(sum(took.values()) / critical, 4)


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 15

    async def main() -> dict[str, Any]:
        shapes = ("chain", "fanout", "random")
        figures: dict[str, Any] = {
            "overhead_ms": {shape: await overhead(shape, repeats) for shape in shapes},
            "overhead_cpu_ms": {shape: await overhead(shape, repeats, time.thread_time)
                                for shape in shapes}}
        figures["sqlite_us_per_transition"] = await sqlite_per_transition(max(2, repeats // 3))
        seeds = range(1 if quick else 5)
        figures["critical_path_ratio"] = statistics.median([await sleeping(s) for s in seeds])
        figures["report_critical_path_ratio"], figures["report_sequential_ratio"] = \
            await report(0.05 if quick else 0.1)
        figures["baseline"] = {
            "tasks_ms": await bare_tasks(repeats),
            "critical_path_ratio": statistics.median([await bare_sleeping(s) for s in seeds])}
        return figures

    return asyncio.run(main())
