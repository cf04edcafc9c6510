"""Paragraph analysis: what the paragraph must say, from the question and the data.

The key figures (total, largest and smallest with their labels, growth first -> last,
the top share, yearly totals) are computed here once, so the writer - model or template -
quotes them instead of doing arithmetic, and the validator can expect them.
"""

from __future__ import annotations

import re
from typing import Any

from ..results import QueryResult
from .facts import DataModel, build_model, measure_name
from .format import format_amount, format_percent
from .numbers import MONTHS

_BUSINESS = re.compile(r"\b(revenue|sales|orders?|customers?|profit|margin|cost|spend|price|"
                       r"salar\w*|employees?|budget|income|products?|departments?)\b", re.I)
_MONTH_NAMES = {v: k for k, v in MONTHS.items()}
_FULL_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]


def period_text(key: str) -> str:
    """"2024-03" -> "March 2024", "*-03" (a month without its year) -> "March",
    "*-Q4" -> "Q4"; other labels unchanged."""
    m = re.fullmatch(r"(\d{4}|\*)-(\d{2})", key)
    if m:
        month = _FULL_MONTHS[int(m.group(2)) - 1]
        return month if m.group(1) == "*" else f"{month} {m.group(1)}"
    return key[2:] if key.startswith("*-") else key


def _figure(name: str, value: float, description: str, *, percent: bool = False,
            label: str | None = None) -> dict[str, Any]:
    text = format_percent(value) if percent else format_amount(value)
    figure = {"name": name, "value": round(value, 4), "text": text, "description": description}
    if label is not None:
        figure["label"] = label
    return figure


def key_figures(model: DataModel) -> list[dict[str, Any]]:
    """The figures a summary paragraph of the result should quote, best first."""
    if not model.measures or not model.result.rows:
        return []
    measure = model.measures[0]
    name = measure_name(measure)
    values = model.values.get(measure, {})
    if not values:
        return []
    total = sum(values.values())
    named = sorted((k for k in values if k != "(missing)"), key=values.__getitem__, reverse=True)
    if not named:
        return [_figure("total", total, f"the total {name}")]
    top, bottom = named[0], named[-1]
    figures = [_figure("total", total, f"the total {name}"),
               _figure("max", values[top], f"the highest {name}", label=top),
               _figure("min", values[bottom], f"the lowest {name}", label=bottom),
               _figure("average", total / len(values), f"the average {name}")]
    ordered = sorted(values)
    if model.time_column and len(ordered) >= 2 and values[ordered[0]]:
        first, last = ordered[0], ordered[-1]
        growth = (values[last] - values[first]) / abs(values[first]) * 100
        figures.append(_figure("growth", growth, f"the change in {name} from {first} to {last}",
                               percent=True, label=f"{first}..{last}"))
        years: dict[str, float] = {}
        for k, v in values.items():
            years[k[:4]] = years.get(k[:4], 0.0) + v
        if 1 < len(years) < len(values):
            for year, value in sorted(years.items()):
                figures.append(_figure("year_total", value, f"the total {name} in {year}",
                                       label=year))
    elif not model.time_column and total > 0 and all(v >= 0 for v in values.values()):
        figures.append(_figure("top_share", values[top] / total * 100,
                               f"the share of {top} in total {name}", percent=True, label=top))
        if len(named) >= 3:
            figures.append(_figure("second", values[named[1]], f"the second-highest {name}",
                                   label=named[1]))
        if len(named) >= 4:
            top3 = sum(sorted(values.values(), reverse=True)[:3])
            figures.append(_figure("top3_share", top3 / total * 100,
                                   "the combined share of the top 3", percent=True))
    return figures


def analyze_paragraph(result: QueryResult, question: str = "") -> dict[str, Any]:
    """What the paragraph must say, in which register and length, with which figures."""
    model = build_model(result)
    register = "formal business" if _BUSINESS.search(question + " " + " ".join(
        result.column_names)) else "neutral"
    figures = key_figures(model)
    must_say = [f"Answer the question directly: {question}" if question else
                "State what the data shows in the first sentence."]
    if not result.rows:
        must_say.append("Say plainly that the query returned no rows; quote no figures.")
        length = {"min_words": 10, "max_words": 80}
    elif not model.measures:
        must_say.append(f"Say that the result lists {len(result.rows)} rows of "
                        f"{', '.join(result.column_names)} and has no figures to summarise.")
        length = {"min_words": 10, "max_words": 120}
    else:
        must_say += [f"Quote {f['description']}"
                     + (f" ({period_text(f['label'])})" if f.get("label") and ".." not in f["label"] else "")
                     + f": {f['text']}." for f in figures]
        # a handful of rows has a handful of figures: ask for fewer words, not padding
        length = {"min_words": 40 if len(result.rows) > 4 else 25, "max_words": 220}
    notes = []
    if result.truncated:
        notes.append("The result was cut by the row limit: say the figures cover the rows shown.")
    nulls = [c.name for c in result.columns
             if any(r[i] is None for r in result.rows for i in [result.column_names.index(c.name)])]
    if nulls:
        notes.append(f"Columns with NULLs ({', '.join(nulls)}): missing values are excluded from totals.")
    return {"question": question, "register": register, "length": length,
            "rows": len(result.rows), "measure": model.measures[0] if model.measures else None,
            "label_column": model.label_column, "key_figures": figures,
            "must_say": must_say, "must_not": [
                "Quote no figure that is not in the data or derived from it.",
                "No first person, no hedging, no unsupported superlatives."], "notes": notes}
