"""What validation reports: typed issues with kind, message, position and suggestions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

IssueKind = Literal["syntax", "unsafe", "unknown_table", "unknown_column", "ambiguous_column",
                    "unknown_function", "engine", "other"]


class ValidationIssue(BaseModel):
    kind: IssueKind
    message: str
    name: str | None = None
    line: int | None = None
    col: int | None = None
    suggestions: list[str] = Field(default_factory=list)


class ValidationResult(BaseModel):
    """`valid` is True when there are no errors (warnings do not block).

    `engine_checked` says whether the database itself compiled the statement.
    """

    valid: bool
    dialect: str
    errors: list[ValidationIssue] = Field(default_factory=list)
    warnings: list[ValidationIssue] = Field(default_factory=list)
    qualified_sql: str | None = None
    tables: list[str] = Field(default_factory=list)
    engine_checked: bool = False

    def summary(self) -> str:
        if self.valid:
            return "valid" + (f" ({len(self.warnings)} warning(s))" if self.warnings else "")
        return "; ".join(e.message for e in self.errors)
