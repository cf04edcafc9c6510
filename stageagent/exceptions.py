"""Every error stageagent raises, in one hierarchy (httpx style).

Each error says *what* was wrong and *where*: the file and key for configuration, the
template and variable for prompts, the tool and argument for tools, the provider and
status for models. Catch `StageAgentError` to catch them all.

StageAgentError
 +-- UserError: the developer's mistake (code, stage file, set-up); retrying cannot help
 |    +-- StageConfigError ............ a stage file or config: names file and key
 |    |    +-- UnknownStageError
 |    +-- PromptError ................. template missing, malformed, or variable not given
 |    +-- RegistryError ............... unknown tool/evaluator/toolkit, bad "module:attr"
 |    +-- ToolDefinitionError ......... a function that cannot become a tool
 |    +-- ConstructionError ........... a plain class that cannot hold what it declares
 |    +-- ScriptError ................. a ScriptedModel used other than scripted
 +-- ToolError: raised inside a tool on purpose; becomes an observation the model sees
 +-- ModelError: a model call failed (`retryable` says whether a retry may help)
 |    +-- UnknownModelError, MissingAPIKeyError, ModelAuthError
 |    +-- ModelBadRequestError
 |    |    +-- ContextTooLongError
 |    +-- ModelRateLimitError, ModelOverloadedError, ModelTimeoutError  (retryable)
 |    +-- ModelConnectionError (retryable)
 |    |    +-- StreamInterruptedError
 |    +-- MalformedResponseError
 +-- RunError: a run could not produce what was asked, with correct code and config
 |    +-- OutputValidationError ....... no valid output schema within the format retries
 |    +-- RecordingMismatchError ...... a replayed request is not in the cassette
 +-- PlanError: plan-and-execute (`stageagent.plan`)
      +-- PlanValidationError ......... every problem of a plan, each naming step id and field
      +-- PlanGenerationError ......... no valid plan from the model within its repairs
      +-- PlanStateError .............. what the plan's state forbids (resume a rejected plan)
      +-- UnknownPlanError ............ a plan id the store has no record of
      +-- PlanReferenceError .......... a `${steps...}` reference its step cannot resolve

A stage run itself does not raise for a run's failures: it ends with a `StageCompleted`
whose reason says why. Exceptions are for misuse (UserError), for tools (ToolError), and for
callers of the model adapters and replay directly.
"""

from __future__ import annotations

from pathlib import Path


class StageAgentError(Exception):
    """Base class of every stageagent error."""


class UserError(StageAgentError):
    """A developer's mistake - in code, a stage file or the set-up. Fix it; do not retry."""


class RunError(StageAgentError):
    """A run could not produce what was asked, although code and config are correct."""


# --- configuration -------------------------------------------------------------------


class StageConfigError(UserError):
    """A stage file is malformed or names something that does not exist."""

    def __init__(self, message: str, *, path: str | Path | None = None, key: str | None = None):
        self.path = str(path) if path is not None else None
        self.key = key
        where = ""
        if self.path:
            where = self.path
            if key:
                where += f" [{key}]"
            where += ": "
        elif key:
            where = f"[{key}]: "
        super().__init__(f"{where}{message}")
        self.message = message


class UnknownStageError(StageConfigError):
    """A stage name that no loaded stage file defines."""


class PromptError(UserError):
    """A prompt template is missing, malformed, or was rendered without a variable."""

    def __init__(self, message: str, *, template: str, variable: str | None = None):
        self.template = template
        self.variable = variable
        super().__init__(message)


class RegistryError(UserError):
    """A name that a registry (tools, evaluators, output schemas) does not know."""


class ConstructionError(UserError):
    """A `PlainClass` (`stageagent.plainclass`) that declares what it cannot hold, e.g. a
    mutable default every instance would share."""


# --- tools ---------------------------------------------------------------------------


class ToolDefinitionError(UserError):
    """A function cannot become a tool (unsupported signature, bad annotation...)."""


class ToolError(StageAgentError):
    """Raise inside a tool to hand the model a corrective message instead of a crash.

    The message becomes an error observation the model sees; it counts against the
    tool's retry budget.
    """


# --- models --------------------------------------------------------------------------


class ModelError(StageAgentError):
    """Base of every model/provider failure. `retryable` says whether a retry may help."""

    retryable: bool = False

    def __init__(self, message: str, *, provider: str | None = None, model: str | None = None,
                 status: int | None = None):
        self.provider = provider
        self.model = model
        self.status = status
        prefix = ""
        if provider or model:
            prefix = f"{provider or '?'}:{model or '?'}"
            if status is not None:
                prefix += f" (HTTP {status})"
            prefix += ": "
        super().__init__(f"{prefix}{message}")
        self.message = message


class UnknownModelError(ModelError):
    """A model id that no adapter resolves (`provider:model`)."""


class MissingAPIKeyError(ModelError):
    """The provider's API key is not configured; names the environment variable."""

    def __init__(self, variable: str, *, provider: str, model: str | None = None):
        self.variable = variable
        super().__init__(
            f"no API key: set the environment variable {variable} (or pass api_key=...)",
            provider=provider, model=model)


class ModelAuthError(ModelError):
    """The provider refused the credentials (401/403)."""


class ModelBadRequestError(ModelError):
    """The provider rejected the request as malformed (400/404/422)."""


class ContextTooLongError(ModelBadRequestError):
    """The prompt exceeds the model's context window."""


class ModelRateLimitError(ModelError):
    """429: too many requests. `retry_after` (seconds) when the provider said."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ModelOverloadedError(ModelError):
    """529 / 5xx / in-band overloaded error: the provider is temporarily unable."""

    retryable = True


class ModelTimeoutError(ModelError):
    """No (complete) answer within the configured timeout."""

    retryable = True


class ModelConnectionError(ModelError):
    """The connection failed or dropped. Retryable until output reached the consumer."""

    retryable = True


class StreamInterruptedError(ModelConnectionError):
    """A stream broke after deltas were already delivered; it cannot be retried safely."""

    retryable = False


class MalformedResponseError(ModelError):
    """The provider answered, but with something that is not a valid response."""


# --- test doubles --------------------------------------------------------------------


class ScriptError(UserError):
    """A `ScriptedModel` was asked for more turns than scripted, or not used up."""


# --- runs ----------------------------------------------------------------------------


class OutputValidationError(RunError):
    """The format phase could not produce the stage's output schema within its retries."""


class RecordingMismatchError(RunError):
    """A replayed request is not in the cassette; the message shows the closest diff."""


# --- plans ---------------------------------------------------------------------------


class PlanError(StageAgentError):
    """Base of every plan-and-execute error (`stageagent.plan`)."""


class PlanValidationError(PlanError):
    """A plan failed validation; `issues` lists every problem, each naming step and field."""

    def __init__(self, issues: list, *, plan_id: str | None = None):
        self.issues = list(issues)
        self.plan_id = plan_id
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        where = f"plan {plan_id!r}" if plan_id else "plan"
        super().__init__(f"{where} is invalid ({len(self.issues)} problem(s)):\n{lines}")


class PlanStateError(PlanError):
    """An operation the plan's current state does not allow (resume a rejected plan,
    decide an approval twice, resume a plan another live executor holds...)."""


class UnknownPlanError(PlanError):
    """A plan id the store has no record of."""


class PlanGenerationError(PlanError):
    """The model could not produce a valid plan within its repair budget; `issues` holds
    the last validation problems."""

    def __init__(self, message: str, issues: list | None = None):
        self.issues = list(issues or [])
        super().__init__(message)


class PlanReferenceError(PlanError):
    """A `${steps.<id>.output...}` reference that cannot be resolved when its step starts
    (the key or index is not in the output)."""
