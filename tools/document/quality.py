"""`document_quality`: the document stage's deterministic quality gate.

Score = fraction of checks passing: text present, figures quoted, numbers / dates /
rankings grounded in the data, length, register, voice (no first person or hedging),
no unsupported superlatives. An ungrounded figure caps the score at 0.5: an invented
number must never pass a gate, however well the paragraph reads.
"""

from __future__ import annotations

from stageagent.quality import Candidate, QualityReport

from ..results import STATE_SQL_RESULT, QueryResult
from .analysis import analyze_paragraph
from .consistency import check_consistency
from .style import check_style

BLOCKING_CAP = 0.5
_TEXT_FIELDS = ("text", "markdown", "paragraph", "content", "body")


def text_of(candidate: Candidate) -> str:
    """The document text: the output model's text/markdown field, else the answer text."""
    out = candidate.output
    for name in _TEXT_FIELDS:
        value = out.get(name) if isinstance(out, dict) else getattr(out, name, None)
        if isinstance(value, str) and value.strip():
            return value
    if isinstance(out, str) and out.strip():
        return out
    return candidate.text or ""


class DocumentQuality:
    """Deterministic evaluator of the document stage (see module docstring)."""

    name = "document_quality"

    def evaluate(self, candidate: Candidate) -> QualityReport:
        text = text_of(candidate).strip()
        if not text:
            return QualityReport(score=0.0, evaluator=self.name, critiques=[
                "No paragraph was written: write the report paragraph answering the question."])
        result = candidate.state.get(STATE_SQL_RESULT)
        if isinstance(result, dict):
            result = QueryResult.model_validate(result)
        critiques: list[str] = []
        checks: dict[str, bool] = {"has_text": True}
        if result is None:
            critiques.append("No SQL result to check the figures against: run the SQL stage first.")
            checks.update(numbers_grounded=False, dates_grounded=False, rankings_grounded=False)
            length = {"min_words": 40, "max_words": 220}
            register = "formal"
        else:
            analysis = analyze_paragraph(result, candidate.input)
            length = analysis["length"]
            register = "formal" if analysis["register"] == "formal business" else "neutral"
            report = check_consistency(text, result)
            for kind in ("number", "date", "ranking"):
                checks[f"{kind}s_grounded"] = all(c.ok for c in report.checks if c.kind == kind)
            critiques += report.critiques
            if analysis["key_figures"]:
                cited = any(c.ok and c.kind == "number" for c in report.checks)
                checks["cites_figures"] = cited
                if not cited:
                    figures = "; ".join(f"{f['description']}: {f['text']}"
                                        for f in analysis["key_figures"][:3])
                    critiques.append(f"Quote the key figures of the data ({figures}).")
        style = check_style(text, register=register, min_words=length["min_words"],
                            max_words=length["max_words"], result=result)
        failed = style.failed_rules()
        checks["length"] = not failed & {"length", "sentence_length"}
        checks["register"] = "register" not in failed
        checks["voice"] = not failed & {"first_person", "hedging"}
        checks["superlatives"] = "superlative" not in failed
        critiques += [i.message for i in style.issues]
        score = sum(checks.values()) / len(checks)
        if not all(checks.get(k, True) for k in ("numbers_grounded", "dates_grounded",
                                                 "rankings_grounded")):
            score = min(score, BLOCKING_CAP)
        return QualityReport(score=round(score, 4), critiques=critiques, evaluator=self.name,
                             details={"checks": checks, "words": style.words})


document_quality = DocumentQuality()


