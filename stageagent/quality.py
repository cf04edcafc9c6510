"""The quality gate: evaluators score a stage's candidate answer in [0, 1] with critiques.

Below the stage's threshold (and with iterations left) the critiques go back to the model
as the next user turn; at or above it the stage ends. Deterministic evaluators come
first; an LLM judge is just another evaluator, never the default.
"""


import inspect
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol, Union, runtime_checkable

from .messages import ToolResult
from .plainclass import PlainClass
from .plainclass import field as plain_field


@dataclass
class Candidate:
    """What the model proposes as the stage's answer, with what the tools returned."""

    stage: str
    input: str
    text: str
    #: the validated output-schema instance (explore-then-format stages), else None
    output: Any = None
    observations: list[ToolResult] = field(default_factory=list)
    #: the run's shared `ToolContext.state` (e.g. the SQL executor's last result)
    state: dict[str, Any] = field(default_factory=dict)
    #: template variables of the stage (the upstream results in a facade run)
    context: dict[str, Any] = field(default_factory=dict)


def _not_nan(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        raise ValueError("score is NaN")
    return value


class QualityReport(PlainClass):
    """One evaluator's verdict."""

    score: float = plain_field(ge=0.0, le=1.0, before=_not_nan)
    critiques: list[str] = plain_field(default_factory=list)
    evaluator: str = ""
    details: dict[str, Any] = plain_field(default_factory=dict)


@runtime_checkable
class Evaluator(Protocol):
    """Anything with a `name` and an `evaluate(candidate)` (sync or async)."""

    name: str

    def evaluate(self, candidate: Candidate) -> Union[QualityReport, Awaitable[QualityReport]]:
        ...


class FunctionEvaluator:
    """Wraps `fn(candidate) -> QualityReport | float | (float, [critiques])`."""

    def __init__(self, function: Callable[[Candidate], Any], *, name: str | None = None,
                 weight: float = 1.0):
        self.function = function
        self.name: str = name or str(getattr(function, "__name__", "evaluator"))
        self.weight = weight

    async def evaluate(self, candidate: Candidate) -> QualityReport:
        result = self.function(candidate)
        if inspect.isawaitable(result):
            result = await result
        return coerce_report(result, self.name)


def evaluator(function: Callable[[Candidate], Any] | None = None, *, name: str | None = None,
              weight: float = 1.0) -> Any:
    """Decorator making a function an `Evaluator`."""

    def wrap(fn: Callable[[Candidate], Any]) -> FunctionEvaluator:
        return FunctionEvaluator(fn, name=name, weight=weight)

    return wrap(function) if function is not None else wrap


def coerce_report(result: Any, name: str) -> QualityReport:
    if isinstance(result, QualityReport):
        if not result.evaluator:
            result = result.model_copy(update={"evaluator": name})
        return result
    if isinstance(result, tuple):
        score, critiques = result
        return QualityReport(score=float(score), critiques=list(critiques), evaluator=name)
    if isinstance(result, (int, float)):
        return QualityReport(score=float(result), evaluator=name)
    raise TypeError(f"evaluator {name!r} returned {type(result).__name__}; expected "
                    "QualityReport, a score, or (score, critiques)")


async def evaluate_all(evaluators: list[Any], candidate: Candidate) -> QualityReport:
    """Weighted mean of the evaluators' scores; critiques concatenated, each tagged.

    An evaluator that raises scores 0 with its error as the critique: a broken check must
    not let a bad answer pass.
    """
    if not evaluators:
        return QualityReport(score=1.0, evaluator="none")
    total = 0.0
    weights = 0.0
    critiques: list[str] = []
    details: dict[str, Any] = {}
    for ev in evaluators:
        name = getattr(ev, "name", type(ev).__name__)
        weight = float(getattr(ev, "weight", 1.0))
        try:
            result = ev.evaluate(candidate)
            if inspect.isawaitable(result):
                result = await result
            report = coerce_report(result, name)
        except Exception as exc:  # noqa: BLE001 - reported, scored 0
            report = QualityReport(score=0.0, evaluator=name,
                                   critiques=[f"evaluator {name} failed: {type(exc).__name__}: {exc}"])
        total += report.score * weight
        weights += weight
        critiques.extend(report.critiques)
        details[name] = {"score": report.score, **report.details}
    score = total / weights if weights else 1.0
    return QualityReport(score=round(score, 6), critiques=critiques,
                         evaluator="+".join(getattr(e, "name", "?") for e in evaluators),
                         details=details)
