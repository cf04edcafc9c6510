"""Errors of the eval harness (part of the stageagent hierarchy).

A dataset error names the file, the case and the key that is wrong, so a user editing a
YAML file of 80 cases goes straight to the line to fix.
"""

from __future__ import annotations

from pathlib import Path

from stageagent.exceptions import StageAgentError


class EvalError(StageAgentError):
    """Base class of the eval harness's errors."""


class DatasetError(EvalError):
    """A dataset file is malformed: unreadable YAML, a missing or mistyped key."""

    def __init__(self, message: str, *, path: str | Path | None = None,
                 case: str | None = None, key: str | None = None):
        self.path = str(path) if path is not None else None
        self.case = case
        self.key = key
        self.message = message
        where = [self.path or "<dataset>"]
        if case is not None:
            where.append(f"case {case!r}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class UnknownEvaluatorError(DatasetError):
    """A dataset names an evaluator the harness does not know."""


class BrokenCaseError(EvalError):
    """A case cannot be scored because of the case itself (its gold SQL fails to run, its
    database is missing) - reported as `broken`, never as a model failure."""
