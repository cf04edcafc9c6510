"""stageagent: stage-aware ReAct agents.

One thought-tool runtime (think, call tools, observe, repeat until the stage's quality gate
passes or a limit stops it), stages as data (`stages/*.toml`), typed event streams, and a
report pipeline built on them. The public API is what this module exports; everything
else is internal and may change.
"""

from .budget import History, Spend
from .events import (
    BaseEvent,
    Emitter,
    Event,
    GroundingChecked,
    IterationCompleted,
    OutputFormatted,
    QualityGate,
    RunCompleted,
    RunFailed,
    RunStarted,
    StageCompleted,
    StageStarted,
    StopReason,
    TextDeltaEvent,
    Thought,
    ToolApproval,
    ToolCalled,
    ToolResultEvent,
    parse_event,
)
from .exceptions import (
    ContextTooLongError,
    MalformedResponseError,
    MissingAPIKeyError,
    ModelAuthError,
    ModelBadRequestError,
    ModelConnectionError,
    ModelError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelTimeoutError,
    OutputValidationError,
    PromptError,
    RecordingMismatchError,
    RegistryError,
    ScriptError,
    StageAgentError,
    StageConfigError,
    StreamInterruptedError,
    ToolDefinitionError,
    ToolError,
    UnknownModelError,
    UnknownStageError,
)
from .log import disable_logging, enable_logging
from .messages import (
    AssistantMessage,
    Message,
    MessagesAdapter,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResult,
    ToolReturnMessage,
    Usage,
    UserMessage,
)
from .models import FunctionModel, Model, ModelRequest, ModelSettings, ScriptedModel, call, infer_model
from .quality import Candidate, Evaluator, QualityReport, evaluator
from .runtime import StageAwareRuntime, StageResult, StageRun
from .stage_config import StageConfig, StageConfigManager
from .templating import PromptEnvironment
from .tool import Tool, ToolContext, tool
from .toolcalls import ApprovalRequest

disable_logging()

__version__ = "0.1.0"

__all__ = [
    # runtime
    "StageAwareRuntime", "StageRun", "StageResult", "StageConfig", "StageConfigManager",
    "PromptEnvironment", "History", "Spend",
    # tools and quality
    "Tool", "tool", "ToolContext", "ApprovalRequest", "Evaluator", "evaluator", "Candidate",
    "QualityReport",
    # models
    "Model", "ModelRequest", "ModelSettings", "ScriptedModel", "FunctionModel", "call",
    "infer_model",
    # messages
    "Message", "MessagesAdapter", "SystemMessage", "UserMessage", "AssistantMessage",
    "ToolReturnMessage", "ToolResult", "TextPart", "ThinkingPart", "ToolCallPart", "Usage",
    # events
    "Event", "BaseEvent", "Emitter", "StopReason", "parse_event", "RunStarted", "RunCompleted",
    "RunFailed", "StageStarted", "StageCompleted", "Thought", "TextDeltaEvent", "ToolCalled",
    "ToolApproval", "ToolResultEvent", "IterationCompleted", "QualityGate", "OutputFormatted",
    "GroundingChecked",
    # errors
    "StageAgentError", "StageConfigError", "UnknownStageError", "PromptError", "RegistryError",
    "ToolDefinitionError", "ToolError", "ModelError", "UnknownModelError", "MissingAPIKeyError",
    "ModelAuthError", "ModelBadRequestError", "ContextTooLongError", "ModelRateLimitError",
    "ModelOverloadedError", "ModelTimeoutError", "ModelConnectionError",
    "StreamInterruptedError", "MalformedResponseError", "ScriptError", "OutputValidationError",
    "RecordingMismatchError",
    # logging
    "enable_logging", "disable_logging",
]
