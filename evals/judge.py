"""An LLM judge: a rubric, a threshold and any model id. Opt-in, never a default.

Deterministic evaluators decide what they can (rows match, numbers are in the data); a
judge is for what they cannot (does the paragraph answer the question?). It asks the model
for JSON `{"score": 0..1, "reason": "..."}` and reports `judge_score` and `judge_pass`
(score >= threshold). Its calls go through the run's model wrappers (cache, record,
replay), so a replayed eval scores the judge's recorded verdicts, offline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from stageagent.messages import SystemMessage, UserMessage
from stageagent.models import ModelRequest, ModelSettings

from .evaluator import EvaluationReason, Evaluator, EvaluatorContext, EvaluatorOutput

SYSTEM = ("You grade the output of one stage of a report pipeline against a rubric. "
          "Answer with one JSON object and nothing else: "
          '{"score": <number from 0 to 1>, "reason": "<one sentence>"}.')


@dataclass
class LLMJudge(Evaluator):
    """Scores the stage's output against `rubric` with `model` (e.g. `openai:gpt-4o`)."""

    rubric: str = ""
    model: str | None = None
    threshold: float = 0.7
    include_input: bool = True
    stages: ClassVar[tuple[str, ...]] = ("sql", "chart", "document", "report")

    def __post_init__(self) -> None:
        if not self.rubric.strip():
            raise ValueError("LLMJudge needs a non-empty rubric")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold must be within [0, 1], not {self.threshold}")

    async def evaluate(self, ctx: EvaluatorContext) -> EvaluatorOutput:  # type: ignore[override]
        model = ctx.resources.judge_model(self.model, ctx)
        request = ModelRequest(messages=[SystemMessage(content=SYSTEM),
                                         UserMessage(content=self.prompt(ctx))],
                               settings=ModelSettings(temperature=0.0, max_tokens=400))
        reply = await model.request(request)
        score, reason = parse_verdict(reply.text)
        if score is None:
            return {"judge_pass": EvaluationReason(False, f"unreadable verdict: {reason}")}
        return {"judge_score": EvaluationReason(score, reason),
                "judge_pass": score >= self.threshold}

    def prompt(self, ctx: EvaluatorContext) -> str:
        output = ctx.output
        parts = [f"Rubric:\n{self.rubric.strip()}"]
        if self.include_input:
            parts.append(f"Question:\n{ctx.case.inputs.question}")
        if output.sql:
            parts.append(f"SQL:\n{output.sql}")
        if output.chart_spec is not None:
            spec = {k: v for k, v in output.chart_spec.items() if k != "data"}
            parts.append("Chart (Vega-Lite, data omitted):\n" + json.dumps(spec, sort_keys=True))
        if output.document:
            parts.append(f"Text:\n{output.document}")
        return "\n\n".join(parts)


def parse_verdict(text: str) -> tuple[float | None, str]:
    """(score clamped to [0, 1], reason) from the judge's reply, or (None, the reply)."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        data: Any = json.loads(match.group(0)) if match else None
        score = float(data["score"])
    except (ValueError, TypeError, KeyError):
        return None, text.strip()[:200]
    return min(1.0, max(0.0, score)), str(data.get("reason", ""))[:500]
