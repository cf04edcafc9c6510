"""Eval harness throughput: cases per second replaying recorded SQL-stage cases.

Records the bundled SQL datasets (demo + bookshop, 66 cases) with an oracle model that is
right on two cases in three, repeated to ~1,000 cases (one cassette each), then replays
them all through `Evaluation` - the runtime, the real SQL tools on SQLite and the default
SQL evaluators (valid, executes, three execution accuracies, schema linking). What is
timed is the replay - what a user waits for when rerunning an eval offline - on two
worker processes (`workers=2`, the machine's two cores).

The harness keeps each query's rows, validation and schema linking by (database, SQL) for
the run, so the 14 repeats after a case's first reuse its evaluators' work (the SQL stage
itself, gate included, runs in full every time). `no_reuse_*` replays once more with
those results kept for one case only: what 990 different cases would cost.

`--instructions` counts what one replayed case executes instead (one process, under
valgrind): the figure to compare changes by on a machine others are using.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.callgrind import collected, require_valgrind
from sqlglot.errors import SqlglotError

from stageagent.evals.dataset import bundled, load_dataset
from stageagent.evals.errors import EvalError
from stageagent.evals.oracle import oracle_model
from stageagent.evals.resources import Resources
from stageagent.evals.runner import Evaluation
from stageagent.evals.schema_linking import linked_items, schema_mapping
from stageagent.tools.sql import DatabaseError, UnsafeQueryError, execute_query, validate_sql


class OneCaseResults(Resources):
    """Resources whose query results last one case (its task), never reused by another."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.memo: dict[tuple[Any, ...], Any] = {}

    def once(self, key: tuple[Any, ...], compute: Callable[[], Any],
             errors: tuple[type[BaseException], ...]) -> Any:
        key = (asyncio.current_task(), *key)
        if key not in self.memo:
            try:
                self.memo[key] = compute()
            except errors as exc:
                self.memo[key] = exc
        if isinstance(self.memo[key], BaseException):
            raise self.memo[key]
        return self.memo[key]

    def run(self, database: str | None, sql: str) -> Any:
        return self.once(("run", database, sql), lambda: execute_query(
            self.database(database), sql), (DatabaseError, UnsafeQueryError, EvalError))

    def validate(self, database: str | None, sql: str) -> Any:
        db = self.database(database)
        return self.once(("validate", database, sql),
                         lambda: validate_sql(sql, db.schema(), db.dialect,
                                              qualify_columns=False), ())

    def linked(self, database: str | None, sql: str) -> frozenset[str]:
        db = self.database(database)
        return self.once(("linked", database, sql), lambda: linked_items(
            sql, schema_mapping(db.schema()), db.dialect), (SqlglotError, ValueError))


def _dataset():
    demo, shop = load_dataset(bundled("sql_demo")), load_dataset(bundled("sql_shop"))
    return demo.model_copy(update={"name": "sql", "cases": [*demo.cases, *shop.cases]})


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _run(dataset, resources, repeat: int, workers: int = 2,
               **options) -> tuple[float, float, object]:
    evaluation = Evaluation(dataset, repeat=repeat, concurrency=16, resources=resources,
                            workers=workers, **options)
    started, cpu = time.perf_counter(), _cpu_s()
    report = await evaluation.run()
    return time.perf_counter() - started, _cpu_s() - cpu, report


def run(quick: bool = False, cases: int = 1000) -> dict[str, float]:
    dataset = _dataset()
    repeat = max(1, round((60 if quick else cases) / len(dataset.cases)))
    with tempfile.TemporaryDirectory() as tmp:
        tapes, db_dir = Path(tmp) / "tapes", Path(tmp) / "db"
        resources, one_case = Resources(cache_dir=db_dir), OneCaseResults(cache_dir=db_dir)
        try:
            model = oracle_model(dataset, right=lambda c: sum(map(ord, c.name)) % 3 != 0)
            record_s, _, recorded = asyncio.run(_run(dataset, resources, repeat, model=model,
                                                     record=tapes))
            replay_s, replay_cpu, report = asyncio.run(_run(dataset, resources, repeat,
                                                            replay=tapes))
            alone_s, alone_cpu, alone = asyncio.run(_run(dataset, one_case, repeat,
                                                         replay=tapes))
        finally:
            resources.close()
            one_case.close()
    scores = [[(c.key, c.scored()) for c in r.cases] for r in (recorded, report, alone)]  # type: ignore[attr-defined]
    if not scores[0] == scores[1] == scores[2]:
        raise RuntimeError("the replay did not reproduce the recorded scores")
    n = len(report.cases)  # type: ignore[attr-defined]
    return {"cases": n, "cases_per_s": round(n / replay_s, 1),
            "record_cases_per_s": round(n / record_s, 1),
            "ms_per_case": round(1000 * replay_s / n, 2),
            # what the figure would be with two idle cores: CPU time is not stretched by
            # other processes the way wall time is on a shared machine
            "cpu_ms_per_case": round(1000 * replay_cpu / n, 2),
            "cases_per_s_2_idle_cores": round(2 * n / replay_cpu, 1),
            "no_reuse_cases_per_s": round(n / alone_s, 1),
            "no_reuse_cpu_ms_per_case": round(1000 * alone_cpu / n, 2)}


_COUNT_SCRIPT = """
import asyncio, sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from bench.eval_bench import _dataset, _run
from stageagent.evals.resources import Resources
tmp, runs = Path(sys.argv[1]), int(sys.argv[2])
resources = Resources(cache_dir=tmp / "db")
for _ in range(1 + runs):  # the first replay opens the databases and warms the imports
    asyncio.run(_run(_dataset(), resources, 1, replay=tmp / "tapes", workers=1))
"""


def instructions(runs: int = 2) -> dict[str, float]:
    """Instructions per replayed case: (1 + runs replays - 1 replay) / (runs x 66 cases),
    each under callgrind in one process. As in 14 of the benchmark's 15 repeats, the
    harness's caches of gold and predicted results are warm."""
    require_valgrind()
    dataset = _dataset()
    with tempfile.TemporaryDirectory() as tmp:
        resources = Resources(cache_dir=Path(tmp) / "db")
        try:
            model = oracle_model(dataset, right=lambda c: sum(map(ord, c.name)) % 3 != 0)
            asyncio.run(_run(dataset, resources, 1, model=model, record=Path(tmp) / "tapes"))
        finally:
            resources.close()
        counts = [collected(_COUNT_SCRIPT, tmp, str(n)) for n in (0, runs)]
    cases = runs * len(dataset.cases)
    return {"cases": cases, "instructions_per_case": round((counts[1] - counts[0]) / cases)}
