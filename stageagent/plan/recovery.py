"""Resume rules: what a plan found in the store may do, and how the steps an earlier
run left unfinished are settled before anything runs again.

* A rejected or cancelled plan is final: `check_resumable` refuses it.
* Completed steps stay completed - never rerun.
* A step whose approval was rejected stays failed - not even a retry decision revives it.
* A step found `running` (its executor died): an idempotent one runs again; a
  non-idempotent one is marked failed ("interrupted") unless the caller decided to retry
  it (`resume(plan_id, retry=[step])`, a recorded decision for its current attempt).
* Failed idempotent steps, and skipped or cancelled steps, go back to pending.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import PlanStateError
from .approval import approval_id
from .store import PlanState


def check_resumable(plan_id: str, state: PlanState) -> None:
    approval = state.plan_approval()
    if approval is not None and approval.decided and not approval.approved:
        raise PlanStateError(f"plan {plan_id!r} was rejected ({approval.by or '?'}: "
                             f"{approval.reason or 'no reason'}); it cannot be resumed")
    if state.status == "cancelled":
        raise PlanStateError(f"plan {plan_id!r} was cancelled "
                             f"({state.error or 'no reason'}); a cancelled plan is final")


def rejected(plan_id: str, state: PlanState, step_id: str) -> bool:
    approval = state.approvals.get(approval_id(plan_id, step_id))
    return approval is not None and approval.decided and not approval.approved


def settle(plan_id: str, state: PlanState) -> list[tuple[str, dict[str, Any]]]:
    """The step records that settle an earlier run's unfinished steps, in plan order."""
    records: list[tuple[str, dict[str, Any]]] = []
    for step in state.plan.steps:
        st = state.steps[step.id]
        if st.status in ("pending", "completed") or rejected(plan_id, state, step.id):
            continue
        allowed = state.retry_allowed.get(step.id) == st.attempts
        if st.status == "running" and not (step.idempotent or allowed):
            records.append((step.id, {
                "status": "failed", "attempt": st.attempts, "interrupted": True,
                "error_type": "interrupted",
                "error": "interrupted: its executor died while this non-idempotent step "
                         "was running; it is not retried without a decision "
                         f"(resume with retry=[{step.id!r}])"}))
        elif st.status in ("skipped", "cancelled") or step.idempotent or allowed:
            records.append((step.id, {"status": "pending", "attempt": st.attempts}))
    return records
