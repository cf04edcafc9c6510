"""Document stage benchmark: numeric consistency of a 5-sentence paragraph against a
24-row monthly result (facts built from scratch each time, as the quality gate does)."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from stageagent.tools.chart import samples
from stageagent.tools.document import check_consistency, check_style

PARAGRAPH = (
    "Between January 2023 and December 2024, total revenue was 2.67 million across 24 months. "
    "Revenue rose by 117.3% from January 2023 to December 2024. "
    "The highest revenue was 151,250 in December 2024, and the lowest was 69,608 in January 2023. "
    "Total revenue was 1.15 million in 2023 and 1.52 million in 2024, an increase of 32.0%. "
    "Revenue in Q4 2024 exceeded revenue in Q4 2023."
)


def run(repeat: int = 50) -> dict[str, Any]:
    result = samples.monthly_revenue()
    report = check_consistency(PARAGRAPH, result)
    assert report.ok, report.critiques
    times, style_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        check_consistency(PARAGRAPH, result)
        times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        check_style(PARAGRAPH, result=result)
        style_times.append((time.perf_counter() - start) * 1000)
    return {
        "rows": len(result.rows),
        "sentences": 5,
        "claims_checked": len(report.checks),
        "consistency_check_ms": round(statistics.median(times), 3),
        "style_check_ms": round(statistics.median(style_times), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
