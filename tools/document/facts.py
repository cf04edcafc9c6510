"""Facts: every figure a paragraph may truthfully quote from a result set.

Values, totals, averages, counts, shares of total, growth first -> last, per-year and
per-quarter totals with year-over-year growth, and - for the labels a sentence names -
differences, growth and ratios between them. Each fact carries the labels it is about,
so "Electronics had 12.5%" can be checked against Electronics, not any 12.5% in the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

from ..chart.analysis import analyze, column_values, is_number, order_key
from ..chart.spec import humanize
from ..results import QueryResult

_PERCENT_NAME = re.compile(r"(pct|percent|share|rate|ratio|margin)", re.I)
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Fact:
    value: float
    description: str
    percent: bool = False
    labels: frozenset[str] = frozenset()


@dataclass
class DataModel:
    """The result read for prose: measures, the label column, periods, and global facts."""

    result: QueryResult
    measures: list[str]
    label_column: str | None
    time_column: str | None
    #: measure -> {label or period key: value}
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    #: lower-cased label -> label as in the data
    labels: dict[str, str] = field(default_factory=dict)
    periods: set[str] = field(default_factory=set)
    facts: list[Fact] = field(default_factory=list)


def period_key(value: Any) -> str | None:
    """The period a cell names: "2024-03" for a month or day, "2024" for a year."""
    if isinstance(value, int) and 1000 <= value <= 3000:
        return str(value)
    if isinstance(value, str):
        m = _MONTH_KEY.match(value.strip())
        if m:
            return f"{m.group(1)}-{m.group(2)}"
        if re.fullmatch(r"\d{4}", value.strip()):
            return value.strip()
    return None


def _quarter(month_key: str) -> str:
    year, month = month_key.split("-")
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


def measure_name(measure: str) -> str:
    return humanize(measure).lower()


def _growth(a: float, b: float) -> float | None:
    return (b - a) / abs(a) * 100 if a else None


def build_model(result: QueryResult) -> DataModel:
    """Read `result` once: which columns are measures and labels, and the global facts."""
    analysis = analyze(result)
    measures = analysis["quantitative"]
    when = analysis.get("time_column")
    label = when or next(iter(analysis["nominal"] + analysis["ordinal"]), None)
    model = DataModel(result, measures, label, when)
    facts = model.facts
    n = len(result.rows)
    facts.append(Fact(n, "the number of rows"))
    for col in analysis["columns"]:
        facts.append(Fact(col["cardinality"], f"the number of distinct {col['name']} values"))
    for col in analysis["nominal"] + analysis["ordinal"]:
        for v in column_values(result, col):
            if v is not None:
                model.labels[str(v).lower()] = str(v)
    labels = column_values(result, label) if label else [None] * n
    if not when and None in labels:
        model.labels["(missing)"] = "(missing)"
    keys = [period_key(v) if when else ("(missing)" if v is None else str(v)) for v in labels]
    if when:
        model.periods = {k for k in keys if k}
        model.periods |= {k[:4] for k in model.periods} | {_quarter(k) for k in model.periods if len(k) == 7}
    for m in measures:
        name = measure_name(m)
        cells = [(k, v) for k, v in zip(keys, column_values(result, m)) if is_number(v)]
        model.values[m] = {k: v for k, v in cells if k is not None}
        if _PERCENT_NAME.search(m):
            scale = 100.0 if all(abs(v) <= 1 for _, v in cells) else 1.0
            facts.extend(Fact(v * scale, f"the {name} of {k}", True, frozenset({k or ""}))
                         for k, v in cells)
        facts.extend(Fact(v, f"the {name} of {k}", False, frozenset({k} if k else ()))
                     for k, v in cells)
        if not cells:
            continue
        nums = [v for _, v in cells]
        total = sum(nums)
        facts += [Fact(total, f"the total {name}"), Fact(total / len(nums), f"the average {name}"),
                  Fact(max(nums) - min(nums), f"the range of {name} (max - min)")]
        if when:
            facts += _time_facts(name, cells)
        elif total > 0 and all(v >= 0 for v in nums):
            facts += _share_facts(name, cells, total)
    return model


def _share_facts(name: str, cells: list[tuple[str | None, float]], total: float) -> list[Fact]:
    facts = []
    ranked = sorted(cells, key=lambda kv: kv[1], reverse=True)
    for k, v in cells:
        if k is None:
            continue
        facts.append(Fact(v / total * 100, f"the share of {k} in total {name}", True, frozenset({k})))
        facts.append(Fact(total - v, f"the total {name} of everything but {k}", False, frozenset({k})))
        facts.append(Fact(100 - v / total * 100, f"the share of everything but {k}", True, frozenset({k})))
    running = 0.0
    for i, (_, v) in enumerate(ranked[:5], start=1):
        running += v
        if i >= 2:
            facts.append(Fact(running / total * 100, f"the combined share of the top {i}", True))
            facts.append(Fact(running, f"the combined {name} of the top {i}"))
    return facts


def _time_facts(name: str, cells: list[tuple[str | None, float]]) -> list[Fact]:
    series = sorted(((k, v) for k, v in cells if k), key=lambda kv: order_key(kv[0]))
    facts: list[Fact] = []
    if len(series) >= 2:
        (k0, v0), (k1, v1) = series[0], series[-1]
        g = _growth(v0, v1)
        if g is not None:
            facts.append(Fact(g, f"the change in {name} from {k0} to {k1}", True, frozenset({k0, k1})))
        facts.append(Fact(v1 - v0, f"the difference in {name} from {k0} to {k1}", False,
                          frozenset({k0, k1})))
    for width, key_of in ((4, lambda k: k[:4]), (7, _quarter)):
        if width == 7 and not all(len(k) == 7 for k, _ in series):
            continue
        groups: dict[str, list[float]] = {}
        for k, v in series:
            groups.setdefault(key_of(k), []).append(v)
        if len(groups) == len(series):
            continue  # one row per group: the values themselves already are the facts
        ordered = sorted(groups.items())
        for g_key, vals in ordered:
            facts.append(Fact(sum(vals), f"the total {name} in {g_key}", False, frozenset({g_key})))
            facts.append(Fact(sum(vals) / len(vals), f"the average {name} per period in {g_key}",
                              False, frozenset({g_key})))
            facts.append(Fact(len(vals), f"the number of periods in {g_key}", False,
                              frozenset({g_key})))
        for (ka, va), (kb, vb) in zip(ordered, ordered[1:]):
            a, b = sum(va), sum(vb)
            g = _growth(a, b)
            if g is not None:
                facts.append(Fact(g, f"the change in total {name} from {ka} to {kb}", True,
                                  frozenset({ka, kb})))
            facts.append(Fact(b - a, f"the difference in total {name} from {ka} to {kb}",
                              False, frozenset({ka, kb})))
    return facts


def pair_facts(model: DataModel, mentioned: set[str]) -> list[Fact]:
    """Differences, growth and ratios between the labels one sentence names."""
    facts = []
    for m in model.measures:
        name = measure_name(m)
        values = model.values.get(m, {})
        present = [k for k in mentioned if k in values]
        for a, b in permutations(present, 2):
            va, vb = values[a], values[b]
            pair = frozenset({a, b})
            facts.append(Fact(vb - va, f"the difference in {name} between {a} and {b}", False, pair))
            g = _growth(va, vb)
            if g is not None:
                facts.append(Fact(g, f"the change in {name} from {a} to {b}", True, pair))
            if va:
                facts.append(Fact(vb / va, f"the ratio of {name} of {b} to {a}", False, pair))
    return facts
