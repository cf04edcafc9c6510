"""One timer per loop serves every stage deadline, in whatever order they arrive."""

from __future__ import annotations

import asyncio

from stageagent.watchdog import watchdog_for


async def test_deadlines_fire_in_order_and_forgotten_runs_never_fire():
    loop = asyncio.get_running_loop()
    dog = watchdog_for(loop)
    assert watchdog_for(loop) is dog
    fired: list[str] = []
    now = loop.time()
    late, early, gone = (lambda: fired.append("late")), (lambda: fired.append("early")), \
        (lambda: fired.append("gone"))
    dog.watch(late, now + 0.06)
    dog.watch(early, now + 0.02)  # earlier than the armed timer: it moves
    dog.watch(gone, now + 0.04)
    dog.forget(gone)
    await asyncio.sleep(0.035)
    assert fired == ["early"]
    await asyncio.sleep(0.05)
    assert fired == ["early", "late"]
    assert len(dog) == 0


async def test_many_runs_share_one_timer():
    loop = asyncio.get_running_loop()
    dog = watchdog_for(loop)
    fired: list[int] = []
    now = loop.time()
    callbacks = [(lambda i=i: fired.append(i)) for i in range(100)]
    for i, callback in enumerate(callbacks):
        dog.watch(callback, now + 0.01 + i * 0.0001)
    timers = [h for h in loop._scheduled if not h.cancelled()]  # noqa: SLF001
    assert len(timers) == 1
    await asyncio.sleep(0.05)
    assert sorted(fired) == list(range(100)) and len(dog) == 0


async def test_loops_without_weak_references_still_get_one_watchdog(monkeypatch):
    import stageagent.watchdog as module

    class NoWeakRefs(dict):
        def get(self, key, default=None):
            raise TypeError(f"cannot create weak reference to {type(key).__name__!r} object")

    monkeypatch.setattr(module, "_watchdogs", NoWeakRefs())
    monkeypatch.setattr(module, "_pinned", {})
    loop = asyncio.get_running_loop()
    dog = module.watchdog_for(loop)
    assert module.watchdog_for(loop) is dog and list(module._pinned) == [loop]
    fired = []
    dog.watch(lambda: fired.append(1), loop.time() + 0.01)
    await asyncio.sleep(0.03)
    assert fired == [1]
