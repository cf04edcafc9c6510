"""Evaluators of the chart stage: valid spec (Vega-Lite schema AND real fields), chart
family match, encoding match. Validation is the pipeline's own (`stageagent.tools.chart`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from stageagent.tools.chart import validate_spec

from .evaluator import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput

_CHART_STAGES = ("chart", "report")
#: chart families: the marks that answer the same question the same way
FAMILIES = {"bar": "bar", "line": "line", "area": "line", "trail": "line", "arc": "arc",
            "pie": "arc", "donut": "arc", "point": "point", "circle": "point",
            "square": "point", "scatter": "point", "tick": "point"}
_POSITIONAL = ("x", "y")


def family(name: str) -> str:
    return FAMILIES.get(name.lower(), name.lower())


def chart_type_of(spec: dict[str, Any]) -> str:
    """The chart type the pipeline recorded, else the mark."""
    meta = spec.get("usermeta")
    if isinstance(meta, dict) and isinstance(meta.get("chart_type"), str):
        return str(meta["chart_type"])
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark
    return str(mark or "")


def encoded_fields(spec: dict[str, Any]) -> dict[str, str]:
    """channel -> field of a spec (top level, or the first layer that encodes)."""
    encoding = spec.get("encoding")
    if not isinstance(encoding, dict):
        layers = [layer for layer in spec.get("layer") or [] if isinstance(layer, dict)]
        encoding = next((layer["encoding"] for layer in layers
                         if isinstance(layer.get("encoding"), dict)), {})
    return {channel: d["field"] for channel, d in encoding.items()
            if isinstance(d, dict) and isinstance(d.get("field"), str)}


@dataclass
class ChartValid(Evaluator):
    """The spec passes the Vega-Lite v5 schema and encodes only columns of the result."""

    stages: ClassVar[tuple[str, ...]] = _CHART_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        spec = ctx.output.chart_spec
        if spec is None:
            return EvaluationReason(False, "the stage produced no chart")
        report = validate_spec(spec, ctx.output.result)
        return EvaluationReason(report.valid, "; ".join(report.errors[:3]) or None)


@dataclass
class ChartTypeMatch(Evaluator):
    """The chart's family (bar, line, arc, point) is one the case expects."""

    stages: ClassVar[tuple[str, ...]] = _CHART_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        expected = ctx.case.expected_output.chart_types()
        if not expected:
            return None
        spec = ctx.output.chart_spec
        if spec is None:
            return EvaluationReason(False, "the stage produced no chart")
        actual = chart_type_of(spec)
        ok = family(actual) in {family(e) for e in expected}
        return EvaluationReason(ok, None if ok else f"{actual or 'no mark'}, expected "
                                                    f"{' or '.join(expected)}")


@dataclass
class EncodingMatch(Evaluator):
    """The expected channels encode the expected fields (`encoding_score`: the share
    that do; `encoding_match`: all do). A bar chart may swap x and y (horizontal)."""

    stages: ClassVar[tuple[str, ...]] = _CHART_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        expected = ctx.case.expected_output.encoding
        if not expected:
            return None
        spec = ctx.output.chart_spec
        if spec is None:
            return {"encoding_match": EvaluationReason(False, "the stage produced no chart"),
                    "encoding_score": 0.0}
        actual = encoded_fields(spec)
        hits = self._hits(expected, actual)
        if family(chart_type_of(spec)) == "bar":
            swapped = {({"x": "y", "y": "x"}.get(c, c)): f for c, f in actual.items()}
            hits = max(hits, self._hits(expected, swapped))
        wrong = [f"{c}={actual.get(c)!r} (expected {f!r})" for c, f in expected.items()
                 if actual.get(c) != f]
        score = hits / len(expected)
        return {"encoding_match": EvaluationReason(hits == len(expected),
                                                   "; ".join(wrong) if hits < len(expected)
                                                   else None),
                "encoding_score": score}

    @staticmethod
    def _hits(expected: dict[str, str], actual: dict[str, str]) -> int:
        return sum(actual.get(channel) == field for channel, field in expected.items())
