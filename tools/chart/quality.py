"""`chart_quality`: the chart stage's deterministic quality gate.

Checks, each worth the same: the spec is schema-valid; every encoded field is a real
column with a compatible type; the chart type suits the column roles (line over time,
bar over <= 12 categories, arc over <= 6 parts, point over two measures); it is labelled.
A spec that is schema-invalid or names an unknown field is capped at 0.5: it renders
wrong or empty, so it must never pass a gate however the other checks score.
"""

from __future__ import annotations

from typing import Any

from stageagent.quality import Candidate, QualityReport

from ..results import STATE_CHART_SPEC, STATE_SQL_RESULT, ColumnInfo, QueryResult
from .analysis import infer_role
from .selection import MAX_ARC_PARTS, MAX_CATEGORIES
from .validation import validate_spec

BLOCKING_CAP = 0.5


def _spec_of(candidate: Candidate) -> dict[str, Any] | None:
    spec = candidate.state.get(STATE_CHART_SPEC)
    if spec is None and isinstance(candidate.output, dict) and "encoding" in candidate.output:
        spec = candidate.output
    return spec if isinstance(spec, dict) else None


def _roles(spec: dict[str, Any], result: QueryResult | None) -> dict[str, str]:
    rows = [r for r in (spec.get("data") or {}).get("values") or [] if isinstance(r, dict)]
    kinds = {c.name: c for c in result.columns} if result else {}
    names = dict.fromkeys(k for r in rows for k in r)
    return {n: infer_role(kinds.get(n, ColumnInfo(name=n)), [r.get(n) for r in rows]) for n in names}


def _fields(spec: dict[str, Any]) -> dict[str, str]:
    return {ch: d["field"] for ch, d in (spec.get("encoding") or {}).items()
            if isinstance(d, dict) and isinstance(d.get("field"), str)}


def suitability_problems(spec: dict[str, Any], result: QueryResult | None) -> list[str]:
    """Why the chart type does not suit the roles of the columns it encodes (empty = fine)."""
    mark = spec.get("mark")
    kind = mark.get("type") if isinstance(mark, dict) else mark
    roles = _roles(spec, result)
    fields = _fields(spec)
    rows = (spec.get("data") or {}).get("values") or []
    role = {ch: roles.get(f, "unknown") for ch, f in fields.items()}
    if result is not None and not any(c in roles and roles[c] == "quantitative"
                                      for c in result.column_names):
        return ["The result has no measure to plot: answer with a table, not a chart."]
    if kind == "line":
        if role.get("x") not in ("temporal", "ordinal", "quantitative"):
            return [f"A line chart needs a time axis on x, but {fields.get('x')!r} is "
                    f"{role.get('x')}: use a bar chart for categories."]
        if role.get("y") != "quantitative":
            return [f"The y field {fields.get('y')!r} of a line chart must be a measure."]
    elif kind == "bar":
        cats = [ch for ch in ("x", "y") if role.get(ch) in ("nominal", "ordinal", "temporal")]
        if not cats or not any(role.get(ch) == "quantitative" for ch in ("x", "y")):
            return ["A bar chart needs one category axis and one measure axis."]
        n = len({str(r.get(fields[cats[0]])) for r in rows})
        if n > MAX_CATEGORIES + 1:
            return [f"The bar chart has {n} categories: use top_n (e.g. 10) so the rest is "
                    "grouped as 'Other'."]
    elif kind == "arc":
        parts = len({str(r.get(fields.get("color"))) for r in rows})
        if role.get("theta") != "quantitative":
            return ["An arc chart needs a measure on theta."]
        if parts > MAX_ARC_PARTS:
            return [f"The pie has {parts} slices (more than {MAX_ARC_PARTS}): use a sorted "
                    "bar chart, or top_n to group the small parts."]
    elif kind == "point":
        if role.get("x") != "quantitative" or role.get("y") != "quantitative":
            return ["A scatter (point) chart needs measures on both x and y."]
    else:
        return [f"Mark {kind!r} is not one of line, bar, arc, point."]
    return []


class ChartQuality:
    """Deterministic evaluator of the chart stage (see module docstring)."""

    name = "chart_quality"

    def evaluate(self, candidate: Candidate) -> QualityReport:
        spec = _spec_of(candidate)
        if spec is None:
            return QualityReport(score=0.0, evaluator=self.name, critiques=[
                "No chart was produced: call chart_generator with a chart type and columns "
                "of the SQL result."])
        result = candidate.state.get(STATE_SQL_RESULT)
        if isinstance(result, dict):
            result = QueryResult.model_validate(result)
        report = validate_spec(spec, result)
        # suitability is only judged on a spec that renders; otherwise it fails silently
        suitability = suitability_problems(spec, result) if report.valid else []
        checks = {
            "schema_valid": not report.schema_errors,
            "fields_real": not report.field_errors,
            "type_suits_roles": report.valid and not suitability,
            "labelled": bool(spec.get("title")),
        }
        score = sum(checks.values()) / len(checks)
        if not report.valid:
            score = min(score, BLOCKING_CAP)
        critiques = [f"Vega-Lite schema: {e}" for e in report.schema_errors]
        critiques += report.field_errors + suitability
        if not checks["labelled"]:
            critiques.append("Give the chart a title that says what it shows.")
        return QualityReport(score=round(score, 4), critiques=critiques, evaluator=self.name,
                             details={"checks": checks,
                                      "warnings": report.warnings})


chart_quality = ChartQuality()
