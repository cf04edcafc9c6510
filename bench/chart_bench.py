"""Chart stage benchmark: spec build + validation, and offline PNG rendering.

`run()` returns median milliseconds (the first render, which loads the Vega runtime, is
reported separately as `png_first_ms`).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any, Callable

from stageagent.tools.chart import build_spec, render_png, validate_spec
from stageagent.tools.chart import samples


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def run(repeat: int = 20) -> dict[str, Any]:
    result = samples.monthly_revenue()

    def build_and_validate() -> dict[str, Any]:
        spec = build_spec(result, "line", x="month", y="revenue")
        assert validate_spec(spec, result).valid
        return spec

    start = time.perf_counter()
    spec = build_and_validate()  # first call also loads and compiles the schema
    first_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    render_png(spec)
    png_first_ms = (time.perf_counter() - start) * 1000
    return {
        "rows": len(result.rows),
        "spec_build_validate_first_ms": round(first_ms, 3),
        "spec_build_validate_ms": _median_ms(build_and_validate, repeat),
        "png_first_ms": round(png_first_ms, 3),
        "png_render_ms": _median_ms(lambda: render_png(spec), max(3, repeat // 4)),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
