"""The tool of the test stage `guarded`, importable by a `stageagent serve` subprocess
(config `tools = ["tests.serve.guarded_tools:drop_table"]`)."""

from __future__ import annotations

from stageagent import tool


@tool(requires_approval=True)
def drop_table(table: str) -> str:
    """Drop a table (needs approval).

    Args:
        table: the table to drop
    """
    return f"dropped {table}"
