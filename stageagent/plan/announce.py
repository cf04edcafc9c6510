"""Which event announces a transition: one `Record` in, the plan event out (or None).

The executor writes a record, applies it, then announces it with `announce`; the
events are built from the executor's own values, without validation.
"""

from __future__ import annotations

from typing import Any

from .. import events as ev
from ..events import Emitter
from .model import Step

def announce(emitter: Emitter, pid: str, steps: dict[str, Step], kind: str,
             step_id: str | None, data: dict[str, Any]) -> Any:
    """The event for a record of `kind` (step, approval_requested, approval_decided)."""
    make = emitter.make
    if kind == "step":
        return _step_event(emitter, pid, steps, step_id, data)
    if kind == "approval_requested":
        return make(ev.ApprovalRequested, plan_id=pid, approval_id=data["approval_id"],
                    step_id=step_id, summary=data.get("summary", ""),
                    timeout_s=data.get("timeout_s"))
    if kind == "approval_decided":
        return make(ev.ApprovalDecided, plan_id=pid, approval_id=data["approval_id"],
                    step_id=step_id, approved=data["approved"], by=data.get("by", ""),
                    reason=data.get("reason", ""))
    return None


def _step_event(em: Emitter, pid: str, steps: dict[str, Step], step_id: str | None,
                data: dict[str, Any]) -> Any:
    status = data["status"]
    attempt = data.get("attempt", 0)
    if status == "running":
        step = steps[step_id]  # type: ignore[index]
        return em.make(ev.StepStarted, stage="", iteration=0, plan_id=pid, step_id=step_id,
                       attempt=attempt, kind=step.kind, target=step.target)
    if status == "completed":
        return em.make(ev.StepCompleted, stage="", iteration=0, plan_id=pid,
                       step_id=step_id, attempt=attempt,
                       duration_ms=data.get("duration_ms", 0.0))
    if status == "failed" or (status == "pending" and data.get("error")):
        return em.make(ev.StepFailed, plan_id=pid, step_id=step_id, attempt=attempt,
                       error=data.get("error") or "", error_type=data.get("error_type", ""),
                       will_retry=status == "pending")
    if status in ("skipped", "cancelled"):
        return em.make(ev.StepSkipped, plan_id=pid, step_id=step_id, status=status,
                       reason=data.get("error") or "")
    return None  # back to pending on resume: nothing to announce
