"""Approvals of a plan or a step: asked once, decided once, and never bypassed.

Each approval has its own stable id (`<plan>:plan`, `<plan>:step:<step>`), so several
pending approvals are decided independently and in any order, and a decision written
before a crash is found again on resume. A decision comes from the async approver
callback or from `PlanRun.approve/reject` - whichever is first; the approval timeout
decides "rejected (timed out)". The request and the decision are records in the store,
written before they are announced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Union

from ..exceptions import PlanStateError
from .store import ApprovalState


@dataclass(frozen=True, slots=True)
class PlanApprovalRequest:
    """What an approver is asked: may this plan (step_id None) or this step run?"""

    plan_id: str
    approval_id: str
    step_id: str | None
    summary: str


#: returns True/False, or (approved, reason)
PlanApprover = Callable[[PlanApprovalRequest], Awaitable[Union[bool, tuple[bool, str]]]]


def approval_id(plan_id: str, step_id: str | None) -> str:
    return f"{plan_id}:plan" if step_id is None else f"{plan_id}:step:{step_id}"


class Approvals:
    """The approvals of one plan run.

    `write(kind, step_id, data)` records a transition (store first, then the event).
    """

    def __init__(self, plan_id: str, approvals: dict[str, ApprovalState],
                 write: Callable[[str, str | None, dict[str, Any]], Awaitable[None]],
                 approver: PlanApprover | None = None):
        self.plan_id = plan_id
        self.states = approvals  # the plan state's, updated by `write`
        self._write = write
        self._approver = approver
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._deciding: set[str] = set()  # a decision being written: the first one wins

    def pending(self) -> list[ApprovalState]:
        return [a for a in self.states.values() if not a.decided]

    async def obtain(self, step_id: str | None, summary: str,
                     timeout: float | None) -> ApprovalState:
        """Ask (unless asked before), then wait for the decision."""
        aid = approval_id(self.plan_id, step_id)
        state = self.states.get(aid)
        if state is None:
            deadline = time.time() + timeout if timeout is not None else None
            await self._write("approval_requested", step_id, {
                "approval_id": aid, "summary": summary, "deadline": deadline,
                "timeout_s": timeout})
            state = self.states[aid]
        if state.decided:
            return state
        future = self._waiters[aid] = asyncio.get_running_loop().create_future()
        asker = None
        if self._approver is not None:
            request = PlanApprovalRequest(self.plan_id, aid, step_id, state.summary)
            asker = asyncio.ensure_future(self._ask(request))
        try:
            remaining = None if state.deadline is None else max(0.0, state.deadline - time.time())
            try:
                await asyncio.wait_for(asyncio.shield(future), remaining)
            except TimeoutError:
                if not state.decided and aid not in self._deciding:
                    await self._decide(aid, False, "timeout",
                                       f"no decision within {timeout}s (approval timeout)")
        finally:
            self._waiters.pop(aid, None)
            if asker is not None and not asker.done():
                asker.cancel()
        return state

    async def _ask(self, request: PlanApprovalRequest) -> None:
        try:
            answer = await self._approver(request)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - a broken approver rejects, never approves
            answer = (False, f"the approver raised {type(exc).__name__}: {exc}")
        approved, reason = answer if isinstance(answer, tuple) else (bool(answer), "")
        if not self.states[request.approval_id].decided \
                and request.approval_id not in self._deciding:
            await self._decide(request.approval_id, bool(approved), "approver", reason)

    async def decide(self, aid: str, approved: bool, by: str = "", reason: str = "") -> None:
        """A decision from outside (`PlanRun.approve` / `reject`)."""
        state = self.states.get(aid)
        if state is None:
            known = ", ".join(sorted(self.states)) or "none"
            raise PlanStateError(f"no approval {aid!r} was requested (requested: {known})")
        if state.decided or aid in self._deciding:
            verdict = "approved" if state.approved else "rejected"
            raise PlanStateError(f"approval {aid!r} was already decided: {verdict} "
                                 f"by {state.by or '?'}")
        await self._decide(aid, approved, by, reason)

    async def _decide(self, aid: str, approved: bool, by: str, reason: str) -> None:
        state = self.states[aid]
        self._deciding.add(aid)
        try:
            await self._write("approval_decided", state.step_id, {
                "approval_id": aid, "approved": approved, "by": by, "reason": reason})
        finally:
            self._deciding.discard(aid)
        waiter = self._waiters.get(aid)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
