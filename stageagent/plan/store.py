"""Durable plan state: the `PlanStore` interface, its records, and the fold that reads them.

Every transition (a plan created or revised, a status change, a step attempt starting,
ending, being skipped, an approval asked or decided) is one small append-only `Record`,
written BEFORE the executor announces it. A plan's state is the fold of its records
(`PlanState.load`), so the store grows linearly with transitions and a crash loses at
most the transition being written. A lease (owner, pid, host, heartbeat) says which
executor is running a plan, so a plan found `executing` with no live owner can be resumed.

Implementations: `MemoryPlanStore` (tests, the facade), `SQLitePlanStore` (default, one
file), `PostgresPlanStore` (backends). Another engine can stand in by implementing the
`PlanStore` protocol.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..exceptions import UnknownPlanError
from .model import ExecutionPlan

#: seconds without a heartbeat after which a lease counts as abandoned
LEASE_TTL_S = 15.0
HOST = socket.gethostname()


@dataclass(slots=True)
class Record:
    """One transition. `kind`: plan, plan_status, step, approval_requested,
    approval_decided, retry_decision."""

    plan_id: str
    kind: str
    step_id: str | None
    data: dict[str, Any]
    ts: float = 0.0
    seq: int = 0


@dataclass(slots=True)
class Lease:
    plan_id: str
    owner: str
    pid: int
    host: str
    heartbeat: float

    def is_live(self, now: float | None = None, ttl: float = LEASE_TTL_S) -> bool:
        """Held by a live executor: a fresh heartbeat and, on this host, a live pid."""
        now = time.time() if now is None else now
        if now - self.heartbeat > ttl:
            return False
        return self.host != HOST or pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@runtime_checkable
class PlanStore(Protocol):
    """Append-only transition log per plan, plus one lease per plan."""

    async def append(self, record: Record) -> None:
        """Write one record durably (sets `record.seq`)."""

    async def records(self, plan_id: str) -> list[Record]:
        """Every record of a plan, in write order (empty: unknown plan)."""

    async def plan_ids(self) -> list[str]:
        """Ids of all plans, oldest first."""

    async def acquire_lease(self, lease: Lease, *, ttl: float = LEASE_TTL_S) -> Lease | None:
        """Take the plan's lease unless a live one is held; returns the holder if refused."""

    async def renew_lease(self, lease: Lease) -> None:
        """Heartbeat: refresh `lease.heartbeat` in the store."""

    async def release_lease(self, lease: Lease) -> None:
        """Give the lease up (only if still ours)."""

    async def close(self) -> None: ...


@dataclass
class StepState:
    status: str = "pending"
    attempts: int = 0
    output: Any = None
    error: str | None = None
    error_type: str = ""
    interrupted: bool = False  # was running when its executor died


@dataclass
class ApprovalState:
    approval_id: str
    step_id: str | None
    summary: str = ""
    deadline: float | None = None
    decided: bool = False
    approved: bool = False
    by: str = ""
    reason: str = ""


@dataclass
class PlanState:
    """A plan as its records say it is."""

    plan: ExecutionPlan
    status: str = "draft"
    error: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    approvals: dict[str, ApprovalState] = field(default_factory=dict)
    retry_allowed: dict[str, int] = field(default_factory=dict)  # step -> attempts then
    records: int = 0

    @classmethod
    def load(cls, plan_id: str, records: list[Record]) -> PlanState:
        if not records or records[0].kind != "plan":
            raise UnknownPlanError(f"no plan {plan_id!r} in the store")
        state: PlanState | None = None
        for record in records:
            if record.kind == "plan":
                plan = ExecutionPlan.model_validate(record.data["plan"])
                if state is None:
                    state = cls(plan=plan)
                else:
                    state.revise(plan)
            else:
                assert state is not None
                state.apply(record)
            assert state is not None
            state.records += 1
        assert state is not None
        return state

    def revise(self, plan: ExecutionPlan) -> None:
        self.plan = plan
        for step in plan.steps:
            self.steps.setdefault(step.id, StepState())
        for gone in set(self.steps) - set(plan.step_ids):
            del self.steps[gone]

    def __post_init__(self) -> None:
        for step in self.plan.steps:
            self.steps.setdefault(step.id, StepState())

    def apply(self, record: Record) -> None:
        data = record.data
        kind = record.kind
        if kind == "step":
            step = self.steps[record.step_id]  # type: ignore[index]
            step.status = data["status"]
            step.attempts = data.get("attempt", step.attempts)
            if "output" in data:
                step.output = data["output"]
            step.error = data.get("error")
            step.error_type = data.get("error_type", "")
            step.interrupted = bool(data.get("interrupted"))
        elif kind == "plan_status":
            self.status = data["status"]
            self.error = data.get("error")
        elif kind == "approval_requested":
            aid = data["approval_id"]
            self.approvals[aid] = ApprovalState(aid, record.step_id, data.get("summary", ""),
                                                data.get("deadline"))
        elif kind == "approval_decided":
            approval = self.approvals[data["approval_id"]]
            approval.decided, approval.approved = True, bool(data["approved"])
            approval.by, approval.reason = data.get("by", ""), data.get("reason", "")
        elif kind == "retry_decision":
            self.retry_allowed[record.step_id] = data.get("attempt", 0)  # type: ignore[index]

    def statuses(self) -> list[str]:
        return [self.steps[s.id].status for s in self.plan.steps]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for status in self.statuses():
            counts[status] = counts.get(status, 0) + 1
        return counts

    def outputs(self) -> dict[str, Any]:
        return {sid: s.output for sid, s in self.steps.items() if s.status == "completed"}

    def plan_approval(self) -> ApprovalState | None:
        for approval in self.approvals.values():
            if approval.step_id is None:
                return approval
        return None


async def load_state(store: PlanStore, plan_id: str) -> PlanState:
    return PlanState.load(plan_id, await store.records(plan_id))
