"""Logging with loguru, bound with run id / stage / iteration.

A library must not decide where its logs go: stageagent disables its own loguru output on
import and adds no sink. Applications (and the CLI) call `enable_logging()`.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from loguru import logger

FORMAT = ("<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
          "<cyan>{extra[run_id]}</cyan> {extra[stage]}#{extra[iteration]} {message}")


def disable_logging() -> None:
    logger.disable("stageagent")


def enable_logging(level: str = "INFO", sink: Any = None, *, json: bool = False) -> int:
    """Turn stageagent's logs on; returns the loguru handler id (for `logger.remove`)."""
    logger.enable("stageagent")
    target: TextIO | Any = sink if sink is not None else sys.stderr
    return logger.add(
        target, level=level, serialize=json,
        format=FORMAT if not json else "{message}",
        filter=lambda record: record["name"].startswith("stageagent")
        and _with_defaults(record),
    )


def _with_defaults(record: Any) -> bool:
    extra = record["extra"]
    extra.setdefault("run_id", "-")
    extra.setdefault("stage", "-")
    extra.setdefault("iteration", 0)
    return True
