"""One timer per loop serves every stage deadline, in whatever order they arrive."""

from __future__ import annotations

import asyncio
import gc
import weakref

from stageagent import ScriptedModel, call
from stageagent.stage_config import StageTimeouts
from stageagent.watchdog import watchdog_for

from .helpers import add, make_runtime, stage


class Run:
    def __init__(self, name: str, fired: list[str]):
        self.name, self.fired = name, fired

    def expire(self) -> None:
        self.fired.append(self.name)


async def test_deadlines_fire_in_order_and_forgotten_runs_never_fire():
    loop = asyncio.get_running_loop()
    dog = watchdog_for(loop)
    assert watchdog_for(loop) is dog
    fired: list[str] = []
    now = loop.time()
    late, early, gone = Run("late", fired), Run("early", fired), Run("gone", fired)
    refs = [weakref.ref(r) for r in (late, early, gone)]
    dog.watch(refs[0], now + 0.06)
    dog.watch(refs[1], now + 0.02)  # earlier than the armed timer: it moves
    dog.watch(refs[2], now + 0.04)
    dog.forget(refs[2])
    await asyncio.sleep(0.035)
    assert fired == ["early"]
    await asyncio.sleep(0.05)
    assert fired == ["early", "late"]
    assert len(dog) == 0


async def test_many_runs_share_one_timer():
    loop = asyncio.get_running_loop()
    dog = watchdog_for(loop)
    fired: list[str] = []
    now = loop.time()
    runs = [Run(str(i), fired) for i in range(100)]
    for i, run in enumerate(runs):
        dog.watch(weakref.ref(run), now + 0.01 + i * 0.0001)
    timers = [h for h in loop._scheduled if not h.cancelled()]  # noqa: SLF001
    assert len(timers) == 1
    await asyncio.sleep(0.05)
    assert sorted(fired, key=int) == [str(i) for i in range(100)] and len(dog) == 0


async def test_an_abandoned_run_is_collected_before_its_deadline():
    model = ScriptedModel([call("add", {"a": 1, "b": 2}), "3"])
    config = stage(tools=["add"], timeouts=StageTimeouts(stage_s=600))
    run = make_runtime(add).run_stage(config, "x", model=model)
    async for event in run:
        if event.type == "tool_called":
            break  # the consumer walks away without closing the run
    ref = weakref.ref(run)
    del run, event
    gc.collect()
    await asyncio.sleep(0)  # the loop's finaliser closes the abandoned generator
    gc.collect()
    assert ref() is None
    assert len(watchdog_for(asyncio.get_running_loop())) == 0


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
    fired: list[str] = []
    run = Run("r", fired)
    dog.watch(weakref.ref(run), loop.time() + 0.01)
    await asyncio.sleep(0.03)
    assert fired == ["r"]
