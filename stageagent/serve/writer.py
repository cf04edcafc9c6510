"""Events to the store first, then to the clients: the `EventWriter`.

Events of every run go through one queue; a single task writes whatever has piled up in
one transaction and only then publishes those events to the runs' in-memory logs. So no
client ever sees an event that a restart would lose, and a stream resumed from the store
continues exactly where the live one stopped. Store calls run on threads of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any


from stageagent.log import get_logger

from .eventlog import Entry
from .store import RunStore

log = get_logger().bind(component="stageagent.serve")  # silent unless serve enables it


class StoreThreads:
    """The store's own worker threads: its calls never queue behind tools, which share
    the loop's default executor (a chart render there must not delay an event)."""

    def __init__(self, store: RunStore, workers: int = 2):
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stageagent-store")

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class EventWriter:
    """Batches events into the store, then publishes them (write, then show)."""

    def __init__(self, store: RunStore, publish: Callable[[str, Entry], None]):
        self.store = store
        self.publish = publish
        # the only thread that writes: SQLite takes one writer at a time, and a writer
        # waiting for its lock backs off in sleeps of up to 100 ms - every store write of
        # the server goes through `write()` so none ever waits for another
        self._thread = StoreThreads(store, workers=1)
        self._queue: asyncio.Queue[tuple[str, Entry]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="stageagent-event-writer")

    async def write(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Any other store write (runs, artifacts), on the same single thread."""
        return await self._thread.call(fn, *args)

    def put(self, run_id: str, entry: Entry) -> None:
        self._queue.put_nowait((run_id, entry))

    async def flush(self) -> None:
        """Wait until everything put so far is written and published."""
        await self._queue.join()

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._thread.close()

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            rows = [(run_id, e.seq, e.type, e.data) for run_id, e in batch]
            try:
                await self._thread.call(self.store.append_events, rows)
            except Exception as exc:  # noqa: BLE001 - the live stream goes on; say so
                log.error("cannot persist {} event(s): {}", len(rows), exc)
            for run_id, entry in batch:
                self.publish(run_id, entry)
                self._queue.task_done()
