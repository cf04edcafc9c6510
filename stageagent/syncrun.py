"""Run a coroutine to completion from synchronous code, whether or not a loop is running.

`asyncio.run()` refuses to start inside a running event loop, and a notebook cell always
runs inside one (IPython's kernel loop). `run_sync(coro)` uses `asyncio.run()` when the
calling thread has no loop, and otherwise runs the coroutine on a fresh loop in a worker
thread and blocks until it finishes. The caller's loop is blocked meanwhile (that is what
a synchronous call means); objects bound to that loop (a model client already used on it,
an `asyncio.Lock`) must not be shared with the coroutine - in a notebook prefer `await`.

Ctrl-C while waiting (a KeyboardInterrupt, as in Jupyter, or a cancel of the blocked task,
as `asyncio.run()` does) cancels the coroutine on the worker loop, waits for it to unwind
(tools cancelled, models closed), then re-raises in the caller.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_is_running() -> bool:
    """True when the calling thread is inside a running event loop (e.g. Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)`, also from inside a running event loop (in a worker thread)."""
    if not loop_is_running():
        return asyncio.run(coro)
    return _run_in_thread(coro)


def _run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    caller = asyncio.current_task()  # the blocked task; a cancel of it is passed on
    loop = asyncio.new_event_loop()
    outcome: dict[str, Any] = {}
    started = threading.Event()
    # not thread.join(): a join interrupted by Ctrl-C can mark a live thread as stopped
    done = threading.Event()
    holder: dict[str, asyncio.Future[T]] = {}

    async def main() -> T:
        holder["task"] = task = asyncio.ensure_future(coro)
        started.set()
        return await task

    def work() -> None:
        try:
            outcome["value"] = loop.run_until_complete(main())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc
        finally:
            started.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                done.set()

    def cancel() -> None:
        started.wait()
        task = holder.get("task")
        if task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop closed meanwhile: nothing left to cancel
                pass

    thread = threading.Thread(target=work, name="stageagent-run-sync", daemon=True)
    passed_on = False
    try:
        thread.start()
        while not done.wait(0.1):  # a timeout keeps Ctrl-C deliverable to this thread
            # asyncio.run() answers Ctrl-C by cancelling its main task, which cannot run
            # while we block it: pass the cancel on to the coroutine instead
            if not passed_on and caller is not None and caller.cancelling():
                passed_on = True
                cancel()
    except KeyboardInterrupt:
        cancel()
        done.wait()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
