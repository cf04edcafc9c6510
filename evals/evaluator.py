"""The evaluator protocol (pydantic-evals' nouns): `Evaluator`, `EvaluatorContext`,
`EvaluationReason`, `EvaluationResult`.

An evaluator looks at one case and its output and returns a value: `bool` (an assertion:
the case passes only if all hold), a number (a score, averaged in reports), a string (a
label), an `EvaluationReason` (a value with its reason), or a dict name -> one of these for
several results at once, or `None` when the case lacks what it scores (no gold SQL, no
expected chart type). Raising `BrokenCaseError` marks the case broken (its gold is bad),
not the model wrong.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Union

from .dataset import Case
from .outcome import CaseOutput

if TYPE_CHECKING:
    from .resources import Resources

Value = Union[bool, int, float, str]


@dataclass(frozen=True)
class EvaluationReason:
    value: Value
    reason: str | None = None


@dataclass(frozen=True)
class EvaluationResult:
    """One named value an evaluator returned for a case."""

    name: str
    value: Value
    reason: str | None = None
    source: str = ""

    @property
    def is_assertion(self) -> bool:
        return isinstance(self.value, bool)

    @property
    def is_score(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "value": self.value, "source": self.source}
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class EvaluatorContext:
    """Everything an evaluator may look at for one case."""

    case: Case
    output: CaseOutput
    resources: "Resources"
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> Any:
        return self.case.inputs

    @property
    def expected_output(self) -> Any:
        return self.case.expected_output

    @property
    def metadata(self) -> Any:
        return self.case.metadata


EvaluatorOutput = Union[Value, EvaluationReason, dict[str, Union[Value, EvaluationReason]], None]


@dataclass
class Evaluator:
    """Base class: subclasses are dataclasses whose fields are the YAML arguments."""

    #: the stages whose output this evaluator can score
    stages: ClassVar[tuple[str, ...]] = ("sql", "chart", "document", "report")

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        raise NotImplementedError

    async def evaluate_async(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        value = self.evaluate(ctx)
        return await value if inspect.isawaitable(value) else value  # type: ignore[return-value]

    def results(self, output: EvaluatorOutput) -> list[EvaluationResult]:
        """Normalise what `evaluate` returned to named results."""
        if output is None:
            return []
        source = self.name()
        items = output.items() if isinstance(output, dict) else [(source, output)]
        results = []
        for name, value in items:
            if value is None:
                continue
            reason = None
            if isinstance(value, EvaluationReason):
                reason = value.reason
                value = value.value
            if isinstance(value, float):
                value = round(value, 6)  # one rounding for reports, diffs and replays
            results.append(EvaluationResult(name, value, reason, source))
        return results
