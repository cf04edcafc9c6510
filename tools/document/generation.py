"""A grounded draft from the data: deterministic templates over the key figures.

Used as the fallback when a model's paragraph cannot pass the gate, and offered to the
model as a tool: every figure in the draft is computed, so it passes the consistency check
by construction (a test holds us to that).
"""

from __future__ import annotations

from typing import Any

from ..results import QueryResult
from .analysis import analyze_paragraph, period_text
from .facts import measure_name


def plural(word: str) -> str:
    """category -> categories, region -> regions (labels of the result's dimension)."""
    word = word.replace("_", " ")
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def _by_name(figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["name"] + (f"_{f['label']}" if f["name"] == "year_total" else ""): f for f in figures}


def generate_draft(result: QueryResult, question: str = "",
                   analysis: dict[str, Any] | None = None) -> str:
    """A formal paragraph stating the data's key figures (no invented numbers)."""
    analysis = analysis or analyze_paragraph(result, question)
    if not result.rows:
        return ("The query returned no rows, so there are no figures to report for this "
                "question. Broaden the filters or check the period to obtain data.")
    if not analysis["measure"]:
        return (f"The query returned {len(result.rows)} rows with the columns "
                f"{', '.join(result.column_names)}. The result contains no numeric measure, so "
                "it is presented as a table without summary figures.")
    figures = analysis["key_figures"]
    f = _by_name(figures)
    name = measure_name(analysis["measure"])
    label_col = analysis["label_column"] or "row"
    n = len(result.rows)
    top, low, total = f["max"], f["min"], f["total"]
    if "growth" in f:
        first, last = f["growth"]["label"].split("..")
        g = f["growth"]
        direction = "rose" if g["value"] >= 0 else "fell"
        sentences = [
            f"Between {period_text(first)} and {period_text(last)}, total {name} was "
            f"{total['text']} across {n} periods.",
            f"{name.capitalize()} {direction} by {g['text'].lstrip('-')} from "
            f"{period_text(first)} to {period_text(last)}.",
            f"The highest {name} was {top['text']} in {period_text(top['label'])}, and the lowest "
            f"was {low['text']} in {period_text(low['label'])}.",
        ]
        years = [x for x in figures if x["name"] == "year_total"]
        if years:
            parts = ", ".join(f"{y['text']} in {y['label']}" for y in years)
            sentences.append(f"By year, total {name} was {parts}.")
        return " ".join(sentences)
    sentences = [
        f"Total {name} across the {n} {plural(label_col)} was {total['text']}.",
        f"{top['label']} had the highest {name} at {top['text']}"
        + (f", {f['top_share']['text']} of the total." if "top_share" in f else "."),
        *([f"{f['second']['label']} had the second-highest {name} at {f['second']['text']}."]
          if "second" in f else []),
        *([f"The top 3 {plural(label_col)} together accounted for {f['top3_share']['text']} "
           "of the total."] if "top3_share" in f else []),
        f"{low['label']} had the lowest {name} at {low['text']}.",
        f"The average {name} per {label_col} was {f['average']['text']}.",
    ]
    return " ".join(sentences)
