"""Server-sent events from an `EventLog`: resumable, with keep-alive comments.

Each of our events is one SSE message, `id:` = its seq and `data:` = its JSON (one line:
JSON text escapes newlines). A client that lost its connection reconnects with
`Last-Event-ID: <seq>` (EventSource does it by itself) and gets exactly the events after
that seq - from memory while the run is live, from the store once it has ended. While a
run is quiet (a slow model, a pending approval), a comment line every `keepalive_s`
keeps proxies from closing the connection. The response ends after the run's last event.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol

from .eventlog import Entry, EventLog
from .problems import Problem

KEEPALIVE = ": keep-alive\n\n"
RETRY_MS = 2000
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Renderer(Protocol):
    """Turns log entries into SSE text (ours: one message per event; AG-UI: several)."""

    def render(self, entry: Entry, skip: int = 0) -> str:
        """The entry's messages, without the first `skip` (a resume inside the entry)."""

    def skip(self, entry: Entry) -> None:
        """An entry the client already has (before Last-Event-ID): update state only."""


class JSONRenderer:
    """Our own events, as they are."""

    def render(self, entry: Entry, skip: int = 0) -> str:
        return f"id: {entry.seq}\ndata: {entry.data}\n\n"

    def skip(self, entry: Entry) -> None:
        pass


_POSITION = re.compile(r"(\d{1,18})(?:\.(\d{1,4}))?")


def resume_position(header: str | None, query: str | None) -> tuple[int, int]:
    """What a client has seen: `Last-Event-ID` header, else `?after=`; (0, 0) = nothing.

    `N` is "every message of event N"; `N.K` (AG-UI, where one event becomes several
    messages) is "the first K messages of event N", so a resume inside a group neither
    loses nor repeats a message. Returned as (last whole seq, messages of the next seen).
    """
    for name, value in (("Last-Event-ID", header), ("after", query)):
        if value is None or value == "":
            continue
        match = _POSITION.fullmatch(value)
        if match is None:
            raise Problem(400, "Bad request", f"{name}: expected the id of an event (a "
                          f"non-negative integer), got {value[:40]!r}", field=name,
                          slug="bad-request")
        seq, part = int(match.group(1)), int(match.group(2) or 0)
        return (seq - 1, part) if part else (seq, 0)
    return 0, 0


async def stream(log: EventLog, after: int, renderer: Renderer, keepalive_s: float,
                 part: int = 0) -> AsyncIterator[str]:
    """SSE text for everything after `after` (and `part` messages into the next event),
    live until the log closes."""
    for entry in log.since(0):
        if entry.seq > after:
            break
        renderer.skip(entry)
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        entries = log.since(after)
        if entries:
            after = entries[-1].seq
            text = "".join(renderer.render(e, part if i == 0 else 0)
                           for i, e in enumerate(entries))
            part = 0
            yield text
            continue
        if log.closed:
            return
        if not await log.wait(after, keepalive_s):
            yield KEEPALIVE
