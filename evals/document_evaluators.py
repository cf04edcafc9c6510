"""Evaluators of the document stage: numeric grounding, required facts, style.

Grounding and style are the pipeline's own checks (`stageagent.tools.document`), so the
eval scores a text by the same rules the stage's quality gate applies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from stageagent.tools.document import check_consistency, check_style, extract_quantities

from .dataset import Fact
from .evaluator import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput

_DOC_STAGES = ("document", "report")


def _text(ctx: EvaluatorContext) -> str | None:
    text = ctx.output.document
    return text if text and text.strip() else None


@dataclass
class NumericGrounding(Evaluator):
    """Every number, date and ranking claim of the text matches the result set:
    `numeric_grounding` is the share of claims that do, `grounded` says all do."""

    stages: ClassVar[tuple[str, ...]] = _DOC_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        text = _text(ctx)
        if text is None:
            return {"grounded": EvaluationReason(False, "the stage produced no text"),
                    "numeric_grounding": 0.0}
        if ctx.output.result is None:
            return {"grounded": EvaluationReason(False, "no result set to check against")}
        report = check_consistency(text, ctx.output.result)
        return {"grounded": EvaluationReason(report.ok, "; ".join(report.critiques[:3]) or None),
                "numeric_grounding": report.score}


def fact_present(fact: Fact, text: str) -> bool:
    """A phrase appears (case and spacing ignored), or a figure within tolerance - or
    within the text's own rounding (`1.25 million` states 1,251,234)."""
    if fact.text is not None:
        squash = lambda s: re.sub(r"\s+", " ", s).strip().lower()  # noqa: E731
        return squash(fact.text) in squash(text)
    assert fact.value is not None
    for quantity in extract_quantities(text):
        if quantity.kind == "date":
            continue
        allowed = max(abs(fact.value) * fact.tolerance, quantity.step / 2)
        if abs(quantity.value - fact.value) <= allowed + 1e-9:
            return True
    return False


@dataclass
class RequiredFacts(Evaluator):
    """The facts the case lists appear in the text (`facts_present`: all of them;
    `facts_recall`: the share)."""

    stages: ClassVar[tuple[str, ...]] = _DOC_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        facts = ctx.case.expected_output.fact_list()
        if not facts:
            return None
        text = _text(ctx) or ""
        missing = [f.text if f.text is not None else f"{f.value:g}" for f in facts
                   if not fact_present(f, text)]
        return {"facts_present": EvaluationReason(not missing, "missing: " + ", ".join(missing)
                                                  if missing else None),
                "facts_recall": 1 - len(missing) / len(facts)}


@dataclass
class StylePass(Evaluator):
    """The text passes the pipeline's style checks (register, length, hedging...)."""

    register: str = "formal"
    stages: ClassVar[tuple[str, ...]] = _DOC_STAGES

    def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:
        text = _text(ctx)
        if text is None:
            return EvaluationReason(False, "the stage produced no text")
        report = check_style(text, register=self.register,  # type: ignore[arg-type]
                             result=ctx.output.result)
        return EvaluationReason(report.ok, "; ".join(sorted(report.failed_rules())) or None)
