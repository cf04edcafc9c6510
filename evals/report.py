"""Eval reports: per-case results, per-stage summaries, JSON / Markdown / terminal / HTML.

`EvalReport` is what a run returns and what `--json` writes; `EvalReport.load(path)`
reads it back (for `stageagent eval diff`). A summary per stage gives the pass rate
(passed / scored cases; broken cases are listed apart, they say nothing about the model),
the mean of each assertion and score, the distribution of quality scores, iterations,
tokens, cost and latency p50/p95, and the failures with their reasons. A report cut short
(Ctrl-C, a crash) says `partial: true` and how many cases were planned.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError

from .outcome import RunFigures

Status = Literal["passed", "failed", "broken"]
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}
BUCKETS = ("0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0")


class CaseResult(BaseModel):
    name: str
    stage: str
    repeat: int = 1
    status: Status
    reason: str | None = None
    results: list[dict[str, Any]] = Field(default_factory=list)
    figures: RunFigures = Field(default_factory=RunFigures)
    #: per stage, for an end-to-end case
    stages: dict[str, RunFigures] = Field(default_factory=dict)
    difficulty: str = ""
    tags: list[str] = Field(default_factory=list)
    sql: str | None = None
    chart_type: str | None = None

    @property
    def key(self) -> str:
        return self.name if self.repeat == 1 else f"{self.name} [{self.repeat}]"

    def values(self) -> dict[str, Any]:
        return {r["name"]: r["value"] for r in self.results}

    def scored(self) -> dict[str, Any]:
        """Everything a replay must reproduce: status and every evaluator value."""
        return {"status": self.status, **self.values()}


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(cases: list[CaseResult]) -> dict[str, Any]:
    """The summary of one stage's cases (see the module docstring)."""
    scored = [c for c in cases if c.status != "broken"]
    passed = sum(c.status == "passed" for c in scored)
    by_name: dict[str, list[float]] = defaultdict(list)
    for case in scored:
        for result in case.results:
            value = result["value"]
            if isinstance(value, (bool, int, float)):
                by_name[result["name"]].append(float(value))
    quality = [c.figures.quality_score for c in scored if c.figures.quality_score is not None]
    distribution = dict.fromkeys(BUCKETS, 0)
    for score in quality:
        distribution[BUCKETS[min(int(score * 5), 4)]] += 1
    latency = [c.figures.latency_s for c in scored]
    costs = [c.figures.cost_usd for c in scored if c.figures.cost_usd is not None]
    reasons: dict[str, int] = defaultdict(int)
    for case in scored:
        reasons[case.figures.stop_reason or "-"] += 1
    return {
        "cases": len(cases), "scored": len(scored), "passed": passed,
        "failed": len(scored) - passed, "broken": len(cases) - len(scored),
        "pass_rate": passed / len(scored) if scored else None,
        "metrics": {name: round(sum(v) / len(v), 6) for name, v in sorted(by_name.items())},
        "quality_score": {"mean": _mean(quality), "distribution": distribution},
        "iterations_mean": _mean([float(c.figures.iterations) for c in scored]),
        "stop_reasons": dict(sorted(reasons.items())),
        "tokens": {"input": sum(c.figures.input_tokens for c in scored),
                   "output": sum(c.figures.output_tokens for c in scored)},
        "cost_usd": sum(costs) if costs else None,
        "latency_s": {"p50": percentile(latency, 0.5), "p95": percentile(latency, 0.95)},
        "failures": [{"case": c.key, "status": c.status, "reason": c.reason}
                     for c in cases if c.status != "passed"],
    }


class EvalReport(BaseModel):
    name: str = "eval"
    dataset: str = ""
    model: str = ""
    stage: str = ""
    partial: bool = False
    planned: int = 0
    started_at: str = ""
    duration_s: float = 0.0
    settings: dict[str, Any] = Field(default_factory=dict)
    cases: list[CaseResult] = Field(default_factory=list)

    # --- figures -------------------------------------------------------------------
    def stages(self) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[CaseResult]] = defaultdict(list)
        for case in self.cases:
            grouped[case.stage].append(case)
        return {stage: summarise(cases) for stage, cases in sorted(grouped.items())}

    @property
    def pass_rate(self) -> float | None:
        return summarise(self.cases)["pass_rate"]

    def metric(self, name: str) -> float | None:
        """The mean of an evaluator result over the scored cases; `pass_rate` too."""
        if name == "pass_rate":
            return self.pass_rate
        return summarise(self.cases)["metrics"].get(name)

    # --- files ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["summary"] = {"overall": summarise(self.cases), "stages": self.stages()}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "EvalReport":
        from .errors import EvalError

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EvalError(f"{path}: not an eval report JSON file: {exc}") from exc
        # every field has a default, so any object would pass: a report lists its cases
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            what = ("`cases` is not a list" if "cases" in data else "no `cases`") \
                if isinstance(data, dict) else f"a JSON {_JSON_KINDS.get(type(data), 'value')}"
            raise EvalError(f"{path}: not an eval report JSON file ({what}; a report is an "
                            "object with a list of `cases`)")
        data.pop("summary", None)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            raise EvalError(f"{path}: not an eval report JSON file: {where}: "
                            f"{error['msg']}") from None

    # --- views ---------------------------------------------------------------------
    def _rows(self) -> list[list[str]]:
        rows = []
        for stage, s in self.stages().items():
            lat = s["latency_s"]
            rows.append([stage, str(s["cases"]), _pct(s["pass_rate"]), str(s["broken"]),
                         _num(s["quality_score"]["mean"]), _num(s["iterations_mean"], 1),
                         str(s["tokens"]["input"] + s["tokens"]["output"]),
                         "-" if s["cost_usd"] is None else f"${s['cost_usd']:.4f}",
                         _num(lat["p50"], 3), _num(lat["p95"], 3)])
        return rows

    HEADER: ClassVar[list[str]] = ["stage", "cases", "pass", "broken", "quality", "iter", "tokens", "cost",
              "p50 s", "p95 s"]

    def table(self) -> str:
        """A plain-text table for the terminal, metrics and failures below it."""
        rows = [self.HEADER, *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER))]
        lines = [self._title()]
        for number, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
            if number == 0:
                lines.append("  ".join("-" * w for w in widths))
        for stage, s in self.stages().items():
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in s["metrics"].items())
            lines.append(f"{stage} metrics: {metrics or '-'}")
            for failure in s["failures"][:20]:
                lines.append(f"  {failure['status'].upper():6} {failure['case']}: "
                             f"{(failure['reason'] or '')[:160]}")
        return "\n".join(lines)

    def _title(self) -> str:
        partial = f"  PARTIAL: {len(self.cases)} of {self.planned} cases" if self.partial else ""
        return f"eval {self.name} ({self.dataset}) model {self.model or '-'}{partial}"

    def to_markdown(self) -> str:
        lines = [f"# {self._title()}", "", "| " + " | ".join(self.HEADER) + " |",
                 "|" + "---|" * len(self.HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in self._rows()]
        for stage, s in self.stages().items():
            lines += ["", f"## {stage}", "", "| metric | mean |", "|---|---|"]
            lines += [f"| {k} | {v:.3f} |" for k, v in s["metrics"].items()]
            dist = s["quality_score"]["distribution"]
            lines += ["", "Quality scores: " + ", ".join(f"{k}: {v}" for k, v in dist.items())]
            if s["failures"]:
                lines += ["", "| case | status | reason |", "|---|---|---|"]
                lines += [f"| {f['case']} | {f['status']} | "
                          f"{(f['reason'] or '').replace('|', '/')[:200]} |" for f in s["failures"]]
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        """A notebook shows the report as a table."""
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.HEADER)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                       for row in self._rows())
        cases = "".join(
            f"<tr><td>{esc(c.key)}</td><td>{esc(c.stage)}</td><td>{esc(c.status)}</td>"
            f"<td>{esc((c.reason or '')[:200])}</td></tr>" for c in self.cases)
        return (f"<div><p><b>{esc(self._title())}</b></p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table><details><summary>cases</summary><table>"
                f"<tr><th>case</th><th>stage</th><th>status</th><th>reason</th></tr>{cases}"
                "</table></details></div>")

    def __str__(self) -> str:
        return self.table()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
