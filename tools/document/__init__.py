"""The document stage: paragraph analysis, a grounded draft, style checks, and a numeric
consistency validator that matches every figure of the text against the SQL result.

Tools (`@tool` objects): `paragraph_analyzer`, `draft_generator`, `style_checker`,
`consistency_validator`. Evaluator: `document_quality`. Helpers: `check_consistency`,
`check_style`, `analyze_paragraph`, `generate_draft`, `extract_quantities`.
"""

from .analysis import analyze_paragraph
from .consistency import ConsistencyReport, check_consistency
from .generation import generate_draft
from .numbers import Quantity, extract_quantities, split_sentences
from .quality import DocumentQuality, document_quality
from .style import StyleReport, check_style
from .tools import consistency_validator, draft_generator, paragraph_analyzer, style_checker

__all__ = [
    "ConsistencyReport", "DocumentQuality", "Quantity", "StyleReport", "analyze_paragraph",
    "check_consistency", "check_style", "consistency_validator", "document_quality",
    "draft_generator", "extract_quantities", "generate_draft", "paragraph_analyzer",
    "split_sentences", "style_checker",
]
