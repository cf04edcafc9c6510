"""Time limits for one awaited call (a tool, a model turn) without a timer on the fast path.

Most tool and test-model calls finish without ever suspending; a timer could not fire
during them anyway, so the caller steps the coroutine once by hand (`coro.send(None)`)
and only a call that suspended is driven on by `finish_within`, under a timer.

When our timer fires it cancels the current task; that cancellation becomes
`DeadlineExpired` only when it was ours (an outside cancel still propagates), as in
`asyncio.timeout`. `DeadlineExpired` is deliberately not a `TimeoutError`: a
`TimeoutError` raised by the awaited code itself (its own HTTP client gave up) is that
code's failure, not our limit, and must not be reported as one.
"""

from __future__ import annotations

import asyncio
import types
from typing import Any


class DeadlineExpired(Exception):
    """Our time limit for one call passed (`seconds` is the limit)."""

    def __init__(self, seconds: float):
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


@types.coroutine
def resume_suspended(coro: Any, pending: Any) -> Any:
    """Go on driving a coroutine that was started by hand and suspended on `pending`
    (what `await` would do), delivering sends and throws (cancellation) to it."""
    while True:
        try:
            yield pending
        except BaseException as exc:  # noqa: BLE001 - handed to the coroutine
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            pending = coro.send(None)
        except StopIteration as stop:
            return stop.value


async def finish_within(coro: Any, pending: Any, timeout: float | None) -> Any:
    """Drive a suspended coroutine (or awaitable step) to its end within `timeout` s.

    Raises `DeadlineExpired` when the limit passes; `None` means no limit.
    """
    if timeout is None:
        return await resume_suspended(coro, pending)
    task = asyncio.current_task()
    assert task is not None
    cancelling = task.cancelling()
    fired = False

    def expire() -> None:
        nonlocal fired
        fired = True
        task.cancel()

    handle = asyncio.get_running_loop().call_later(max(timeout, 0.0), expire)
    try:
        return await resume_suspended(coro, pending)
    except asyncio.CancelledError:
        if fired and task.uncancel() <= cancelling:
            raise DeadlineExpired(timeout) from None
        raise
    finally:
        handle.cancel()


def steps_of(awaitable: Any) -> Any:
    """What `await awaitable` drives: the coroutine itself, or its `__await__()`."""
    return awaitable if type(awaitable) is types.CoroutineType else awaitable.__await__()


async def call_within(awaitable: Any, timeout: float | None) -> Any:
    """`await awaitable`, raising `DeadlineExpired` after `timeout` s (None: no limit).

    The first step runs by hand: an answer that needs no suspension needs no timer.
    """
    steps = steps_of(awaitable)
    try:
        pending = steps.send(None)
    except StopIteration as done:
        return done.value
    return await finish_within(steps, pending, timeout)


async def next_within(stream: Any, deadline: float | None) -> Any:
    """The next item of an async iterator, or None at its end; `DeadlineExpired` when
    loop time `deadline` passes first (None: no deadline)."""
    steps = steps_of(stream.__anext__())
    try:
        pending = steps.send(None)
    except StopIteration as done:
        return done.value
    except StopAsyncIteration:
        return None
    timeout = None if deadline is None else deadline - asyncio.get_running_loop().time()
    try:
        return await finish_within(steps, pending, timeout)
    except StopAsyncIteration:
        return None
