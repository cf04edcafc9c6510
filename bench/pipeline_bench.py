"""Pipeline benchmark: the facade end to end (SQL -> chart -> document) on the SQLite demo db.

The model is the tests' scripted `PipelineModel` (a `FunctionModel`, no network); the time
spent inside it is measured and subtracted, so `pipeline_ms` is what the framework, the
tools and the database cost per report. `report_ms` is `write_report` (mostly the PNG
render). Run from the repository root: `python -m bench pipeline`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from stageagent.tools.sql import Database

from stageagent.tools.demo_db import create_demo_database
from stageagent.facade import StageAwareFacade
from stageagent.report import write_report
from tests.pipeline.scripts import QUESTION, expected_result, happy_model


class _Timed:
    """Wraps the scripted model's function and adds up the time spent in it."""

    def __init__(self, model: Any):
        self.model = model
        self.seconds = 0.0
        inner = model._function

        def timed(request: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(request)
            finally:
                self.seconds += time.perf_counter() - start

        model._function = timed


async def _one(db: Database, expected: Any, out: Path | None) -> tuple[float, float, float]:
    timed = _Timed(happy_model(expected))
    facade = StageAwareFacade(database=db, model=timed.model)
    start = time.perf_counter()
    result = await facade.report(QUESTION)
    total = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(f"benchmark run failed: {result.error}")
    report = 0.0
    if out is not None:
        start = time.perf_counter()
        write_report(result, out)
        report = time.perf_counter() - start
    return total * 1000, timed.seconds * 1000, report * 1000


def run(repeat: int = 15, quick: bool = False) -> dict[str, Any]:
    """Median ms per facade run (model time excluded) and per report write."""
    repeat = 3 if quick else repeat
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        create_demo_database(path)
        with Database(path) as db:
            expected = expected_result(db)

            async def all_runs() -> list[tuple[float, float, float]]:
                await _one(db, expected, None)  # warm-up: imports, schema cache, Vega runtime
                return [await _one(db, expected, Path(tmp) / f"out{i}") for i in range(repeat)]

            runs = asyncio.run(all_runs())
    return {
        "pipeline_ms": round(statistics.median(t - m for t, m, _ in runs), 2),
        "model_ms": round(statistics.median(m for _, m, _ in runs), 3),
        "report_ms": round(statistics.median(r for _, _, r in runs), 2),
        "runs": repeat,
    }


if __name__ == "__main__":
    print(json.dumps(run()))
