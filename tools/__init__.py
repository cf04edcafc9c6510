"""Built-in tools of the report pipeline and their stage quality evaluators.

Imported lazily: naming a tool in a stage file does not import SQLAlchemy, sqlglot or
vl-convert; the first call does. `BUILTIN_TOOLS` / `BUILTIN_EVALUATORS` map names to
`"module:attribute"` references; `TOOLKIT` holds them for the runtime - the bundled stage
files name it (`toolkit = "stageagent.tools:TOOLKIT"`), which is how the pipeline hands
its tools to the framework (the framework itself imports none of this package).
"""

from pathlib import Path

from stageagent.registry import Toolkit

PATH = Path(__file__).parent

_SQL = ["schema_discovery", "schema_retrieval", "sql_validator", "sql_auto_fixer", "sql_executor"]
_CHART = ["data_analyzer", "chart_type_selector", "chart_generator", "chart_validator"]
_DOCUMENT = ["paragraph_analyzer", "draft_generator", "style_checker", "consistency_validator"]

BUILTIN_TOOLS: dict[str, str] = {
    **{name: f"stageagent.tools.sql:{name}" for name in _SQL},
    **{name: f"stageagent.tools.chart:{name}" for name in _CHART},
    **{name: f"stageagent.tools.document:{name}" for name in _DOCUMENT},
}

BUILTIN_EVALUATORS: dict[str, str] = {
    "sql_quality": "stageagent.tools.sql:sql_quality",
    "chart_quality": "stageagent.tools.chart:chart_quality",
    "document_quality": "stageagent.tools.document:document_quality",
}

TOOLKIT = Toolkit(tools=BUILTIN_TOOLS, evaluators=BUILTIN_EVALUATORS)
