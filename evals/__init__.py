"""The eval harness: datasets, evaluators, a runner, reports, replayable runs.

    from stageagent.evals import bundled, evaluate, load_dataset
    report = await evaluate(load_dataset(bundled("sql_demo")), model="openai:gpt-4o")

Names resolve on first use (PEP 562): importing the package costs nothing, and the
evaluators import sqlglot / the pipeline's tools only when a run needs them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

#: directory holding the bundled files
PATH = Path(__file__).parent

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["Case", "Dataset", "Expected", "Fact", "Inputs", "Metadata", "ResultSet",
                     "StageContext", "bundled", "dataset_json_schema", "load_dataset",
                     "write_json_schema"], ".dataset"),
    **dict.fromkeys(["EvaluationReason", "EvaluationResult", "Evaluator", "EvaluatorContext"],
                    ".evaluator"),
    **dict.fromkeys(["BrokenCaseError", "DatasetError", "EvalError", "UnknownEvaluatorError"],
                    ".errors"),
    **dict.fromkeys(["ValidSQL", "ExecutesSQL", "ExecutionAccuracy", "ExecutionTimeRatio",
                     "SchemaLinking"], ".sql_evaluators"),
    **dict.fromkeys(["ChartValid", "ChartTypeMatch", "EncodingMatch"], ".chart_evaluators"),
    **dict.fromkeys(["NumericGrounding", "RequiredFacts", "StylePass"], ".document_evaluators"),
    "LLMJudge": ".judge",
    "register_evaluator": ".registry",
    **dict.fromkeys(["Evaluation", "RetryConfig", "evaluate"], ".runner"),
    **dict.fromkeys(["CaseResult", "EvalReport"], ".report"),
    "diff_reports": ".diff",
    "oracle_model": ".oracle",
    "CachedModel": ".cache",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stageagent.evals' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:
    from .cache import CachedModel  # noqa: F401
    from .chart_evaluators import ChartTypeMatch, ChartValid, EncodingMatch  # noqa: F401
    from .dataset import (Case, Dataset, Expected, Fact, Inputs, Metadata,  # noqa: F401
                          ResultSet, StageContext, bundled, dataset_json_schema, load_dataset,
                          write_json_schema)
    from .diff import diff_reports  # noqa: F401
    from .document_evaluators import NumericGrounding, RequiredFacts, StylePass  # noqa: F401
    from .errors import BrokenCaseError, DatasetError, EvalError, UnknownEvaluatorError  # noqa: F401
    from .evaluator import (EvaluationReason, EvaluationResult, Evaluator,  # noqa: F401
                            EvaluatorContext)
    from .judge import LLMJudge  # noqa: F401
    from .oracle import oracle_model  # noqa: F401
    from .registry import register_evaluator  # noqa: F401
    from .report import CaseResult, EvalReport  # noqa: F401
    from .runner import Evaluation, RetryConfig, evaluate  # noqa: F401
    from .sql_evaluators import (ExecutesSQL, ExecutionAccuracy, ExecutionTimeRatio,  # noqa: F401
                                 SchemaLinking, ValidSQL)
