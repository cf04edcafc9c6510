"""Approvals decided over HTTP: a run waits until someone answers, or the timeout denies.

Two kinds of question come here: a `requires_approval` tool the runtime is about to call
(`approve_tool`, the runtime's approver) and a plan step (or plan) that needs approval
(`approve_plan_step`, the plan executor's approver; its id is the plan's own approval id).
Each is parked under its approval id, shown on the run (`GET /v1/runs/{id}` ->
`pending_approvals`), announced through `on_asked` / `on_decided` (the run manager puts
them in the run's event stream), and waits for `POST /v1/runs/{id}/approvals/{id}`.
No answer within the timeout is a denial, so a forgotten run does not hold a slot for
ever; a decision is never taken for anyone - a run stopped mid-wait is denied, not approved.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stageagent.plan.approval import PlanApprovalRequest
from stageagent.toolcalls import ApprovalRequest

#: decisions remembered per live run, to answer "already decided" instead of "unknown"
MAX_DECIDED = 1000


class UnknownApprovalError(KeyError):
    """No approval with that id was asked in that run."""


class ApprovalDecidedError(Exception):
    """The approval was decided already (by a client, the timeout or a cancel)."""

    def __init__(self, approval_id: str, approved: bool, reason: str):
        super().__init__(approval_id)
        self.approved = approved
        self.reason = reason


@dataclass
class PendingApproval:
    id: str
    run_id: str
    kind: str  # "tool" or "plan_step"
    subject: dict[str, Any]
    asked_at: float
    decision: asyncio.Future[tuple[bool, str]] = field(repr=False)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "asked_at": self.asked_at, **self.subject}


def _ignore(*args: Any) -> None:
    return None


class ApprovalBroker:
    """Pending approvals of every run of one server."""

    def __init__(self, timeout_s: float,
                 on_change: Callable[[str, bool], None] | None = None):
        self.timeout_s = timeout_s
        self._pending: dict[str, dict[str, PendingApproval]] = {}
        self._decided: dict[str, dict[str, tuple[bool, str]]] = {}
        self._closed: set[str] = set()  # cancelled runs: every question is denied at once
        self.on_change: Callable[[str, bool], None] = on_change or _ignore
        self.on_asked: Callable[[PendingApproval], None] = _ignore
        self.on_decided: Callable[[PendingApproval, bool, str], None] = _ignore

    async def request(self, run_id: str, kind: str, subject: dict[str, Any], *,
                      approval_id: str | None = None) -> tuple[bool, str]:
        """Ask, and wait for the decision: (approved, reason)."""
        if run_id in self._closed:
            return False, "the run was cancelled"
        pending = PendingApproval(id=approval_id or uuid.uuid4().hex[:12], run_id=run_id,
                                  kind=kind, subject=subject, asked_at=time.time(),
                                  decision=asyncio.get_running_loop().create_future())
        self._pending.setdefault(run_id, {})[pending.id] = pending
        self.on_asked(pending)
        self.on_change(run_id, True)
        try:
            try:
                approved, reason = await asyncio.wait_for(pending.decision, self.timeout_s)
            except TimeoutError:
                approved, reason = False, f"no decision within {self.timeout_s:g} s"
            decided = self._decided.setdefault(run_id, {})
            if len(decided) < MAX_DECIDED:
                decided[pending.id] = (approved, reason)
            self.on_decided(pending, approved, reason)
            return approved, reason
        finally:  # decided, or the run stopped waiting (cancelled): no longer pending
            waiting = self._pending.get(run_id, {})
            waiting.pop(pending.id, None)
            if not waiting:
                self._pending.pop(run_id, None)
            self.on_change(run_id, bool(waiting))

    async def approve_tool(self, request: ApprovalRequest) -> tuple[bool, str]:
        """The runtime's approver (`StageAwareRuntime(approver=broker.approve_tool)`)."""
        return await self.request(request.run_id, "tool", {
            "tool": request.tool, "arguments": request.arguments,
            "tool_call_id": request.tool_call_id, "stage": request.stage})

    def plan_approver(self, run_id: str) -> Callable[[PlanApprovalRequest], Any]:
        """The plan executor's approver for the plan of run `run_id`."""
        async def approve(request: PlanApprovalRequest) -> tuple[bool, str]:
            return await self.request(run_id, "plan_step", {
                "plan_id": request.plan_id, "step_id": request.step_id,
                "summary": request.summary}, approval_id=request.approval_id)
        return approve

    def decide(self, run_id: str, approval_id: str, approved: bool, reason: str = "") -> None:
        pending = self._pending.get(run_id, {}).get(approval_id)
        if pending is None or pending.decision.done():
            earlier = self._decided.get(run_id, {}).get(approval_id)
            if earlier is not None:
                raise ApprovalDecidedError(approval_id, *earlier)
            raise UnknownApprovalError(approval_id)
        pending.decision.set_result((approved, reason or ("approved" if approved else "denied")))

    def close(self, run_id: str) -> None:
        """The run is being cancelled: deny what it waits for, and all it asks from now."""
        self._closed.add(run_id)
        for pending in list(self._pending.get(run_id, {}).values()):
            if not pending.decision.done():
                pending.decision.set_result((False, "the run was cancelled"))

    def forget(self, run_id: str) -> None:
        """The run has ended."""
        self._closed.discard(run_id)
        self._decided.pop(run_id, None)

    def pending(self, run_id: str) -> list[dict[str, Any]]:
        return [p.public() for p in self._pending.get(run_id, {}).values()]
