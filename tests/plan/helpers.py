"""Small pieces shared by the plan tests: plans built in code and instrumented runners."""

from __future__ import annotations

import asyncio
from typing import Any

from stageagent.plan import ExecutionPlan, FunctionRunner, PlanOptions, Step


def plan_of(*steps: Step, **options: Any) -> ExecutionPlan:
    return ExecutionPlan(goal="test", steps=list(steps), options=PlanOptions(**options))


def step(id: str, target: str = "echo", *deps: str, **fields: Any) -> Step:
    return Step(id=id, target=target, depends_on=list(deps), **fields)


class Recorder:
    """Tools that record what ran, how often and how many at once."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.attempts: dict[str, int] = {}
        self.active = 0
        self.max_active = 0
        self.gates: dict[str, asyncio.Event] = {}
        self.cancelled: list[str] = []

    def gate(self, name: str) -> asyncio.Event:
        return self.gates.setdefault(name, asyncio.Event())

    def runner(self) -> FunctionRunner:
        return FunctionRunner({"echo": self.echo, "fail": self.fail, "wait": self.wait,
                               "flaky": self.flaky, "hang": self.hang, "open": self.open})

    async def echo(self, value: Any = None, tag: str = "") -> Any:
        """Return `value`."""
        self.calls.append(tag or str(value))
        return value

    async def fail(self, message: str = "boom") -> None:
        """Always raise."""
        self.calls.append(f"fail:{message}")
        raise RuntimeError(message)

    async def wait(self, gate: str, tag: str = "", opens: str = "") -> str:
        """Wait until `gate` is opened (by another step's `opens`)."""
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if opens:
                self.gate(opens).set()
            await self.gate(gate).wait()
        except asyncio.CancelledError:
            self.cancelled.append(tag or gate)
            raise
        finally:
            self.active -= 1
        self.calls.append(tag or gate)
        return tag or gate

    async def open(self, gate: str, tag: str = "") -> str:
        """Open `gate`."""
        self.gate(gate).set()
        self.calls.append(tag or f"open:{gate}")
        return gate

    async def flaky(self, key: str, failures: int) -> int:
        """Fail the first `failures` calls for `key`, then return the attempt number."""
        n = self.attempts[key] = self.attempts.get(key, 0) + 1
        if n <= failures:
            raise ConnectionError(f"{key} attempt {n} failed")
        return n

    async def hang(self, key: str) -> None:
        """Never return (until cancelled)."""
        self.attempts[key] = self.attempts.get(key, 0) + 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(f"{key}#{self.attempts[key]}")
            raise


class Busy(Recorder):
    """Adds `busy`: counts how many steps run at once (yields to the loop a few times)."""

    def runner(self) -> FunctionRunner:
        runner = super().runner()
        runner.tools["busy"] = self.busy
        return runner

    async def busy(self, tag: str = "") -> str:
        """Be busy for a few loop turns."""
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        for _ in range(5):
            await asyncio.sleep(0.004)  # long enough for slow stores to start the others
        self.active -= 1
        self.calls.append(tag)
        return tag
