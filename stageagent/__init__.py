"""stageagent: stage-aware ReAct agents.

One thought-tool runtime (think, call tools, observe, repeat until the stage's quality gate
passes or a limit stops it), stages as data (`stages/*.toml`), typed event streams, and a
report pipeline built on them. The public API is what this module exports; everything
else is internal and may change.

The public names are written once, in `_EXPORTS` (name -> module); `__all__` is derived from
it, and tests/core/test_exported_members.py pins both the list and the static imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module: resolved on first access (PEP 562), so `import stageagent` stays cheap
# and a notebook that only builds messages never imports the runtime or asyncio.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["History", "Spend"], ".budget"),
    **dict.fromkeys([
        "BaseEvent", "Emitter", "Event", "GroundingChecked", "IterationCompleted",
        "OutputFormatted", "QualityGate", "RunCompleted", "RunFailed", "RunStarted",
        "StageCompleted", "StageStarted", "StopReason", "TextDeltaEvent", "Thought",
        "ToolApproval", "ToolCalled", "ToolResultEvent", "parse_event"
    ], ".events"),
    **dict.fromkeys([
        "ConstructionError", "ContextTooLongError", "MalformedResponseError",
        "MissingAPIKeyError", "ModelAuthError", "ModelBadRequestError", "ModelConnectionError",
        "ModelError", "ModelOverloadedError", "ModelRateLimitError", "ModelTimeoutError",
        "OutputValidationError", "PlanError", "PlanGenerationError", "PlanReferenceError",
        "PlanStateError", "PlanValidationError", "PromptError", "RecordingMismatchError",
        "RegistryError", "RunError", "ScriptError", "StageAgentError", "StageConfigError",
        "StreamInterruptedError", "ToolDefinitionError", "ToolError", "UnknownModelError",
        "UnknownPlanError", "UnknownStageError", "UserError"
    ], ".exceptions"),
    **dict.fromkeys(["disable_logging", "enable_logging"], ".log"),
    **dict.fromkeys([
        "AssistantMessage", "Message", "MessagesAdapter", "SystemMessage", "TextPart",
        "ThinkingPart", "ToolCallPart", "ToolResult", "ToolReturnMessage", "Usage",
        "UserMessage"
    ], ".messages"),
    **dict.fromkeys([
        "FunctionModel", "Model", "ModelRequest", "ModelSettings", "ScriptedModel", "call",
        "infer_model"
    ], ".models"),
    **dict.fromkeys(["Candidate", "Evaluator", "QualityReport", "evaluator"], ".quality"),
    **dict.fromkeys(["StageAwareRuntime", "StageResult", "StageRun"], ".runtime"),
    **dict.fromkeys(["StageConfig", "StageConfigManager"], ".stage_config"),
    **dict.fromkeys(["PromptEnvironment"], ".templating"),
    **dict.fromkeys(["Toolkit"], ".registry"),
    **dict.fromkeys(["Tool", "ToolContext", "tool"], ".function_tools"),
    **dict.fromkeys(["ApprovalRequest"], ".toolcalls"),
    **dict.fromkeys(["StageAwareFacade", "ReportResult", "ReportRun", "run_report_sync"],
                    ".facade"),
    **dict.fromkeys(["write_report"], ".report"),
    **dict.fromkeys(["ExecutionPlan", "PlanExecutor", "PlanOptions", "Step", "plan_json_schema",
                     "validate_plan"], ".plan"),
    **dict.fromkeys(["traced"], ".tracing"),
    **dict.fromkeys(["run_sync"], ".syncrun"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stageagent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # static analysers and IDEs see the real imports
    from .budget import History, Spend  # noqa: F401
    from .events import (  # noqa: F401
        BaseEvent, Emitter, Event, GroundingChecked, IterationCompleted,
        OutputFormatted, QualityGate, RunCompleted, RunFailed, RunStarted,
        StageCompleted, StageStarted, StopReason, TextDeltaEvent, Thought, ToolApproval,
        ToolCalled, ToolResultEvent, parse_event
    )
    from .exceptions import (  # noqa: F401
        ConstructionError, ContextTooLongError, MalformedResponseError, MissingAPIKeyError,
        ModelAuthError, ModelBadRequestError, ModelConnectionError, ModelError,
        ModelOverloadedError, ModelRateLimitError, ModelTimeoutError, OutputValidationError,
        PlanError, PlanGenerationError, PlanReferenceError, PlanStateError,
        PlanValidationError, PromptError, RecordingMismatchError, RegistryError, RunError,
        ScriptError, StageAgentError, StageConfigError, StreamInterruptedError,
        ToolDefinitionError, ToolError, UnknownModelError, UnknownPlanError,
        UnknownStageError, UserError
    )
    from .log import disable_logging, enable_logging  # noqa: F401
    from .messages import (  # noqa: F401
        AssistantMessage, Message, MessagesAdapter, SystemMessage, TextPart,
        ThinkingPart, ToolCallPart, ToolResult, ToolReturnMessage, Usage, UserMessage
    )
    from .models import (  # noqa: F401
        FunctionModel, Model, ModelRequest, ModelSettings, ScriptedModel, call,
        infer_model
    )
    from .quality import Candidate, Evaluator, QualityReport, evaluator  # noqa: F401
    from .runtime import StageAwareRuntime, StageResult, StageRun  # noqa: F401
    from .stage_config import StageConfig, StageConfigManager  # noqa: F401
    from .templating import PromptEnvironment  # noqa: F401
    from .registry import Toolkit  # noqa: F401
    from .function_tools import Tool, ToolContext, tool  # noqa: F401
    from .toolcalls import ApprovalRequest  # noqa: F401
    from .facade import ReportResult, ReportRun, StageAwareFacade, run_report_sync  # noqa: F401
    from .report import write_report  # noqa: F401
    from .plan import (  # noqa: F401
        ExecutionPlan, PlanExecutor, PlanOptions, Step, plan_json_schema, validate_plan
    )
    from .tracing import traced  # noqa: F401
    from .syncrun import run_sync  # noqa: F401

__all__ = list(_EXPORTS)
