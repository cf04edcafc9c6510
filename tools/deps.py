"""Dependencies the report pipeline's tools receive as `ToolContext.deps`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sql import Database


@dataclass
class ReportDeps:
    """The database every SQL tool queries, and where artefacts (chart images) may go."""

    database: "Database"
    out_dir: Path | None = None
