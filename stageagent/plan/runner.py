"""Step runners: what actually does a step's work, behind the small `StepRunner` protocol.

The executor decides *when* a step runs; a runner decides *how*: `FunctionRunner` calls
plain (async) functions by name - tests, benchmarks, embedding code; `RuntimeStepRunner`
calls a `StageAwareRuntime`'s tools and runs its stages, forwarding each stage event to
the plan's stream. A distributed engine can stand in with its own runner.
"""

from __future__ import annotations

import asyncio
import inspect
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
        if inspect.isawaitable(value):
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
    """

    def __init__(self, runtime: Any, *, model: Any = None, deps: Any = None,
                 state: dict[str, Any] | None = None,
                 contexts: Mapping[str, dict[str, Any]] | None = None):
        self.runtime = runtime
        self.model = model
        self.deps = deps
        self.state = state if state is not None else {}
        self.stage_results: dict[str, Any] = {}
        self.contexts = contexts or {}

    def model_for(self, step: Step) -> Any:
        return self.model.get(step.target) if isinstance(self.model, Mapping) else self.model

    async def run(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        if step.kind == "tool":
            return await self._tool(step, params, ctx)
        context = {**self.contexts.get(step.id, {}), **(params.get("context") or {})}
        run = self.runtime.run_stage(step.target, str(params.get("input", "")),
                                     context=context, model=self.model_for(step),
                                     deps=self.deps, state=self.state,
                                     emitter=Emitter(ctx.run_id))
        try:
            async for event in run:
                ctx.emit(event)
        except asyncio.CancelledError:
            await run.aclose()
            raise
        result = run.result
        self.stage_results[step.id] = result
        if not result.ok:
            raise StepFailure(f"stage {step.target!r} stopped: {result.reason}"
                              + (f" - {result.error}" if result.error else ""),
                              error_type=result.reason)
        return {"text": result.text, "output": result.output, "reason": result.reason,
                "score": result.score, "iterations": result.iterations}

    async def _tool(self, step: Step, params: dict[str, Any], ctx: StepContext) -> Any:
        from ..function_tools import ToolContext

        tool = self.runtime.tools.get(step.target)
        tool_ctx = ToolContext(run_id=ctx.run_id, stage=f"plan:{step.id}", deps=self.deps,
                               state=self.state, tool_call_id=f"{ctx.step_id}#{ctx.attempt}")
        return await tool.call(params, tool_ctx)
