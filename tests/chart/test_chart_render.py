import xml.etree.ElementTree as ET

from stageagent.tools.chart import build_spec, render_png, render_svg
from stageagent.tools.chart import samples


def test_png_is_a_real_png():
    spec = build_spec(samples.monthly_revenue(), "line", x="month", y="revenue")
    png = render_png(spec)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 10_000


def test_svg_parses_and_shows_the_title():
    spec = build_spec(samples.revenue_by_region(), "arc", theta="revenue", color="region",
                      title="Revenue share by region")
    svg = render_svg(spec)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "Revenue share by region" in svg and "North" in svg
