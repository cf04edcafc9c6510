"""Offline rendering of Vega-Lite specs to PNG and SVG with vl-convert.

vl-convert embeds the Vega JavaScript runtime (no browser, no node); `allowed_base_urls=[]`
forbids any data fetch, so rendering never touches the network - the data is inline.
"""

from __future__ import annotations

from typing import Any

from stageagent.exceptions import ToolError

VEGALITE_VERSION = "5.20"


def _convert(function_name: str, spec: dict[str, Any], **options: Any) -> Any:
    import vl_convert

    try:
        return getattr(vl_convert, function_name)(spec, vl_version=VEGALITE_VERSION,
                                                  allowed_base_urls=[], **options)
    except Exception as exc:  # vl-convert raises plain ValueError with the Vega message
        raise ToolError(f"The chart could not be rendered: {exc}") from exc


def render_png(spec: dict[str, Any], *, scale: float = 2.0) -> bytes:
    """PNG bytes of a Vega-Lite spec (scale 2 = crisp on high-density screens and print)."""
    return _convert("vegalite_to_png", spec, scale=scale)


def render_svg(spec: dict[str, Any]) -> str:
    """SVG markup of a Vega-Lite spec."""
    return _convert("vegalite_to_svg", spec)
