"""Case-by-case comparison of two eval reports: what improved, what regressed.

A case improved when it passes in B and did not in A (or its scores rose), regressed in
the opposite case; cases only in one report are listed as added / removed - or as not
run, when the report without them is partial (an interrupted run never got to them; the
dataset did not lose them). Metric means are compared per stage as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .report import CaseResult, EvalReport

_RANK = {"passed": 2, "failed": 1, "broken": 0}


@dataclass
class CaseChange:
    case: str
    change: str  # improved | regressed | changed | added | removed | not run
    before: str | None
    after: str | None
    deltas: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "change": self.change, "before": self.before,
                "after": self.after, "deltas": self.deltas}


@dataclass
class ReportDiff:
    a: EvalReport
    b: EvalReport
    changes: list[CaseChange]
    metrics: dict[str, tuple[float | None, float | None]]

    @property
    def improved(self) -> list[CaseChange]:
        return [c for c in self.changes if c.change == "improved"]

    @property
    def regressed(self) -> list[CaseChange]:
        return [c for c in self.changes if c.change == "regressed"]

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a.dataset, "b": self.b.dataset,
                "partial": [self.a.partial, self.b.partial],
                "pass_rate": [self.a.pass_rate, self.b.pass_rate],
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "changes": [c.to_dict() for c in self.changes]}

    def text(self) -> str:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{100 * v:.1f}%"

        lines = [f"pass rate {pct(self.a.pass_rate)} -> {pct(self.b.pass_rate)}  "
                 f"({len(self.improved)} improved, {len(self.regressed)} regressed)"]
        for label, report in (("A", self.a), ("B", self.b)):
            if report.partial:
                lines.append(f"  {label} is partial: {len(report.cases)} of {report.planned} "
                             "cases ran (interrupted); its pass rate covers those only")
        for name, (before, after) in self.metrics.items():
            if before != after:
                lines.append(f"  {name}: {_fmt(before)} -> {_fmt(after)}")
        for change in self.changes:
            deltas = ", ".join(f"{k} {v:+.3f}" for k, v in change.deltas.items())
            lines.append(f"{change.change.upper():9} {change.case}: {change.before or '-'} -> "
                         f"{change.after or '-'}" + (f"  ({deltas})" if deltas else ""))
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _numbers(case: CaseResult) -> dict[str, float]:
    return {k: float(v) for k, v in case.values().items()
            if isinstance(v, (int, float, bool))}


def _change(key: str, a: CaseResult, b: CaseResult) -> CaseChange | None:
    before, after = _numbers(a), _numbers(b)
    deltas = {k: round(after[k] - before[k], 6) for k in sorted(set(before) & set(after))
              if after[k] != before[k]}
    rank = _RANK[b.status] - _RANK[a.status]
    if rank == 0 and not deltas:
        return None
    if rank == 0:
        total = sum(deltas.values())
        kind = "improved" if total > 0 else "regressed" if total < 0 else "changed"
    else:
        kind = "improved" if rank > 0 else "regressed"
    return CaseChange(key, kind, a.status, b.status, deltas)


def diff_reports(a: EvalReport, b: EvalReport) -> ReportDiff:
    before = {(c.stage, c.key): c for c in a.cases}
    after = {(c.stage, c.key): c for c in b.cases}
    changes: list[CaseChange] = []
    for key in sorted(set(before) | set(after)):
        label = f"{key[0]}/{key[1]}"
        if key not in after:
            kind = "not run" if b.partial else "removed"
            changes.append(CaseChange(label, kind, before[key].status, None))
        elif key not in before:
            kind = "not run" if a.partial else "added"
            changes.append(CaseChange(label, kind, None, after[key].status))
        else:
            change = _change(label, before[key], after[key])
            if change is not None:
                changes.append(change)
    metric_names = sorted({*_means(a), *_means(b)})
    metrics = {name: (_means(a).get(name), _means(b).get(name)) for name in metric_names}
    return ReportDiff(a, b, changes, metrics)


def _means(report: EvalReport) -> dict[str, float]:
    return {f"{stage}.{name}": value for stage, s in report.stages().items()
            for name, value in s["metrics"].items()}
