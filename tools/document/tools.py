"""The document stage's tools: what to say, a grounded draft, and checks of a draft.

The data is the SQL stage's result in `ctx.state[STATE_SQL_RESULT]`; the model passes only
its text.
"""

from __future__ import annotations

from typing import Any, Literal

from stageagent.function_tools import ToolContext, tool

from ..chart.tools import result_from_state
from ..results import STATE_SQL_RESULT, QueryResult
from .analysis import analyze_paragraph
from .consistency import check_consistency
from .generation import generate_draft
from .style import check_style


@tool(read_only=True)
def paragraph_analyzer(ctx: ToolContext, question: str = "") -> dict[str, Any]:
    """What the paragraph must say: the key figures of the SQL result (total, highest and
    lowest with labels, growth, top share), the register and the length bounds.

    Args:
        question: the user's question the paragraph answers.
    """
    return analyze_paragraph(result_from_state(ctx.state), question)


@tool(read_only=True)
def draft_generator(ctx: ToolContext, question: str = "") -> dict[str, Any]:
    """A grounded draft paragraph built from the data's key figures (every number exact);
    rewrite it to answer the question, keeping the figures.

    Args:
        question: the user's question the paragraph answers.
    """
    result = result_from_state(ctx.state)
    analysis = analyze_paragraph(result, question)
    return {"draft": generate_draft(result, question, analysis),
            "key_figures": analysis["key_figures"]}


@tool(read_only=True)
def style_checker(ctx: ToolContext, text: str,
                  formality: Literal["formal", "neutral"] = "formal") -> dict[str, Any]:
    """Check a paragraph's style: length, register, first person, hedging, and
    superlatives the data does not back.

    Args:
        text: the paragraph to check.
        formality: formal (business report register) or neutral.
    """
    result = ctx.state.get(STATE_SQL_RESULT)
    if isinstance(result, dict):
        result = QueryResult.model_validate(result)
    return check_style(text, register=formality, result=result).to_dict()


@tool(read_only=True)
def consistency_validator(ctx: ToolContext, text: str) -> dict[str, Any]:
    """Check every number, percentage, date and ranking in the text against the SQL result
    (with rounding tolerance; shares, growth and differences recomputed).

    Args:
        text: the paragraph to check.
    """
    return check_consistency(text, result_from_state(ctx.state)).to_dict()
