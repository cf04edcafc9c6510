"""The chart stage: analyse the SQL result, choose a chart, build a Vega-Lite v5 spec with
inline data, validate it (schema AND real fields), render it offline, export ECharts.

Tools (`@tool` objects): `data_analyzer`, `chart_type_selector`, `chart_generator`,
`chart_validator`. Evaluator: `chart_quality`. Helpers for the report: `render_png`,
`render_svg`, `to_echarts`, `build_spec`, `validate_spec`, `analyze`, `select_chart`.
"""

from .analysis import analyze, infer_role, trend
from .echarts import to_echarts
from .quality import ChartQuality, chart_quality
from .render import render_png, render_svg
from .selection import select_chart
from .spec import build_spec
from .tools import chart_generator, chart_type_selector, chart_validator, data_analyzer
from .validation import ValidationReport, load_schema, validate_spec

__all__ = [
    "ChartQuality", "ValidationReport", "analyze", "build_spec", "chart_generator",
    "chart_quality", "chart_type_selector", "chart_validator", "data_analyzer", "infer_role",
    "load_schema", "render_png", "render_svg", "select_chart", "to_echarts", "trend",
    "validate_spec",
]
