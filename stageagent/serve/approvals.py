"""Approvals decided over HTTP: a run waits until someone answers, or the timeout denies.

The runtime asks its approver (`StageAwareRuntime(approver=...)`) before a
`requires_approval` tool runs. Here that approver parks the question under a fresh
approval id, shows it on the run (`GET /v1/runs/{id}` -> `pending_approvals`), and waits
for `POST /v1/runs/{id}/approvals/{approval_id}`. No answer within the timeout is a
denial, so a forgotten run does not hold a slot for ever.

`request(run_id, kind, subject)` is not tied to tools: plan steps needing approval can
ask the same broker with `kind="plan_step"`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stageagent.toolcalls import ApprovalRequest


class UnknownApprovalError(KeyError):
    """No pending approval with that id in that run (never asked, or already decided)."""


@dataclass
class PendingApproval:
    id: str
    run_id: str
    kind: str
    subject: dict[str, Any]
    asked_at: float
    decision: asyncio.Future[tuple[bool, str]] = field(repr=False)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "asked_at": self.asked_at, **self.subject}


class ApprovalBroker:
    """Pending approvals of every run of one server."""

    def __init__(self, timeout_s: float,
                 on_change: Callable[[str, bool], None] | None = None):
        self.timeout_s = timeout_s
        self._pending: dict[str, dict[str, PendingApproval]] = {}
        self._closed: set[str] = set()  # cancelled runs: every question is denied at once
        self.on_change = on_change or (lambda run_id, waiting: None)

    async def request(self, run_id: str, kind: str, subject: dict[str, Any]) -> tuple[bool, str]:
        """Ask, and wait for the decision: (approved, reason)."""
        if run_id in self._closed:
            return False, "the run was cancelled"
        loop = asyncio.get_running_loop()
        pending = PendingApproval(id=uuid.uuid4().hex[:12], run_id=run_id, kind=kind,
                                  subject=subject, asked_at=time.time(),
                                  decision=loop.create_future())
        self._pending.setdefault(run_id, {})[pending.id] = pending
        self.on_change(run_id, True)
        try:
            return await asyncio.wait_for(pending.decision, self.timeout_s)
        except TimeoutError:
            return False, f"no decision within {self.timeout_s:g} s"
        finally:
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

    def decide(self, run_id: str, approval_id: str, approved: bool, reason: str = "") -> None:
        pending = self._pending.get(run_id, {}).get(approval_id)
        if pending is None or pending.decision.done():
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

    def pending(self, run_id: str) -> list[dict[str, Any]]:
        return [p.public() for p in self._pending.get(run_id, {}).values()]
