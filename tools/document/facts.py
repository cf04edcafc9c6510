"""Facts: every figure a paragraph may truthfully quote from a result set.

Values, totals, averages, counts, shares of total, growth first -> last, per-year and
per-quarter totals with year-over-year growth, and - for the labels a sentence names -
differences, growth and ratios between them. Each fact carries the labels it is about,
so "Electronics had 12.5%" can be checked against Electronics, not any 12.5% in the data.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import permutations
from typing import Any

from ..chart.analysis import analyze, column_values, is_number, order_key
from ..chart.spec import humanize
from ..results import QueryResult

_PERCENT_NAME = re.compile(r"(pct|percent|share|rate|ratio|margin)", re.I)
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")
_QUARTER_KEY = re.compile(r"^(?:(?P<y>\d{4})[- ]?Q(?P<q>[1-4])|Q(?P<q2>[1-4])[- ]?(?P<y2>\d{4}))$", re.I)


@dataclass(frozen=True)
class Fact:
    value: float
    description: str
    percent: bool = False
    labels: frozenset[str] = frozenset()
    #: for a fact about no label (a total, an average): words a sentence uses to quote it
    cue: str = ""
    #: "up 12%" with the period before left unsaid: void when the sentence names another period
    implied: bool = False
    #: an extremum quoted without its label ("the lowest revenue was 40,120"): only then
    unattached: bool = False
    #: a change over time: "fell" must not quote a rise
    change: bool = False


TOTAL_CUE = r"\b(total|overall|combined|together|altogether|all|sum|whole|entire|across|aggregate)"
AVERAGE_CUE = r"\b(average|mean|per|typical|avg)"
REST_CUE = r"\b(other|others|rest|remaining|remainder|except|excluding|but|outside|non-)"
HIGH_CUE = r"\b(highest|largest|biggest|strongest|best|top|peak\w*|most|maximum|record|led|leading)"
LOW_CUE = r"\b(lowest|smallest|weakest|worst|least|fewest|bottom\w*|minimum|trough)"
RISE_CUE = r"\b(rose|rise|rising|grew|grow|growth|increase\w*|gain\w*|up|higher|climb\w*)"
FALL_CUE = r"\b(fell|fall|falling|declin\w*|decrease\w*|drop\w*|down|lower|dip\w*)"
RANGE_CUE = r"\b(range|spread|gap|between|difference|apart)"


@dataclass
class DataModel:
    """The result read for prose: measures, the label column, periods, and global facts."""

    result: QueryResult
    measures: list[str]
    label_column: str | None
    time_column: str | None
    #: measure -> {label or period key: value} (summed over the other dimensions)
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    #: lower-cased label -> label as in the data
    labels: dict[str, str] = field(default_factory=dict)
    periods: set[str] = field(default_factory=set)
    facts: list[Fact] = field(default_factory=list)
    #: per row: the keys it is about (period key and labels of every dimension) and its measures
    cells: list[tuple[frozenset[str], dict[str, float]]] = field(default_factory=list)
    #: label or period key -> the dimension (column) it belongs to
    dimension_of: dict[str, str] = field(default_factory=dict)

    @cached_property
    def attachable(self) -> frozenset[str]:
        """Keys a figure can be about: labels and periods of the data (not a query's filter)."""
        return frozenset(set(self.labels.values()) | self.periods | set(self.dimension_of))

    @cached_property
    def grouped(self) -> dict[tuple[str, str, tuple[str, ...]], dict[str, float]]:
        """A cache for `rankings.group_values` (one model, many rank words)."""
        return {}

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every row key and the coarser periods they lie in (what can be ranked)."""
        keys = {k for row, _ in self.cells for k in row}
        return frozenset(keys | {p for k in keys if k in self.periods for p in coarser_periods(k)})

    @cached_property
    def _by_size(self) -> tuple[list[float], list[Fact]]:
        ordered = sorted(self.facts, key=lambda f: abs(f.value))
        return [abs(f.value) for f in ordered], ordered

    def facts_near(self, size: float, tolerance: float) -> list[Fact]:
        """The facts whose absolute value lies within `tolerance` of `size` (bisected)."""
        sizes, ordered = self._by_size
        return ordered[bisect_left(sizes, size - tolerance):bisect_right(sizes, size + tolerance)]


def period_key(value: Any, days: bool = False) -> str | None:
    """The period a cell names: "2024-03" for a month (or a day, unless `days`), "2024" for a year."""
    if isinstance(value, int) and 1000 <= value <= 3000:
        return str(value)
    if isinstance(value, str):
        m = _MONTH_KEY.match(value.strip())
        if m:
            if days and m.group(3):
                return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
            return f"{m.group(1)}-{m.group(2)}"
        if re.fullmatch(r"\d{4}", value.strip()):
            return value.strip()
        q = _QUARTER_KEY.match(value.strip())
        if q:
            return f"{q.group('y') or q.group('y2')}-Q{q.group('q') or q.group('q2')}"
    return None


def _quarter(month_key: str) -> str:
    year, month = month_key.split("-")[:2]
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


@lru_cache(maxsize=4096)
def coarser_periods(key: str) -> frozenset[str]:
    """The month, quarter and year a period key lies in (itself excluded)."""
    if key.startswith("*"):  # a month without its year lies in a quarter without one
        return frozenset({_quarter(key)}) if len(key) == 4 and "Q" not in key else frozenset()
    out = set()
    if len(key) == 10:
        out.add(key[:7])
    if len(key) in (7, 10) and "Q" not in key:
        out.add(_quarter(key))
    if len(key) > 4:
        out.add(key[:4])
    return frozenset(out)


def measure_name(measure: str) -> str:
    return humanize(measure).lower()


def _growth(a: float, b: float) -> float | None:
    return (b - a) / abs(a) * 100 if a else None


def _daily(values: list[Any]) -> bool:
    """True when rows are days: two rows share a month but not a day."""
    seen: dict[str, set[str]] = {}
    for v in values:
        m = _MONTH_KEY.match(str(v).strip()) if isinstance(v, str) else None
        if m and m.group(3):
            seen.setdefault(m.group(1) + m.group(2), set()).add(m.group(3))
    return any(len(days) > 1 for days in seen.values())


def _period_column(result: QueryResult, analysis: dict[str, Any]) -> str | None:
    """A text column of years or quarters ("2021", "2024-Q3") orders the rows in time too."""
    for name in analysis["nominal"] + analysis["ordinal"]:
        values = [v for v in column_values(result, name) if v is not None]
        if values and all(isinstance(v, str) and period_key(v) == v.strip().upper().replace(" ", "-")
                          for v in values):
            return name
    return None


_YEAR_NAME = re.compile(r"(^|_)(year|yr|yyyy)s?($|_)", re.I)
_PART_NAME = {"month": re.compile(r"(^|_)(month|mon|mm)s?($|_)", re.I),
              "quarter": re.compile(r"(^|_)(quarter|qtr|q)s?($|_)", re.I)}
_PART_RANGE = {"month": 12, "quarter": 4}


def _int_cell(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def calendar_parts(result: QueryResult) -> tuple[str, list[str]] | None:
    """A month or quarter number column (with a year column beside it, if any) read as
    periods: (column, "2024-03" / "*-03" per row), or None."""
    names = [re.sub(r"(?<=[a-z])(?=[A-Z])", "_", n) for n in result.column_names]
    year = next((c for c, n in zip(result.column_names, names) if _YEAR_NAME.search(n) and all(
        (i := _int_cell(v)) is not None and 1000 <= i <= 3000
        for v in column_values(result, c))), None)
    for part, pattern in _PART_NAME.items():
        for column, name in zip(result.column_names, names):
            cells = [_int_cell(v) for v in column_values(result, column)]
            if pattern.search(name) and cells and all(
                    c is not None and 1 <= c <= _PART_RANGE[part] for c in cells):
                years = column_values(result, year) if year else ["*"] * len(cells)
                fmt = "{}-{:02d}" if part == "month" else "{}-Q{}"
                return column, [fmt.format(str(y).strip(), c) for y, c in zip(years, cells)]
    return None


def _row_keys(result: QueryResult, when: str | None, dims: list[str],
              time_keys: list[str] | None = None) -> list[frozenset[str]]:
    days = bool(when) and _daily(column_values(result, when))  # type: ignore[arg-type]
    columns = [(d, column_values(result, d)) for d in dims]
    keys = []
    for i in range(len(result.rows)):
        row: set[str] = set()
        for d, vals in columns:
            v = vals[i]
            if d == when and time_keys is not None:
                key: str | None = time_keys[i]
            else:
                key = period_key(v, days) if d == when else ("(missing)" if v is None else str(v))
            if key:
                row.add(key)
        keys.append(frozenset(row))
    return keys


def build_model(result: QueryResult) -> DataModel:
    """Read `result` once: which columns are measures and labels, and the global facts."""
    analysis = analyze(result)
    measures = analysis["quantitative"]
    parts = calendar_parts(result)
    when = parts[0] if parts else analysis.get("time_column") or _period_column(result, analysis)
    year_column = next((c for c in result.column_names if parts and c != when
                        and _YEAR_NAME.search(c) and c in analysis["ordinal"]), None)
    others = [c for c in analysis["nominal"] + analysis["ordinal"] if c not in (when, year_column)]
    measures = [m for m in measures if m not in (when, year_column)]
    label = when or next(iter(others), None)
    dims = ([when] if when else []) + others[:2]
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
    row_keys = _row_keys(result, when, dims, parts[1] if parts else None)
    if not when and label and None in column_values(result, label):
        model.labels["(missing)"] = "(missing)"
    primary = [_primary(model, k, when, others) for k in row_keys]
    if when:
        model.periods = {k for k in primary if k}
        for k in list(model.periods):
            model.periods |= coarser_periods(k)
        kinds = {"years": lambda p: len(p) == 4, "quarters": lambda p: "Q" in p,
                 "months": lambda p: len(p) == 7 and "Q" not in p}
        for unit, is_kind in kinds.items():  # "over 2 years", "in 8 quarters"
            count = sum(1 for p in model.periods if is_kind(p) and not p.startswith("*"))
            if count:
                facts.append(Fact(count, f"the number of {unit} covered"))
    for d in dims:
        for v, keys in zip(column_values(result, d), row_keys):
            for k in keys:
                if d != when and k in (str(v), "(missing)"):
                    model.dimension_of.setdefault(k, d)
    model.cells = [(k, {}) for k in row_keys]
    for m in measures:
        _measure_facts(model, m, row_keys, primary, bool(when))
    if len(measures) > 1:
        model.facts += ratio_facts(model)
    return model


def _primary(model: DataModel, keys: frozenset[str], when: str | None,
             others: list[str]) -> str | None:
    """The key of a row's main dimension (the period, else the first label column)."""
    for k in keys:
        if when and (period_key(k, True) == k or k.startswith("*-")):
            return k
    if not when:
        for k in keys:
            return k
    return None


def _measure_facts(model: DataModel, m: str, row_keys: list[frozenset[str]],
                   primary: list[str | None], timed: bool) -> None:
    facts = model.facts
    name = measure_name(m)
    column = column_values(model.result, m)
    for (keys, row), v in zip(model.cells, column):
        if is_number(v):
            row[m] = v
    cells = [(k, v) for k, v in zip(primary, column) if is_number(v)]
    labelled = [(keys, v) for keys, v in zip(row_keys, column) if is_number(v)]
    model.values[m] = {}
    for k, v in cells:
        if k is not None:
            model.values[m][k] = model.values[m].get(k, 0.0) + v
    multi = len(cells) != len(model.values[m])
    if _PERCENT_NAME.search(m):
        scale = 100.0 if all(abs(v) <= 1 for _, v in cells) else 1.0
        facts.extend(Fact(v * scale, f"the {name} of {_about(keys)}", True, keys)
                     for keys, v in labelled)
    facts.extend(Fact(v, f"the {name} of {_about(keys)}", False, keys) for keys, v in labelled)
    if not cells:
        return
    if multi:  # several rows per key: each key's total is a fact too
        facts.extend(Fact(v, f"the total {name} of {k}", False, frozenset({k}))
                     for k, v in model.values[m].items())
    nums = [v for _, v in cells]
    total = sum(nums)
    facts += [Fact(total, f"the total {name}", cue=TOTAL_CUE),
              Fact(total / len(nums), f"the average {name}", cue=AVERAGE_CUE),
              Fact(max(nums) - min(nums), f"the range of {name} (max - min)", cue=RANGE_CUE),
              Fact(max(nums), f"the highest {name}", cue=HIGH_CUE, unattached=True),
              Fact(min(nums), f"the lowest {name}", cue=LOW_CUE, unattached=True)]
    series = list(model.values[m].items())
    additive = total > 0 and all(v >= 0 for v in nums) and not _PERCENT_NAME.search(m)
    if timed:
        facts += _time_facts(name, series)
        if additive:  # "December brought 17% of the year", "Q4 accounted for 41%"
            facts += _period_shares(name, series, total)
    elif additive:
        facts += _share_facts(name, series, total)


def _about(keys: frozenset[str]) -> str:
    return " / ".join(sorted(keys)) or "a row"


def _period_shares(name: str, series: list[tuple[str, float]], total: float) -> list[Fact]:
    """Each period's and each coarser period's share of the whole span."""
    groups: dict[str, float] = {}
    for k, v in series:
        for g in {k} | coarser_periods(k):
            groups[g] = groups.get(g, 0.0) + v
    return [Fact(v / total * 100, f"the share of {g} in total {name}", True, frozenset({g}))
            for g, v in groups.items() if v != total]


def ratio_facts(model: DataModel) -> list[Fact]:
    """Per row, one measure per unit of another ("455.66 per unit", "1,616.89 per order")."""
    facts = []
    for keys, row in model.cells:
        for a, b in permutations([m for m in model.measures if m in row], 2):
            if row[b]:
                facts.append(Fact(row[a] / row[b], f"the {measure_name(a)} per "
                                  f"{measure_name(b)} of {_about(keys)}", False, keys,
                                  cue=AVERAGE_CUE + r"|\beach\b"))
    return facts


def _share_facts(name: str, cells: list[tuple[str, float]], total: float) -> list[Fact]:
    facts = []
    ranked = sorted(cells, key=lambda kv: kv[1], reverse=True)
    for k, v in cells:
        facts.append(Fact(v / total * 100, f"the share of {k} in total {name}", True, frozenset({k})))
        if len(cells) < 3:
            continue  # with two labels, "everything but A" is B: not a figure of A
        facts.append(Fact(total - v, f"the total {name} of everything but {k}", False,
                          frozenset({k}), cue=REST_CUE))
        facts.append(Fact(100 - v / total * 100, f"the share of everything but {k}", True,
                          frozenset({k}), cue=REST_CUE))
    running = 0.0
    for i, (_, v) in enumerate(ranked[:5], start=1):
        running += v
        if i >= 2:
            facts.append(Fact(running / total * 100, f"the combined share of the top {i}", True,
                              cue=TOTAL_CUE + r"|\btop\b"))
            facts.append(Fact(running, f"the combined {name} of the top {i}",
                              cue=TOTAL_CUE + r"|\btop\b"))
    return facts


def _time_facts(name: str, cells: list[tuple[str, float]]) -> list[Fact]:
    series = sorted(((k, v) for k, v in cells if k), key=lambda kv: order_key(kv[0]))
    facts: list[Fact] = []
    if len(series) >= 2:
        (k0, v0), (k1, v1) = series[0], series[-1]
        g = _growth(v0, v1)
        if g is not None:
            facts.append(Fact(g, f"the change in {name} from {k0} to {k1}", True, frozenset({k0, k1}),
                              change=True))
        facts.append(Fact(v1 - v0, f"the difference in {name} from {k0} to {k1}", False,
                          frozenset({k0, k1}), change=True))
    steps = list(zip(series, series[1:]))
    if steps:
        facts += [Fact(sum(b > a for (_, a), (_, b) in steps), "the number of rises",
                       cue=RISE_CUE),
                  Fact(sum(b < a for (_, a), (_, b) in steps), "the number of falls",
                       cue=FALL_CUE),
                  Fact(len(steps), "the number of period-to-period changes",
                       cue=RISE_CUE + "|" + FALL_CUE)]
    for (ka, va), (kb, vb) in steps:  # "up 12%": on the period before
        g = _growth(va, vb)
        if g is not None:
            facts.append(Fact(g, f"the change in {name} from {ka} to {kb}", True, frozenset({kb}),
                              implied=True, change=True))
        facts.append(Fact(vb - va, f"the difference in {name} from {ka} to {kb}", False,
                          frozenset({kb}), implied=True, change=True))
    for level in ("year", "quarter", "month"):
        groups: dict[str, list[float]] = {}
        for k, v in series:
            g_key = _group_key(k, level)
            if g_key:
                groups.setdefault(g_key, []).append(v)
        if not groups or len(groups) == len(series):
            continue  # one row per group: the values themselves already are the facts
        facts += _group_facts(name, sorted(groups.items()))
    return facts


def _group_key(key: str, level: str) -> str | None:
    """The year / quarter / month a period key lies in, if it is finer than that."""
    if key.startswith("*"):
        return None
    if level == "year":
        return key[:4] if len(key) > 4 else None
    if level == "quarter":
        return _quarter(key) if len(key) in (7, 10) and "Q" not in key else None
    return key[:7] if len(key) == 10 else None


def _group_facts(name: str, ordered: list[tuple[str, list[float]]]) -> list[Fact]:
    facts = []
    for g_key, vals in ordered:
        about = frozenset({g_key})
        facts += [Fact(sum(vals), f"the total {name} in {g_key}", False, about),
                  Fact(sum(vals) / len(vals), f"the average {name} per period in {g_key}",
                       False, about),
                  Fact(len(vals), f"the number of periods in {g_key}", False, about),
                  Fact(max(vals), f"the highest {name} in {g_key}", False, about),
                  Fact(min(vals), f"the lowest {name} in {g_key}", False, about)]
    for (ka, va), (kb, vb) in zip(ordered, ordered[1:]):
        a, b = sum(va), sum(vb)
        g = _growth(a, b)
        for labels, implied in ((frozenset({ka, kb}), False), (frozenset({kb}), True)):
            if g is not None:
                facts.append(Fact(g, f"the change in total {name} from {ka} to {kb}", True,
                                  labels, implied=implied, change=True))
            facts.append(Fact(b - a, f"the difference in total {name} from {ka} to {kb}",
                              False, labels, implied=implied, change=True))
    return facts


def pair_facts(model: DataModel, mentioned: set[str]) -> list[Fact]:
    """Differences, growth and ratios between the labels one sentence names."""
    facts = []
    for m in model.measures:
        name = measure_name(m)
        values = model.values.get(m, {})
        present = [k for k in mentioned if k in values]
        percent = bool(_PERCENT_NAME.search(m))
        total = sum(values.values())
        for a, b in permutations(present, 2):
            timed = a in model.periods and b in model.periods
            if timed and order_key(b) < order_key(a):
                continue  # a change over time runs from the earlier period to the later
            va, vb = values[a], values[b]
            pair = frozenset({a, b})
            facts.append(Fact(vb - va, f"the difference in {name} between {a} and {b}",
                              percent, pair))
            if not percent and total > 0 and all(v >= 0 for v in values.values()):
                facts.append(Fact((vb - va) / total * 100, f"the difference in share of "
                                  f"{name} between {a} and {b}", True, pair))
                facts.append(Fact(va + vb, f"the combined {name} of {a} and {b}", False, pair))
            g = _growth(va, vb)
            if g is not None:
                facts.append(Fact(g, f"the change in {name} from {a} to {b}", True, pair,
                                  change=timed))
            if va:
                facts.append(Fact(vb / va, f"the ratio of {name} of {b} to {a}", False, pair))
        if len(present) >= 3 and not percent:  # "A, B and C together brought X"
            facts.append(Fact(sum(values[k] for k in present), f"the combined {name} of "
                              f"{', '.join(sorted(present))}", False, frozenset(present),
                              cue=TOTAL_CUE + r"|\b(jointly|between them)"))
    return facts
