"""Vega-Lite v5 spec building, with the result's rows inline.

Inline data (`data.values`) makes a spec self-contained: it renders offline, travels in a
report, and its fields can be checked against the rows it will draw. Fields are checked
against the result *before* a spec exists, so the model learns which name was wrong.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from stageagent.exceptions import ToolError

from ..results import QueryResult
from .analysis import analyze, column_roles, column_values, is_number, order_key
from .polish import polish
from .selection import CHART_TYPES, MAX_ARC_PARTS

SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v5.json"
OTHER = "Other"
_MONTHLY = re.compile(r"^\d{4}-\d{2}(-01)?([ T]00:00(:00)?)?$")
_DAILY = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00)?)?$")
_VL_TYPE = {"temporal": "temporal", "quantitative": "quantitative",
            "nominal": "nominal", "ordinal": "ordinal"}


def humanize(name: str) -> str:
    """`total_revenue` -> `Total revenue` (axis and legend titles)."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def describe_columns(roles: dict[str, str]) -> str:
    return ", ".join(f"{name} ({role})" for name, role in roles.items()) or "none"


def check_field(field: str | None, channel: str, roles: dict[str, str],
                allowed: tuple[str, ...]) -> str | None:
    """Raise a `ToolError` the model can act on when `field` is unknown or of the wrong role."""
    if field is None:
        return None
    if field not in roles:
        close = difflib.get_close_matches(field, list(roles), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ToolError(f"Unknown field {field!r} for {channel}: it is not a column of the "
                        f"result.{hint} Columns of the result: {describe_columns(roles)}.")
    if roles[field] not in allowed:
        wanted = " or ".join(allowed)
        fits = [n for n, r in roles.items() if r in allowed]
        raise ToolError(f"Field {field!r} is {roles[field]} but {channel} needs a {wanted} "
                        f"column. Candidates: {', '.join(fits) or 'none'}.")
    return field


def _number_format(values: list[Any]) -> str:
    """Tooltip format: exact to the cent unless every value is whole."""
    nums = [v for v in values if is_number(v)]
    return ",.0f" if nums and all(float(v).is_integer() for v in nums) else ",.2f"


def _axis_format(values: list[Any]) -> str:
    """Axis format: no decimals on large numbers (160,000 not 160,000.00)."""
    nums = [abs(v) for v in values if is_number(v)]
    return ",.0f" if nums and max(nums) >= 1000 else ",.2~f"


def _channel(field: str, role: str, values: list[Any], title: str | None = None,
             **extra: Any) -> dict[str, Any]:
    enc: dict[str, Any] = {"field": field, "type": _VL_TYPE[role], "title": title or humanize(field)}
    present = [v for v in values if v is not None]
    if role == "temporal" and present and all(isinstance(v, str) for v in present):
        if all(_MONTHLY.match(v) for v in present):
            enc["timeUnit"] = "utcyearmonth"
            enc.setdefault("axis", {"format": "%b %Y"})
        elif all(_DAILY.match(v) for v in present):
            enc["timeUnit"] = "utcyearmonthdate"
    if role == "quantitative":
        enc.setdefault("axis", {"format": _axis_format(values)})
    enc.update(extra)
    return enc


def _tooltip(fields: list[str], roles: dict[str, str], result: QueryResult) -> list[dict[str, Any]]:
    tips = []
    for name in dict.fromkeys(fields):
        tip = _channel(name, roles[name], column_values(result, name))
        tip.pop("axis", None)
        if roles[name] == "quantitative":
            tip["format"] = _number_format(column_values(result, name))
        tips.append(tip)
    return tips


def top_n_records(result: QueryResult, category: str, measure: str,
                  top_n: int | None) -> list[dict[str, Any]]:
    """Sum `measure` per `category`; beyond the `top_n` largest, fold the rest into 'Other'."""
    totals: dict[Any, float] = {}
    for cat, val in zip(column_values(result, category), column_values(result, measure)):
        key = "(missing)" if cat is None else cat
        totals[key] = totals.get(key, 0.0) + (val if is_number(val) else 0.0)
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    if top_n is None or len(ranked) <= top_n:
        return [{category: k, measure: v} for k, v in ranked]
    kept = [{category: k, measure: v} for k, v in ranked[:top_n]]
    rest = ranked[top_n:]
    kept.append({category: f"{OTHER} ({len(rest)})", measure: sum(v for _, v in rest)})
    return kept


def _default_title(chart_type: str, encoding: dict[str, Any]) -> str:
    def name(channel: str) -> str:
        return humanize(encoding.get(channel, {}).get("field", ""))

    if chart_type == "line":
        return f"{name('y')} over {name('x').lower()}"
    if chart_type == "arc":
        return f"Share of {name('theta').lower()} by {name('color').lower()}"
    if chart_type == "point":
        return f"{name('y')} vs {name('x').lower()}"
    category, measure = ("y", "x") if encoding["x"]["type"] == "quantitative" else ("x", "y")
    return f"{name(measure)} by {name(category).lower()}"


def build_spec(result: QueryResult, chart_type: str, *, x: str | None = None,
               y: str | None = None, color: str | None = None, theta: str | None = None,
               title: str | None = None, top_n: int | None = None,
               horizontal: bool | None = None, currency: str | None = None) -> dict[str, Any]:
    """A Vega-Lite v5 spec of `result`; raises `ToolError` naming any unusable field.

    Money measures get `currency` (a code like EUR or a symbol; `$` when not given) in
    their title and ticks; category labels are turned only when they do not fit.
    """
    if chart_type not in CHART_TYPES:
        raise ToolError(f"Unknown chart_type {chart_type!r}; use one of {', '.join(CHART_TYPES)} "
                        "(a result without a measure is shown as a table, not a chart).")
    if not result.rows:
        raise ToolError("The SQL result is empty: there is nothing to plot. Fix the query first.")
    analysis = analyze(result)
    roles = column_roles(analysis)
    if not analysis["quantitative"]:
        raise ToolError("No measure to plot: the result has no quantitative column "
                        f"(columns: {describe_columns(roles)}). Present it as a table, or "
                        "aggregate in SQL (COUNT/SUM) to get a measure.")
    builders = {"line": _line, "bar": _bar, "arc": _arc, "point": _point}
    spec = builders[chart_type](result, roles, x=x, y=y, color=color, theta=theta,
                                top_n=top_n, horizontal=horizontal)
    spec_title = title or _default_title(chart_type, spec["encoding"])
    return polish({"$schema": SCHEMA_URL, "title": spec_title, **spec,
                   "usermeta": {"chart_type": chart_type, "rows": len(spec["data"]["values"])}},
                  currency)


def _line(result: QueryResult, roles: dict[str, str], *, x: str | None, y: str | None,
          color: str | None, **_: Any) -> dict[str, Any]:
    x = check_field(x, "x (the time axis of a line chart)", roles,
                    ("temporal", "ordinal", "quantitative"))
    y = check_field(y, "y (the measure of a line chart)", roles, ("quantitative",))
    color = check_field(color, "color (one line per series)", roles, ("nominal", "ordinal"))
    if not x or not y:
        raise ToolError("A line chart needs x (a time column) and y (a measure).")
    encoding = {"x": _channel(x, roles[x], column_values(result, x)),
                "y": _channel(y, "quantitative", column_values(result, y))}
    if color:
        encoding["color"] = _channel(color, roles[color], column_values(result, color))
    encoding["tooltip"] = _tooltip([x, y] + ([color] if color else []), roles, result)
    records = sorted(result.records(), key=lambda r: order_key(r[x]))
    return {"data": {"values": records}, "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": encoding, "width": 600, "height": 320}


def _bar(result: QueryResult, roles: dict[str, str], *, x: str | None, y: str | None,
         top_n: int | None, horizontal: bool | None, **_: Any) -> dict[str, Any]:
    # Accept the category and the measure in either argument: orientation is ours to pick.
    if x in roles and y in roles and roles[x] == "quantitative" and roles[y] != "quantitative":
        x, y = y, x
        horizontal = True if horizontal is None else horizontal
    x = check_field(x, "x (the categories of a bar chart)", roles,
                    ("nominal", "ordinal", "temporal"))
    y = check_field(y, "y (the measure of a bar chart)", roles, ("quantitative",))
    if not x or not y:
        raise ToolError("A bar chart needs x (a category column) and y (a measure).")
    if top_n is not None and top_n < 1:
        raise ToolError(f"top_n must be at least 1 (got {top_n}).")
    records = top_n_records(result, x, y, top_n)
    labels = [str(r[x]) for r in records]
    if horizontal is None:
        horizontal = max(map(len, labels)) > 12 or len(labels) > 8
    ordered = roles[x] in ("ordinal", "temporal")
    cat_role = "ordinal" if ordered else "nominal"
    if ordered:
        records.sort(key=lambda r: order_key(r[x]))
    measure_values = [r[y] for r in records]
    cat: dict[str, Any] = {"field": x, "type": cat_role, "title": humanize(x)}
    if not ordered:  # largest first, and "Other" last whatever its size
        cat["sort"] = [r[x] for r in records]
    val = _channel(y, "quantitative", measure_values)
    tooltip = [{"field": x, "type": cat_role, "title": humanize(x)},
               {"field": y, "type": "quantitative", "title": humanize(y),
                "format": _number_format(measure_values)}]
    encoding = ({"y": cat, "x": val} if horizontal else {"x": cat, "y": val})
    encoding["tooltip"] = tooltip
    size = {"width": 600, "height": max(200, 24 * len(records))} if horizontal \
        else {"width": max(400, 40 * len(records)), "height": 320}
    return {"data": {"values": records}, "mark": {"type": "bar", "tooltip": True},
            "encoding": encoding, **size}


def _arc(result: QueryResult, roles: dict[str, str], *, x: str | None, y: str | None,
         color: str | None, theta: str | None, top_n: int | None, **_: Any) -> dict[str, Any]:
    theta = theta or y
    color = color or x
    theta = check_field(theta, "theta (the measure whose share is shown)", roles, ("quantitative",))
    color = check_field(color, "color (the parts of the whole)", roles, ("nominal", "ordinal"))
    if not theta or not color:
        raise ToolError("An arc (pie/donut) chart needs theta (a measure) and color (a category).")
    if any(is_number(v) and v < 0 for v in column_values(result, theta)):
        raise ToolError(f"{theta!r} has negative values: a pie cannot show them. Use a bar chart.")
    records = top_n_records(result, color, theta, top_n if top_n else MAX_ARC_PARTS - 1)
    fmt = _number_format([r[theta] for r in records])
    encoding = {
        "theta": {"field": theta, "type": "quantitative", "stack": True, "title": humanize(theta)},
        "color": {"field": color, "type": "nominal", "title": humanize(color),
                  "sort": {"field": theta, "order": "descending"}},
        "order": {"field": theta, "type": "quantitative", "sort": "descending"},
        "tooltip": [{"field": color, "type": "nominal", "title": humanize(color)},
                    {"field": theta, "type": "quantitative", "title": humanize(theta),
                     "format": fmt}],
    }
    return {"data": {"values": records},
            "mark": {"type": "arc", "innerRadius": 60, "tooltip": True},
            "encoding": encoding, "width": 320, "height": 320, "view": {"stroke": None}}


def _point(result: QueryResult, roles: dict[str, str], *, x: str | None, y: str | None,
           color: str | None, **_: Any) -> dict[str, Any]:
    x = check_field(x, "x (the first measure of a scatter plot)", roles, ("quantitative",))
    y = check_field(y, "y (the second measure of a scatter plot)", roles, ("quantitative",))
    color = check_field(color, "color", roles, ("nominal", "ordinal"))
    if not x or not y:
        raise ToolError("A point (scatter) chart needs two measures: x and y.")
    labels = [c for c, r in roles.items() if r in ("nominal", "ordinal", "temporal")][:1]
    encoding = {"x": _channel(x, "quantitative", column_values(result, x)),
                "y": _channel(y, "quantitative", column_values(result, y))}
    if color:
        encoding["color"] = _channel(color, roles[color], column_values(result, color))
    encoding["tooltip"] = _tooltip(labels + [x, y] + ([color] if color else []), roles, result)
    return {"data": {"values": result.records()},
            "mark": {"type": "point", "filled": True, "size": 80, "tooltip": True},
            "encoding": encoding, "width": 500, "height": 360}
