"""Share an evaluation's cases among forked worker processes.

One event loop runs on one core, and replaying an eval is CPU-bound (sqlglot validation in
the SQL stage's gate and in the evaluators, the runtime itself). `run_in_processes` forks
N workers (fork, so models built in the parent - even `FunctionModel`s - come along), each
runs its share of the jobs on its own loop with fresh database connections, and streams
each finished `CaseResult` back as JSON: an interrupted run keeps every case that reached
the parent, and a worker that dies leaves the report partial instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue as queue_module
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import EvalError
from .report import CaseResult

if TYPE_CHECKING:
    from .dataset import Case
    from .runner import Evaluation

_DONE = None
_POLL_S = 0.2


def _worker(evaluation: "Evaluation", jobs: list[tuple["Case", int]], out: Any) -> None:
    evaluation.resources.after_fork()
    try:
        asyncio.run(evaluation.run_jobs(jobs, lambda r: out.put(r.model_dump_json())))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        out.put(json.dumps({"worker_error": f"{type(exc).__name__}: {exc}"}))
    finally:
        evaluation.resources.close()
        out.put(_DONE)


def _get(out: Any) -> Any:
    try:
        return out.get(timeout=_POLL_S)
    except queue_module.Empty:
        return Ellipsis


async def run_in_processes(evaluation: "Evaluation", jobs: list[tuple["Case", int]],
                           workers: int, finished: Callable[[CaseResult], None]) -> None:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    shards = [jobs[i::workers] for i in range(workers) if jobs[i::workers]]
    processes = [context.Process(target=_worker, args=(evaluation, shard, out), daemon=True)
                 for shard in shards]
    for process in processes:
        process.start()
    loop = asyncio.get_running_loop()
    running = len(processes)
    try:
        while running:
            item = await loop.run_in_executor(None, _get, out)
            if item is Ellipsis:
                if not any(p.is_alive() for p in processes) and out.empty():
                    raise EvalError("a worker process died before finishing its cases")
                continue
            if item is _DONE:
                running -= 1
                continue
            data = json.loads(item)
            if "worker_error" in data:
                raise EvalError(f"a worker process failed: {data['worker_error']}")
            finished(CaseResult.model_validate(data))
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
        out.close()
