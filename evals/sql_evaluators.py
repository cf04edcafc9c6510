"""Evaluators of the SQL stage: valid, executes, execution accuracy (BIRD / test-suite /
strict), execution-time ratio (BIRD's VES / R-VES) and schema-linking precision/recall.

The predicted query is re-run on the case's database with the harness's row limit (the
model's own tool call may have been cut at a few hundred rows), through the run's result
cache; the gold query's failure marks the case broken.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from stageagent.tools.sql import DatabaseError, UnsafeQueryError, execute_query

from .evaluator import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput
from .schema_linking import precision_recall
from .sql_compare import METHODS, Method, has_order_by, results_match

_SQL_STAGES = ("sql", "report")


def _predicted(ctx: EvaluatorContext) -> tuple[Any, str | None]:
    """(result or None, why not) of the predicted SQL on the case's database."""
    sql = ctx.output.sql
    if not sql:
        return None, "the stage produced no SQL"
    try:
        return ctx.resources.run(ctx.case.inputs.database, sql), None
    except (DatabaseError, UnsafeQueryError) as exc:
        return None, f"the predicted SQL does not run: {exc}"


@dataclass
class ValidSQL(Evaluator):
    """The predicted SQL parses and every table, column and function exists (sqlglot)."""

    stages: ClassVar[tuple[str, ...]] = _SQL_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        if not ctx.output.sql:
            return EvaluationReason(False, "the stage produced no SQL")
        checked = ctx.resources.validate(ctx.case.inputs.database, ctx.output.sql)
        return EvaluationReason(checked.valid, None if checked.valid else checked.summary())


@dataclass
class ExecutesSQL(Evaluator):
    """The predicted SQL runs read-only without an error."""

    stages: ClassVar[tuple[str, ...]] = _SQL_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        result, why = _predicted(ctx)
        return EvaluationReason(result is not None, why)


@dataclass
class ExecutionAccuracy(Evaluator):
    """Predicted and gold results match, by `method`: `bird`, `test_suite` or `strict`
    (see `stageagent.evals.sql_compare`). The result is named `ex_<method>`."""

    method: Method = "test_suite"
    stages: ClassVar[tuple[str, ...]] = _SQL_STAGES

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        gold_sql = ctx.case.expected_output.sql
        if not gold_sql:
            return None
        gold = ctx.resources.gold(ctx.case.inputs.database, gold_sql)
        name = f"ex_{self.method}"
        result, why = _predicted(ctx)
        if result is None:
            return {name: EvaluationReason(False, why)}
        ordered = self.method == "test_suite" and has_order_by(gold_sql, gold.dialect)
        ok = results_match(self.method, result.rows, gold.rows, gold_ordered=ordered,
                           predicted_columns=len(result.columns), gold_columns=len(gold.columns))
        reason = None if ok else (f"{result.row_count} row(s) x {len(result.columns)} column(s) "
                                  f"vs gold {gold.row_count} x {len(gold.columns)}"
                                  + (" (gold is ordered)" if ordered else ""))
        if result.truncated or gold.truncated:  # compared on the first EVAL_ROW_LIMIT rows
            reason = (reason + "; " if reason else "") + "compared on truncated results"
        return {name: EvaluationReason(ok, reason)}


def r_ves_reward(ratio: float) -> float:
    """BIRD's R-VES reward buckets for time ratio gold/predicted (correct queries only)."""
    for bound, reward in ((2, 1.25), (1, 1.0), (0.5, 0.75), (0.25, 0.5)):
        if ratio >= bound:
            return reward
    return 0.25


@dataclass
class ExecutionTimeRatio(Evaluator):
    """BIRD's efficiency scores: `time_ratio` = gold time / predicted time (best of `runs`),
    `ves` = sqrt(ratio) and `r_ves` = reward bucket, both 0 unless the results match (bird).

    Measures this machine, so it is opt-in and differs between a run and its replay."""

    runs: int = 3
    stages: ClassVar[tuple[str, ...]] = _SQL_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        gold_sql = ctx.case.expected_output.sql
        if not gold_sql:
            return None
        gold = ctx.resources.gold(ctx.case.inputs.database, gold_sql)
        result, why = _predicted(ctx)
        if result is None:
            return {"ves": EvaluationReason(0.0, why), "r_ves": 0.0}
        correct = results_match("bird", result.rows, gold.rows)
        db = ctx.resources.database(ctx.case.inputs.database)
        ratio = self._best(db, gold_sql) / max(self._best(db, ctx.output.sql or ""), 1e-9)
        return {"time_ratio": ratio, "ves": math.sqrt(ratio) if correct else 0.0,
                "r_ves": r_ves_reward(ratio) if correct else 0.0}

    def _best(self, db: Any, sql: str) -> float:
        best = math.inf
        for _ in range(max(1, self.runs)):
            started = time.perf_counter()
            execute_query(db, sql)
            best = min(best, time.perf_counter() - started)
        return best


@dataclass
class SchemaLinking(Evaluator):
    """Precision and recall of the tables and columns the predicted query uses, against
    the gold's, from sqlglot's qualified AST (`schema_precision`, `schema_recall`)."""

    stages: ClassVar[tuple[str, ...]] = _SQL_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        import sqlglot

        gold_sql = ctx.case.expected_output.sql
        if not gold_sql:
            return None
        database = ctx.case.inputs.database
        gold = ctx.resources.linked(database, gold_sql)
        try:
            predicted = ctx.resources.linked(database, ctx.output.sql or "")
        except (sqlglot.errors.SqlglotError, ValueError) as exc:
            why = f"the predicted SQL cannot be qualified: {exc}"
            return {"schema_precision": EvaluationReason(0.0, why), "schema_recall": 0.0}
        if not ctx.output.sql:
            return {"schema_precision": EvaluationReason(0.0, "no SQL"), "schema_recall": 0.0}
        precision, recall = precision_recall(predicted, gold)
        missing = sorted(gold - predicted)
        return {"schema_precision": precision,
                "schema_recall": EvaluationReason(recall, f"missing {', '.join(missing)}"
                                                  if missing else None)}
