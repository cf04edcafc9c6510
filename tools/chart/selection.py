"""Chart-type selection: the rules a visualisation expert applies to column roles.

* time + measure -> line (a trend reads along a continuous axis);
* share intent + a few parts (<= 6) + non-negative measure -> arc (a pie only works for
  a handful of slices that add up to a whole);
* two measures -> point (relationship between them, labelled by the category);
* category + measure -> bar, sorted by value, horizontal when labels are long, and the
  top N plus "Other" when there are more than 12 categories;
* no measure (or no rows) -> a table, said plainly.
"""

from __future__ import annotations

import re
from typing import Any

MAX_ARC_PARTS = 6
MAX_CATEGORIES = 12
DEFAULT_TOP_N = 10
LONG_LABEL = 12
CHART_TYPES = ("line", "bar", "arc", "point")

_SHARE = re.compile(r"\b(share|shares|proportion|proportions|breakdown|split|composition|"
                    r"percentage|percent|part of|parts of|portion|mix|pie)\b", re.I)
_RELATION = re.compile(r"\b(correlat\w*|relationship|versus|vs\.?|against|scatter)\b", re.I)


def _col(analysis: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in analysis["columns"] if c["name"] == name)


def _choice(chart_type: str, reason: str, **fields: Any) -> dict[str, Any]:
    return {"chart_type": chart_type, "reason": reason,
            **{k: v for k, v in fields.items() if v is not None}}


def select_chart(analysis: dict[str, Any], intent: str = "") -> dict[str, Any]:
    """Pick a chart type and its encodings from an `analyze()` output and the question.

    Returns `chart_type` ("line", "bar", "arc", "point" or "table"), the fields to encode
    (`x`, `y`, `color`, `theta`), `top_n`/`horizontal` when they apply, and a `reason`.
    """
    intent = intent or ""
    measures: list[str] = analysis["quantitative"]
    nominal: list[str] = analysis["nominal"]
    when: str | None = analysis.get("time_column")
    if not analysis["row_count"]:
        return _choice("table", "The result is empty: there is nothing to plot.")
    if not measures:
        return _choice("table", "No measure to plot: the result has no quantitative column "
                       f"(columns: {', '.join(c['name'] for c in analysis['columns'])}). "
                       "Show it as a table, or aggregate (COUNT/SUM) in SQL to get a measure.")
    measure = measures[0]
    categories = [c for c in nominal + analysis["ordinal"] if c != when]

    if len(measures) >= 2 and (_RELATION.search(intent) or not when):
        label = categories[0] if categories else None
        return _choice("point", f"Two measures ({measures[0]}, {measures[1]}): a scatter plot "
                       "shows how they relate" + (f", one point per {label}." if label else "."),
                       x=measures[0], y=measures[1], label=label)
    if when and _col(analysis, when)["role"] == "ordinal" and _col(analysis, when)["cardinality"] <= 3:
        return _choice("bar", f"Only {_col(analysis, when)['cardinality']} periods of {when}: "
                       f"bars compare {measure} between them better than a line.",
                       x=when, y=measure, horizontal=False)
    if when:
        series = next((c for c in categories if _col(analysis, c)["cardinality"] <= 8), None)
        return _choice("line", f"{when} is a time axis: a line shows the trend of {measure}"
                       + (f", one line per {series}." if series else "."),
                       x=when, y=measure, color=series)
    if not categories:
        return _choice("table", f"Only measures and no category to plot {measure} against: "
                       "show the values as a table.")
    category = categories[0]
    profile = _col(analysis, category)
    parts = profile["cardinality"]
    non_negative = not _col(analysis, measure).get("negative", False)
    if _SHARE.search(intent) and non_negative:
        if parts <= MAX_ARC_PARTS:
            return _choice("arc", f"The question asks for a share and {category} has {parts} "
                           f"parts (<= {MAX_ARC_PARTS}): a pie/donut shows part of the whole.",
                           theta=measure, color=category)
        reason_extra = (f" A pie would need {parts} slices (more than {MAX_ARC_PARTS}): "
                        "a sorted bar chart compares shares more accurately.")
    else:
        reason_extra = ""
    top_n = DEFAULT_TOP_N if parts > MAX_CATEGORIES else None
    horizontal = profile.get("max_label_length", 0) > LONG_LABEL or min(parts, top_n or parts) > 8
    reason = (f"{category} is a category and {measure} a measure: a bar chart sorted by "
              f"{measure} compares them." + reason_extra)
    if top_n:
        reason += (f" {parts} categories are too many to read (> {MAX_CATEGORIES}): show "
                   f"the top {top_n} and group the rest as 'Other'.")
    if horizontal:
        reason += " Horizontal bars keep the long or many labels readable."
    return _choice("bar", reason, x=category, y=measure, top_n=top_n, horizontal=horizontal)
