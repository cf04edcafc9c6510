"""Which steps may start now: dependency counting over the plan's DAG.

A step is ready when every dependency completed; it is blocked for good when one of
them failed, was skipped or cancelled. `Schedule` is rebuilt from the step statuses at
start, after a resume and after a revision, and updated in O(dependents) per finished
step - so a step starts the moment its last dependency completes, never in waves.
"""

from __future__ import annotations

from collections import deque

from .model import ExecutionPlan
from .store import StepState

BLOCKING = frozenset({"failed", "skipped", "cancelled"})


class Schedule:
    def __init__(self, plan: ExecutionPlan, steps: dict[str, StepState]):
        self.waiting: dict[str, int] = {}  # pending step -> dependencies not completed yet
        self.dependents: dict[str, list[str]] = {s.id: [] for s in plan.steps}
        self.ready: deque[str] = deque()
        self.blocked: list[str] = []  # pending steps that can never run (a dep failed)
        dependents = self.dependents
        for step in plan.steps:
            sid = step.id
            for dep in step.depends_on:
                dependents[dep].append(sid)
            if steps[sid].status != "pending":
                continue
            left, blocked = 0, False
            for dep in step.depends_on:
                status = steps[dep].status
                if status == "completed":
                    continue
                if status in BLOCKING:
                    blocked = True
                    break
                left += 1
            if blocked:
                self.blocked.append(sid)
                continue
            self.waiting[sid] = left
            if left == 0:
                self.ready.append(sid)

    def completed(self, step_id: str) -> None:
        """`step_id` completed: its dependents with no other open dependency are ready."""
        waiting = self.waiting
        for child in self.dependents[step_id]:
            left = waiting.get(child)
            if left is not None:
                left -= 1
                waiting[child] = left
                if left == 0:
                    self.ready.append(child)

    def unreachable(self, step_id: str) -> list[str]:
        """`step_id` failed for good: every pending step depending on it (transitively)."""
        found: list[str] = []
        todo = list(self.dependents[step_id])
        while todo:
            child = todo.pop()
            if child in self.waiting:
                del self.waiting[child]
                found.append(child)
                todo.extend(self.dependents[child])
        return found

    def take(self, step_id: str) -> None:
        """`step_id` leaves the ready queue to start (or to wait for its approval)."""
        self.waiting.pop(step_id, None)
