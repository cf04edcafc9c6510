"""The SQL stage's structured output (explore-then-format): what the next stage consumes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SQLStageOutput(BaseModel):
    """The final query of the SQL stage and the shape of the result it produced."""

    sql: str = Field(description="The final SELECT query, exactly as executed with sql_executor")
    columns: list[str] = Field(default_factory=list,
                               description="Result column names, in order")
    row_count: int = Field(0, ge=0, description="Number of rows the query returned")
    #: prose written by the model, not data: exempt from the grounding check
    notes: str = Field("", description="Assumptions or caveats (filters chosen, NULL handling)",
                       json_schema_extra={"grounded": False})
