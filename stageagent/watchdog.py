"""Stage deadlines: one timer per event loop for every running stage.

A timer per run costs a handle, a heap push and a cancel - about 3 us, a tenth of a
short run. Runs of one stage share a timeout and start in order, so their deadlines
arrive in order too: one timer, set for the earliest deadline, serves all of them. It
is moved only when a run with an earlier deadline arrives; when it fires it expires
the runs that are due and moves on to the next deadline.

Runs are held by weak reference: a run its consumer abandoned is collected as usual,
not kept alive until its deadline (make the reference with `forget` as its callback
and the entry goes with the run).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

_INFINITY = float("inf")


class Watchdog:
    """Calls `expire()` of each registered run at its deadline (loop time).

    Runs are held by weak reference (`weakref.ref` to anything with an `expire()`).
    """

    __slots__ = ("loop", "_runs", "_handle", "_when", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._runs: dict[weakref.ref[Any], float] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._when = _INFINITY

    def watch(self, run: weakref.ref[Any], deadline: float) -> None:
        """Expire `run()` at `deadline` unless it is forgotten (or collected) first."""
        self._runs[run] = deadline
        if deadline < self._when:
            self._schedule(deadline)

    def forget(self, run: weakref.ref[Any]) -> None:
        self._runs.pop(run, None)

    def __len__(self) -> int:
        return len(self._runs)

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._when = _INFINITY
        now = self.loop.time()
        due = [run for run, deadline in self._runs.items() if deadline <= now]
        for run in due:
            del self._runs[run]
        if self._runs:
            self._schedule(min(self._runs.values()))
        for ref in due:
            target = ref()
            if target is not None:
                target.expire()


_watchdogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = \
    weakref.WeakKeyDictionary()
#: loops that take no weak reference (some C event loops): kept while they run
_pinned: dict[asyncio.AbstractEventLoop, Watchdog] = {}


def watchdog_for(loop: asyncio.AbstractEventLoop) -> Watchdog:
    """The loop's watchdog (made on first use, gone with the loop)."""
    try:
        dog = _watchdogs.get(loop)
        if dog is None:
            dog = _watchdogs[loop] = Watchdog(loop)
        return dog
    except TypeError:  # cannot create a weak reference to this loop
        for old in [old for old in _pinned if old.is_closed()]:
            del _pinned[old]
        dog = _pinned.get(loop)
        if dog is None:
            dog = _pinned[loop] = Watchdog(loop)
        return dog
