"""A run's event log in memory: append-only, read by any number of followers.

Each entry is `(seq, type, json)` - the event serialised once, however many clients
watch. A follower asks for what came after the last seq it saw (`since`), and waits for
more (`wait`); that is all resuming from `Last-Event-ID` needs: nothing lost, nothing
repeated, because a position is a seq and seqs only grow.

Waiting is one `asyncio.Event` per append generation: an append wakes every follower at
once and arms a fresh event, so a follower costs nothing while the run is quiet.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from typing import NamedTuple


class Entry(NamedTuple):
    seq: int
    type: str
    data: str


class EventLog:
    """The events of one run; `closed` once the run has ended (no more will come)."""

    __slots__ = ("_seqs", "_entries", "_changed", "closed")

    def __init__(self, entries: list[Entry] | None = None, *, closed: bool = False):
        self._entries: list[Entry] = list(entries or [])
        self._seqs = [e.seq for e in self._entries]
        self._changed = asyncio.Event()
        self.closed = closed

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last_seq(self) -> int:
        return self._seqs[-1] if self._seqs else 0

    def append(self, seq: int, type: str, data: str) -> None:
        if self.closed:
            raise RuntimeError("append to a closed event log")
        if self._seqs and seq <= self._seqs[-1]:
            raise ValueError(f"event seq {seq} after {self._seqs[-1]}: seqs must increase")
        self._seqs.append(seq)
        self._entries.append(Entry(seq, type, data))
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def since(self, after: int) -> list[Entry]:
        """Every entry with seq > `after`, in order."""
        return self._entries[bisect_right(self._seqs, after):]

    async def wait(self, after: int, timeout: float) -> bool:
        """Wait until there is an entry after `after` or the log closes; False on timeout."""
        if self.closed or self.last_seq > after:
            return True
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        return True
