"""The public API, pinned (as httpx pins its exports): the list below changes only on
purpose, every name resolves lazily to the object of its module, and the static imports
that IDEs and mypy read agree with the lazy table."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import stageagent
import stageagent.exceptions as errors

PUBLIC = sorted([
    # report pipeline
    "StageAwareFacade", "ReportResult", "ReportRun", "run_report_sync", "write_report",
    # runtime and stages
    "StageAwareRuntime", "StageRun", "StageResult", "StageConfig", "StageConfigManager",
    "PromptEnvironment", "Toolkit", "History", "Spend",
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
    "StageAgentError", "UserError", "RunError", "StageConfigError", "UnknownStageError",
    "PromptError", "RegistryError", "ConstructionError", "ToolDefinitionError", "ToolError",
    "ModelError", "UnknownModelError", "MissingAPIKeyError", "ModelAuthError",
    "ModelBadRequestError", "ContextTooLongError", "ModelRateLimitError",
    "ModelOverloadedError", "ModelTimeoutError", "ModelConnectionError",
    "StreamInterruptedError", "MalformedResponseError", "ScriptError",
    "OutputValidationError", "RecordingMismatchError", "PlanError", "PlanValidationError",
    "PlanGenerationError", "PlanStateError", "UnknownPlanError", "PlanReferenceError",
    # plan-and-execute
    "ExecutionPlan", "Step", "PlanOptions", "PlanExecutor", "validate_plan", "plan_json_schema",
    # front doors: traces, sync entry points (notebooks)
    "traced", "run_sync",
    # logging
    "enable_logging", "disable_logging",
])


def test_the_public_names_are_exactly_these():
    assert sorted(stageagent.__all__) == PUBLIC
    assert len(set(stageagent.__all__)) == len(stageagent.__all__)
    listed = {n for n in dir(stageagent) if not n.startswith("_")
              and not inspect.ismodule(vars(stageagent).get(n))}  # submodules, once imported
    assert listed - {"annotations", "TYPE_CHECKING", "Any"} == set(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_name_resolves_to_its_module_object(name):
    module = stageagent._EXPORTS[name]  # noqa: SLF001 - the table under test
    assert getattr(stageagent, name) is getattr(importlib.import_module(module, "stageagent"),
                                                 name)


def test_static_imports_agree_with_the_lazy_table():
    tree = ast.parse(Path(stageagent.__file__).read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If)
                   and getattr(node.test, "id", "") == "TYPE_CHECKING")
    static = {alias.name: "." + node.module for node in guarded.body
              if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert static == stageagent._EXPORTS  # noqa: SLF001


def test_every_error_is_exported_and_in_the_drawn_tree():
    classes = {name for name, obj in vars(errors).items()
               if inspect.isclass(obj) and issubclass(obj, errors.StageAgentError)}
    assert classes <= set(PUBLIC)
    tree = errors.__doc__ or ""
    assert all(name in tree for name in classes), sorted(n for n in classes if n not in tree)


def test_mistakes_and_failures_are_apart():
    mistakes = [errors.StageConfigError, errors.UnknownStageError, errors.PromptError,
                errors.RegistryError, errors.ToolDefinitionError, errors.ConstructionError,
                errors.ScriptError]
    assert all(issubclass(e, errors.UserError) for e in mistakes)
    failures = [errors.OutputValidationError, errors.RecordingMismatchError]
    assert all(issubclass(e, errors.RunError) and not issubclass(e, errors.UserError)
               for e in failures)
    assert not issubclass(errors.ModelError, errors.UserError)


def test_import_stays_lazy():
    code = ("import sys, stageagent\n"
            "print(sorted(m for m in sys.modules if m.startswith('stageagent')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "['stageagent']", done.stderr
