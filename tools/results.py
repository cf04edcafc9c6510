"""Typed results the pipeline stages hand to each other (through `ToolContext.state`).

State keys used by the built-in tools (one place, so stages agree):

* `STATE_SQL_RESULT`  - the last successful `QueryResult` of `sql_executor`
* `STATE_CHART_SPEC`  - the last valid Vega-Lite spec (dict) of `chart_generator`
* `STATE_ANALYSIS`    - the last `data_analyzer` output (dict)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

STATE_SQL_RESULT = "sql_result"
STATE_CHART_SPEC = "chart_spec"
STATE_ANALYSIS = "data_analysis"

ColumnKind = Literal["integer", "number", "string", "boolean", "date", "datetime", "time", "other"]


class ColumnInfo(BaseModel):
    """A result column: its name, a portable kind, and the database's own type name."""

    name: str
    kind: ColumnKind = "other"
    db_type: str = ""


class QueryResult(BaseModel):
    """Rows of one read-only query, JSON-safe (dates as ISO strings, decimals as floats)."""

    sql: str
    dialect: str = ""
    columns: list[ColumnInfo] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    row_count: int = 0
    #: True when the row limit cut the result
    truncated: bool = False
    elapsed_ms: float = 0.0

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        names = self.column_names
        return [dict(zip(names, row)) for row in self.rows]
