"""ECharts option export for the chart types `chart_generator` builds.

Reads the Vega-Lite spec (inline data + encodings), so one source of truth drives both
renderers: the ECharts option shows the same rows, fields and titles.
"""

from __future__ import annotations

from typing import Any

from stageagent.exceptions import ToolError


def _mark(spec: dict[str, Any]) -> str:
    mark = spec.get("mark")
    return mark.get("type", "") if isinstance(mark, dict) else str(mark or "")


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title", "")
    return title.get("text", "") if isinstance(title, dict) else str(title)


def _axis(channel: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    name = channel.get("title", channel["field"])
    if channel.get("type") == "quantitative":
        return {"type": "value", "name": name}
    if channel.get("type") == "temporal":
        return {"type": "time", "name": name}
    return {"type": "category", "name": name,
            "data": list(dict.fromkeys(r.get(channel["field"]) for r in rows))}


def _cartesian(kind: str, enc: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    x, y = enc["x"], enc["y"]
    color = enc.get("color", {}).get("field")
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row.get(color) if color else y.get("title", y["field"]), []).append(row)
    x_axis, y_axis = _axis(x, rows), _axis(y, rows)
    series = []
    for name, members in groups.items():
        if kind == "point" or x_axis["type"] != "category" and y_axis["type"] != "category":
            data = [[r.get(x["field"]), r.get(y["field"])] for r in members]
        elif x_axis["type"] == "category":
            data = [r.get(y["field"]) for r in members]
        else:
            data = [r.get(x["field"]) for r in members]
        series.append({"name": str(name), "type": {"point": "scatter"}.get(kind, kind),
                       "data": data, **({"symbolSize": 10} if kind == "point" else {})})
    return {"xAxis": x_axis, "yAxis": y_axis, "series": series,
            "tooltip": {"trigger": "item" if kind == "point" else "axis"},
            **({"legend": {}} if color else {})}


def to_echarts(spec: dict[str, Any]) -> dict[str, Any]:
    """An ECharts option for a line / bar / arc / point Vega-Lite spec from `build_spec`."""
    kind = _mark(spec)
    enc = spec.get("encoding") or {}
    rows = (spec.get("data") or {}).get("values") or []
    option: dict[str, Any] = {"title": {"text": _title(spec)}}
    if kind == "arc":
        theta, color = enc["theta"]["field"], enc["color"]["field"]
        option.update(tooltip={"trigger": "item"}, legend={}, series=[{
            "type": "pie", "radius": ["40%", "70%"], "name": enc["theta"].get("title", theta),
            "data": [{"name": str(r.get(color)), "value": r.get(theta)} for r in rows]}])
        return option
    if kind in ("line", "bar", "point") and "x" in enc and "y" in enc:
        option.update(_cartesian(kind, enc, rows))
        return option
    raise ToolError(f"No ECharts export for mark {kind!r}; supported: line, bar, arc, point.")
