"""Step runners: what actually does a step's work, behind the small `StepRunner` protocol.

The executor decides *when* a step runs; a runner decides *how*: `FunctionRunner` calls
plain (async) functions by name - tests, benchmarks, embedding code; `RuntimeStepRunner`
calls a `StageAwareRuntime`'s tools and runs its stages, forwarding each stage event to
the plan's stream. A distributed engine can stand in with its own runner.
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..events import BaseEvent, Emitter
from ..exceptions import PlanError
from .model import Step


class StepFailure(PlanError):
    """A step's work ended without a usable result (e.g. a stage that did not pass)."""

    def __init__(self, message: str, *, error_type: str = "step_failed"):
        self.error_type = error_type
        super().__init__(message)


@dataclass(slots=True)
class StepContext:
    """What a runner knows of the plan around the step."""

    plan_id: str
    run_id: str
    step_id: str
    attempt: int
    emit: Callable[[BaseEvent], None]  # nests a stage event into the plan's stream


class StepRunner(Protocol):
    async def run(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        """Do the step's work with resolved params; return its output or raise."""


class FunctionRunner:
    """Tools as plain functions (sync or async) called with the params as keywords;
    stages as functions `(input, context) -> output`."""

    def __init__(self, tools: Mapping[str, Callable[..., Any]] | None = None,
                 stages: Mapping[str, Callable[..., Any]] | None = None):
        self.tools = dict(tools or {})
        self.stages = dict(stages or {})

    async def run(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        if step.kind == "stage":
            fn = self.stages[step.target]
            value = fn(params.get("input", ""), params.get("context") or {})
        else:
            value = self.tools[step.target](**params)
        if type(value) is types.CoroutineType or inspect.isawaitable(value):
            value = await value
        return value

    def catalog(self) -> Any:
        """A catalog of these functions (argument schemas from their signatures)."""
        from ..function_tools import Tool
        from .catalog import Catalog

        catalog = Catalog()
        for name, fn in sorted(self.tools.items()):
            definition = Tool(fn, name=name).definition
            catalog.tools[name] = (definition.description, dict(definition.parameters))
        for name, fn in sorted(self.stages.items()):
            catalog.stages[name] = (fn.__doc__ or "").strip().split("\n")[0]
        return catalog


class RuntimeStepRunner:
    """Tools and stages of a `StageAwareRuntime`.

    A stage step's output is `{"text", "output", "reason", "score", "iterations"}`; the full
    `StageResult` is kept in `stage_results[step_id]`. A stage that does not pass raises
    `StepFailure`. Tools get a `ToolContext` with `deps` and the shared `state`.
    Subclasses adapt it with `context_for` (template variables), `model_for`, `check`
    (why a finished stage is not good enough) and `run_tool`.
    """

    def __init__(self, runtime: Any, *, model: Any = None, deps: Any = None,
                 state: dict[str, Any] | None = None, stream: bool = False):
        self.runtime = runtime
        self.model = model
        self.deps = deps
        self.state = state if state is not None else {}
        self.stream = stream
        self.stage_results: dict[str, Any] = {}
        self.active: dict[str, Any] = {}  # step id -> the running StageRun

    def model_for(self, step: Step) -> Any:
        return self.model.get(step.target) if isinstance(self.model, Mapping) else self.model

    def context_for(self, step: Step, params: dict[str, Any]) -> dict[str, Any]:
        return dict(params.get("context") or {})

    def check(self, step: Step, result: Any) -> str | None:
        """Why a finished stage cannot be used (None: it can)."""
        if not result.ok:
            return f"stage {step.target!r} stopped: {result.reason}" + (
                f" - {result.error}" if result.error else "")
        return None

    def cancel_stages(self) -> None:
        """Ask every running stage to stop (each ends with reason `cancelled`)."""
        for run in list(self.active.values()):
            run.cancel()

    async def run(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        if step.kind == "tool":
            return await self.run_tool(step, params, ctx)
        run = self.runtime.run_stage(step.target, str(params.get("input", "")),
                                     context=self.context_for(step, params),
                                     model=self.model_for(step), deps=self.deps,
                                     state=self.state, stream=self.stream,
                                     emitter=Emitter(ctx.run_id))
        self.active[step.id] = run
        try:
            async for event in run:
                ctx.emit(event)
        except asyncio.CancelledError:
            await run.aclose()
            raise
        finally:
            self.active.pop(step.id, None)
        result = run.result
        self.stage_results[step.id] = result
        problem = self.check(step, result)
        if problem is not None:
            raise StepFailure(problem, error_type=result.reason if not result.ok
                              else "invalid_result")
        return {"text": result.text, "output": result.output, "reason": result.reason,
                "score": result.score, "iterations": result.iterations}

    async def run_tool(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        from ..function_tools import ToolContext

        tool = self.runtime.tools.get(step.target)
        tool_ctx = ToolContext(run_id=ctx.run_id, stage=f"plan:{step.id}", deps=self.deps,
                               state=self.state, tool_call_id=f"{ctx.step_id}#{ctx.attempt}")
        return await tool.call(params, tool_ctx)
