"""A finished report's files (report.html, chart.png, data.csv, ...) as stored artifacts.

The report writer (`stageagent.report.write_report`) writes them into a directory, as
the CLI does; here that happens in a temporary one and the bytes go to the run store, so
any server on the same store can serve them after a restart. Also the JSON summary of a
run's result that `GET /v1/runs/{id}` shows.
"""

from __future__ import annotations

import mimetypes
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stageagent.facade import ReportResult
    from stageagent.runtime import StageResult

MEDIA_TYPES = {".md": "text/markdown; charset=utf-8", ".jsonl": "application/x-ndjson",
               ".sql": "application/sql", ".csv": "text/csv; charset=utf-8",
               ".html": "text/html; charset=utf-8", ".json": "application/json",
               ".png": "image/png"}

#: rows of the SQL result shown in the run's JSON (all of them are in data.csv)
RESULT_ROWS = 200


def media_type(name: str) -> str:
    suffix = Path(name).suffix
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def report_artifacts(result: ReportResult) -> list[tuple[str, str, bytes]]:
    """(name, media type, bytes) of every file the report writer produces."""
    from stageagent.report import write_report

    with tempfile.TemporaryDirectory(prefix="stageagent-serve-") as tmp:
        written = write_report(result, tmp)
        return [(name, media_type(name), path.read_bytes())
                for name, path in sorted(written.items())]


def jsonable(value: Any) -> Any:
    from pydantic import BaseModel
    from pydantic_core import to_jsonable_python

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return to_jsonable_python(value, fallback=str)


def report_summary(result: ReportResult) -> dict[str, Any]:
    query = result.query_result
    return {
        "ok": result.ok, "error": result.error, "error_type": result.error_type or None,
        "failed_stage": result.failed_stage, "sql": result.sql, "document": result.document,
        "chart_spec": result.chart_spec,
        "columns": query.column_names if query is not None else None,
        "rows": jsonable(query.rows[:RESULT_ROWS]) if query is not None else None,
        "row_count": query.row_count if query is not None else None,
        "stages": {name: {"reason": s.reason, "iterations": s.iterations, "score": s.score}
                   for name, s in result.stages.items()},
        "usage": result.usage.model_dump(), "cost_usd": result.cost_usd,
        "duration_s": round(result.duration_s, 3),
    }


def stage_summary(result: StageResult) -> dict[str, Any]:
    """A stage run's result; `messages` can be sent back as `history` for a follow-up."""
    return {
        "ok": result.ok, "reason": result.reason, "text": result.text,
        "output": jsonable(result.output), "score": result.score,
        "critiques": result.critiques, "iterations": result.iterations,
        "usage": jsonable(result.usage), "cost_usd": result.cost_usd, "error": result.error,
        "messages": jsonable(result.messages),
    }
