"""The eval harness: datasets, evaluators, a runner, reports, replayable runs.

    from stageagent.evals import bundled, evaluate, load_dataset
    report = await evaluate(load_dataset(bundled("sql_demo")), model="openai:gpt-4o")

`stageagent` itself never imports this package; `stageagent eval` and users do.
"""

from __future__ import annotations

from pathlib import Path

from .cache import CachedModel
from .chart_evaluators import ChartTypeMatch, ChartValid, EncodingMatch
from .dataset import (Case, Dataset, Expected, Fact, Inputs, Metadata, ResultSet, StageContext,
                      bundled, dataset_json_schema, load_dataset, write_json_schema)
from .diff import diff_reports
from .document_evaluators import NumericGrounding, RequiredFacts, StylePass
from .errors import BrokenCaseError, DatasetError, EvalError, UnknownEvaluatorError
from .evaluator import EvaluationReason, EvaluationResult, Evaluator, EvaluatorContext
from .judge import LLMJudge
from .oracle import oracle_model
from .registry import register_evaluator
from .report import CaseResult, EvalReport
from .runner import Evaluation, RetryConfig, evaluate
from .sql_evaluators import (ExecutesSQL, ExecutionAccuracy, ExecutionTimeRatio, SchemaLinking,
                             ValidSQL)

#: directory holding the bundled files
PATH = Path(__file__).parent

__all__ = [
    "PATH",
    # datasets
    "Dataset", "Case", "Inputs", "StageContext", "ResultSet", "Expected", "Fact", "Metadata",
    "load_dataset", "bundled", "dataset_json_schema", "write_json_schema",
    # evaluators
    "Evaluator", "EvaluatorContext", "EvaluationReason", "EvaluationResult",
    "register_evaluator", "ValidSQL", "ExecutesSQL", "ExecutionAccuracy",
    "ExecutionTimeRatio", "SchemaLinking", "ChartValid", "ChartTypeMatch", "EncodingMatch",
    "NumericGrounding", "RequiredFacts", "StylePass", "LLMJudge",
    # running and reporting
    "Evaluation", "RetryConfig", "evaluate", "EvalReport", "CaseResult", "diff_reports",
    "CachedModel", "oracle_model",
    # errors
    "EvalError", "DatasetError", "UnknownEvaluatorError", "BrokenCaseError",
]
