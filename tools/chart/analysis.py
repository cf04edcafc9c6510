"""Data analysis: what each result column *is* before anyone picks a chart.

A column's database kind is not enough: SQLite hands dates back as strings and a `year`
column is an integer that should be read as an ordered category, not a measure to sum.
So roles come from the kind *and* the values (and, for ids and calendar parts, the name).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Literal

from ..results import ColumnInfo, QueryResult

Role = Literal["temporal", "quantitative", "nominal", "ordinal"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_QUARTER = re.compile(r"^(\d{4}[- ]?Q[1-4]|Q[1-4][- ]?\d{4})$", re.I)
_ID_NAME = re.compile(r"(^id$|_id$|^id_)", re.I)
_CALENDAR = {"year": (1000, 3000), "month": (1, 12), "quarter": (1, 4), "week": (1, 53),
             "day": (1, 31), "weekday": (0, 7), "dow": (0, 7), "hour": (0, 23)}
_CALENDAR_NAME = re.compile(r"(^|_)(" + "|".join(_CALENDAR) + r")s?($|_)", re.I)


def is_number(value: Any) -> bool:
    """A finite int/float that is not a bool (bools are categories, not measures)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def is_iso_temporal(value: Any) -> bool:
    """ISO date / year-month / datetime strings (how drivers return dates as text)."""
    if isinstance(value, (date, datetime)):
        return True
    return isinstance(value, str) and bool(_ISO_DATE.match(value.strip()))


def column_values(result: QueryResult, name: str) -> list[Any]:
    """All values of one column (None included), in row order."""
    index = result.column_names.index(name)
    return [row[index] if index < len(row) else None for row in result.rows]


def _calendar_part(name: str, values: list[Any]) -> bool:
    """Integer calendar parts (year 2023, month 1..12) are ordered categories."""
    m = _CALENDAR_NAME.search(name)
    if not m or not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return False
    low, high = _CALENDAR[m.group(2).lower()]
    return all(low <= v <= high for v in values)


def infer_role(column: ColumnInfo, values: list[Any]) -> Role:
    """The encoding role of a column, from its kind, its name and its non-null values."""
    present = [v for v in values if v is not None]
    if column.kind in ("date", "datetime"):
        return "temporal"
    if present and all(is_iso_temporal(v) for v in present):
        return "temporal"
    if present and all(isinstance(v, str) and _QUARTER.match(v.strip()) for v in present):
        return "ordinal"
    numeric = present and all(is_number(v) for v in present)
    if column.kind in ("integer", "number") or (column.kind == "other" and numeric):
        if _calendar_part(column.name, present):
            return "ordinal"
        if _ID_NAME.search(column.name):
            return "nominal"
        return "quantitative" if (numeric or not present) else "nominal"
    return "nominal"


def order_key(value: Any) -> tuple[int, Any]:
    """Sort key for mixed cells: numbers by value (month 2 before 10), others as text."""
    return (0, value) if is_number(value) else (1, str(value))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def trend(values: list[float]) -> dict[str, Any]:
    """Least-squares slope sign and first-to-last change of a series in time order."""
    points = [(i, v) for i, v in enumerate(values) if is_number(v)]
    if len(points) < 2:
        return {"direction": "flat", "slope": 0.0, "change_pct": None, "points": len(points)}
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx if sxx else 0.0
    first, last = points[0][1], points[-1][1]
    change = (last - first) / abs(first) * 100 if first else None
    # flat = the fitted line moves less than 1% of the mean level over the whole window
    span = abs(slope) * (points[-1][0] - points[0][0])
    flat = mean_y == 0 and slope == 0 or (mean_y != 0 and span < abs(mean_y) * 0.01)
    return {"direction": "flat" if flat else ("up" if slope > 0 else "down"),
            "slope": _round(slope), "first": first, "last": last,
            "change_pct": None if change is None else round(change, 2), "points": n}


def _profile(column: ColumnInfo, values: list[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    role = infer_role(column, values)
    distinct = {repr(v) for v in present}
    profile: dict[str, Any] = {
        "name": column.name, "kind": column.kind, "role": role,
        "cardinality": len(distinct), "nulls": len(values) - len(present),
    }
    if role == "quantitative":
        nums = [v for v in present if is_number(v)]
        if nums:
            profile.update(min=min(nums), max=max(nums), sum=_round(sum(nums)),
                           mean=_round(sum(nums) / len(nums)),
                           negative=any(v < 0 for v in nums))
    elif role in ("temporal", "ordinal") and present:
        ordered = sorted(present, key=order_key)
        profile.update(min=ordered[0], max=ordered[-1])
    if role in ("nominal", "ordinal") and present:
        labels = [str(v) for v in present]
        profile["max_label_length"] = max(len(s) for s in labels)
        profile["sample"] = list(dict.fromkeys(labels))[:5]
    return profile


def time_column(analysis: dict[str, Any]) -> str | None:
    """The column that orders the rows in time: temporal first, then a calendar ordinal."""
    for role in ("temporal", "ordinal"):
        for col in analysis["columns"]:
            if col["role"] == role and (role == "temporal" or _CALENDAR_NAME.search(col["name"])
                                        or _QUARTER.match(str(col.get("min", "")))):
                return col["name"]
    return None


def analyze(result: QueryResult) -> dict[str, Any]:
    """JSON-safe profile of a result: per-column role/cardinality/nulls, and trends."""
    columns = [_profile(c, column_values(result, c.name)) for c in result.columns]
    analysis: dict[str, Any] = {
        "row_count": len(result.rows),
        "truncated": result.truncated,
        "columns": columns,
        **{role: [c["name"] for c in columns if c["role"] == role]
           for role in ("temporal", "quantitative", "nominal", "ordinal")},
    }
    notes: list[str] = []
    if not result.rows:
        notes.append("The result is empty: there is nothing to plot or describe.")
    elif not analysis["quantitative"]:
        notes.append("No quantitative column: there is no measure to plot; show a table.")
    when = time_column(analysis)
    analysis["time_column"] = when
    trends: dict[str, Any] = {}
    if when and result.rows:
        keys = column_values(result, when)
        order = sorted(range(len(result.rows)), key=lambda i: order_key(keys[i]))
        series_keys = [c for c in analysis["nominal"]]
        if not series_keys:  # one series: the trend is meaningful as is
            for measure in analysis["quantitative"]:
                vals = column_values(result, measure)
                trends[measure] = trend([vals[i] for i in order])
        else:
            notes.append(f"Several series ({', '.join(series_keys)}): trends are per series.")
    analysis["trends"] = trends
    for col in columns:
        if col["nulls"]:
            notes.append(f"Column {col['name']!r} has {col['nulls']} NULL value(s).")
        if col["role"] == "nominal" and col["cardinality"] > 12:
            notes.append(f"Column {col['name']!r} has {col['cardinality']} categories: "
                         "show the top N and group the rest as 'Other'.")
    if result.truncated:
        notes.append("The result was cut by the row limit: totals cover only the rows shown.")
    analysis["notes"] = notes
    return analysis


def column_roles(analysis: dict[str, Any]) -> dict[str, str]:
    """{column name: role} from an `analyze` output."""
    return {c["name"]: c["role"] for c in analysis["columns"]}
