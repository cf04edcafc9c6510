"""Plan-and-execute: validated plans (LLM-written or templates), a DAG executor with
approvals, retries and timeouts, durable state and resume, and a bounded re-planner.

    from stageagent.plan import ExecutionPlan, Step, PlanExecutor, FunctionRunner
"""

from .approval import PlanApprovalRequest, PlanApprover, approval_id
from .catalog import Catalog
from .executor import PlanExecutor
from .memory_store import MemoryPlanStore
from .model import ExecutionPlan, PlanOptions, PlanStatus, Step, StepStatus, plan_json_schema
from .references import find_references, resolve
from .run import PlanResult, PlanRun, Replanner
from .runner import FunctionRunner, RuntimeStepRunner, StepContext, StepFailure, StepRunner
from .sqlite_store import SQLitePlanStore
from .store import Lease, PlanState, PlanStore, Record, StepState, load_state
from .validation import PlanIssue, ensure_valid, parse_plan, validate_plan

__all__ = [
    "Catalog", "ExecutionPlan", "FunctionRunner", "Lease", "MemoryPlanStore",
    "PlanApprovalRequest",
    "PlanApprover", "PlanExecutor", "PlanIssue", "PlanOptions", "PlanResult", "PlanRun",
    "PlanState", "PlanStatus", "PlanStore", "Record", "Replanner", "RuntimeStepRunner",
    "SQLitePlanStore", "Step", "StepContext", "StepFailure", "StepRunner", "StepState",
    "StepStatus", "approval_id", "ensure_valid", "find_references", "load_state", "parse_plan",
    "plan_json_schema", "resolve", "validate_plan",
]
