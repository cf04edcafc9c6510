"""Logging with loguru, bound with run id / stage / iteration.

A library must not decide where its logs go: stageagent keeps its loguru output disabled
and adds no sink; applications (and the CLI) call `enable_logging()`. loguru itself is
imported on first use, not on `import stageagent` (it costs ~30 ms of import time).

`enable_logging()` is the switch: until it is called the runtime logs through `QUIET`, which
drops records without building them. A disabled loguru call still inspects the caller's
frame (about 5 us), which a run would otherwise pay on every start and end.
"""

from __future__ import annotations

import sys
from typing import Any

_state: dict[str, Any] = {"logger": None, "enabled": False}

FORMAT = ("<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
          "<cyan>{extra[run_id]}</cyan> {extra[stage]}#{extra[iteration]} {message}")


class _Quiet:
    """A logger that drops everything, for when stageagent's logging is off."""

    __slots__ = ()

    def bind(self, **extra: Any) -> "_Quiet":
        return self

    def opt(self, **options: Any) -> "_Quiet":
        return self

    def _drop(self, message: str, *args: Any, **kwargs: Any) -> None:
        return None

    trace = debug = info = success = warning = error = critical = exception = _drop


QUIET = _Quiet()


def logging_enabled() -> bool:
    """True after `enable_logging()` (and until `disable_logging()`)."""
    return _state["enabled"]


def run_logger(**extra: Any) -> Any:
    """A logger bound with `extra` (run id, stage...), or `QUIET` while logging is off."""
    if not _state["enabled"]:
        return QUIET
    return get_logger().bind(**extra)


def get_logger() -> Any:
    """The loguru logger, with stageagent's records disabled unless enabled."""
    cached: Any = _state["logger"]
    if cached is None:
        from loguru import logger

        if not _state["enabled"]:
            logger.disable("stageagent")
        cached = _state["logger"] = logger
    return cached


def disable_logging() -> None:
    _state["enabled"] = False
    if _state["logger"] is not None:
        _state["logger"].disable("stageagent")


def enable_logging(level: str = "INFO", sink: Any = None, *, json: bool = False) -> int:
    """Turn stageagent's logs on; returns the loguru handler id (for `logger.remove`).

    Records go to `sink` (stderr by default). loguru's own default handler (id 0, stderr,
    every level) is removed on the way: left in place, it prints each record a second time.
    """
    _state["enabled"] = True
    logger = get_logger()
    logger.enable("stageagent")
    if not _state.get("default_removed"):
        _state["default_removed"] = True
        try:
            logger.remove(0)
        except ValueError:
            pass  # the application removed it already
    return logger.add(
        sink if sink is not None else sys.stderr, level=level, serialize=json,
        format=FORMAT if not json else "{message}",
        filter=lambda record: record["name"].startswith("stageagent") and _with_defaults(record),
    )


def _with_defaults(record: Any) -> bool:
    extra = record["extra"]
    extra.setdefault("run_id", "-")
    extra.setdefault("stage", "-")
    extra.setdefault("iteration", 0)
    return True
