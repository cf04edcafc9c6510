"""A one-line progress bar on stderr (a terminal only, unless forced)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, *, enabled: bool | None = None, stream: TextIO | None = None,
                 label: str = "eval"):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.label = total, label
        self.done = self.passed = self.failed = self.broken = 0
        self.started = time.monotonic()
        self._last = 0.0

    def update(self, status: str) -> None:
        self.done += 1
        if status == "passed":
            self.passed += 1
        elif status == "broken":
            self.broken += 1
        else:
            self.failed += 1
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        rate = self.done / max(now - self.started, 1e-9)
        line = (f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                f"  passed {self.passed}  failed {self.failed}  broken {self.broken}"
                f"  {rate:.1f} cases/s")
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
