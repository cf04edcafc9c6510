"""The thought-tool runtime: runs stages, switching tools, prompt, gate and limits per stage.

`StageAwareRuntime.run_stage(stage, input)` returns a `StageRun` (`stage_run`): an async
iterator of typed events whose last event is `StageCompleted` with the reason the stage
stopped. The runtime *enforces* the stage config: only the stage's tools are shown to the
model, and a call to any other tool is refused as an error observation; the stage's
prompt, quality gate, iteration limit, budgets, timeouts and loop detection apply.

What the runtime resolves per stage config (tools, evaluators, schema) and per inline
prompt (the compiled template) is cached, for the most recently used configs only: a
program deriving a config per request does not grow memory without bound.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Sequence

from .budget import PriceFunction
from .events import Emitter
from .exceptions import StageConfigError
from .formatting import output_schema_for
from .function_tools import Tool
from .lru import LRUCache
from .messages import Message
from .models import Model, infer_model
from .registry import Registry, evaluator_registry, tool_registry, with_toolkit
from .stage_config import StageConfig, StageConfigManager
from .stage_run import PreparedStage, StageResult, StageRun
from .templating import PromptEnvironment
from .tokens import TokenCounter
from .toolcalls import Approver

__all__ = ["StageAwareRuntime", "StageResult", "StageRun", "PreparedStage", "CACHE_SIZE"]

#: how many stage configs (and inline prompts) a runtime keeps resolved
CACHE_SIZE = 256
#: Jinja's delimiters: a prompt without any of them renders to itself
_JINJA_SYNTAX = re.compile(r"\{[{%#]")


class StageAwareRuntime:
    """Runs stages: switches tools, prompt, gate and limits per stage, for real.

    Args:
        stages: where stage names are resolved (default: bundled + user stage files,
            loaded on first use).
        model: a `Model` or model id that overrides every stage's `[model] id`.
        tools: the tools (Tool objects or typed functions) stages may name; a stage may
            also name a toolkit of its own (`StageConfig.toolkit`, as the bundled stages do).
        evaluators: the evaluators stages may name, by name.
        deps: default `ToolContext.deps` for tools.
        approver: async callable deciding on `requires_approval` tool calls.
        price: cost function (model name, usage) -> USD or None.
    """

    def __init__(
        self,
        stages: StageConfigManager | None = None,
        *,
        model: Model | str | None = None,
        tools: Iterable[Any] | Registry[Tool] | None = None,
        evaluators: dict[str, Any] | Registry[Any] | None = None,
        deps: Any = None,
        approver: Approver | None = None,
        prompts: PromptEnvironment | None = None,
        price: PriceFunction | None = None,
    ):
        self.tools = tools if isinstance(tools, Registry) else tool_registry(tools or ())
        self.evaluators = (evaluators if isinstance(evaluators, Registry)
                           else evaluator_registry(evaluators))
        self._stages = stages
        self.model = model
        self.deps = deps
        self.approver = approver
        self.price = price
        self._prompts = prompts
        # keyed by id(config), checked by identity: a config is never copied on a hit
        self._prepared: LRUCache[int, PreparedStage] = LRUCache(CACHE_SIZE)
        self._counters: dict[str, TokenCounter] = {}
        self._templates: LRUCache[str, Any] = LRUCache(CACHE_SIZE)
        self._schemas: dict[type, Any] = {}

    @property
    def stages(self) -> StageConfigManager:
        if self._stages is None:
            self._stages = StageConfigManager(tools=self.tools, evaluators=self.evaluators,
                                              prompts=self._prompts)
        return self._stages

    @property
    def prompts(self) -> PromptEnvironment:
        if self._prompts is None:
            self._prompts = self._stages.prompts if self._stages is not None else PromptEnvironment()
        return self._prompts

    def counter_for(self, model_name: str) -> TokenCounter:
        counter = self._counters.get(model_name)
        if counter is None:
            counter = self._counters[model_name] = TokenCounter(model=model_name)
        return counter

    def output_schema(self, cls: type) -> Any:
        schema = self._schemas.get(cls)
        if schema is None:
            schema = self._schemas[cls] = output_schema_for(cls)
        return schema

    def clear_caches(self) -> None:
        """Forget resolved stages and compiled prompts (after changing `tools`, say)."""
        self._prepared.clear()
        self._templates.clear()

    def prepare(self, stage: str | StageConfig) -> PreparedStage:
        """Resolve a stage's tools, evaluators and output schema (cached per config)."""
        config = self.stages.get(stage) if isinstance(stage, str) else stage
        prepared = self._prepared.get(id(config))
        if prepared is not None and prepared.config is config:
            return prepared
        known_tools, known_evaluators = with_toolkit(config.toolkit, self.tools,
                                                     self.evaluators)
        tools: dict[str, Tool] = {}
        for index, name in enumerate(config.tools):
            if name not in known_tools:
                raise StageConfigError(f"unknown tool {name!r}", path=config.source,
                                       key=f"tools[{index}]")
            tools[name] = known_tools.get(name)
        evaluators = []
        for index, name in enumerate(config.evaluators):
            if name not in known_evaluators:
                raise StageConfigError(f"unknown evaluator {name!r}", path=config.source,
                                       key=f"evaluators[{index}]")
            evaluators.append(known_evaluators.get(name))
        choice = config.model.tool_choice
        if choice not in (None, "auto", "required", "none") and choice not in tools:
            raise StageConfigError(
                f"tool_choice {choice!r} is not one of the stage's tools "
                f"({', '.join(tools) or 'none'}) nor auto/required/none",
                path=config.source, key="model.tool_choice")
        output_cls = config.output_model()
        prepared = PreparedStage(
            config=config, tools=tools, definitions=[t.definition for t in tools.values()],
            evaluators=evaluators, output_cls=output_cls,
            settings=config.model.settings(config.timeouts.model_s),
            output_schema=self.output_schema(output_cls) if output_cls is not None else None)
        self._prepared.put(id(config), prepared)
        return prepared

    def render_prompt(self, config: StageConfig, user_input: str, context: dict[str, Any],
                      prepared: PreparedStage) -> str:
        variables = {"input": user_input, "stage": config,
                     "tools": prepared.definitions, **context}
        if config.prompt:
            return self.prompts.render(config.prompt, variables)
        if config.prompt_text is not None:
            template = self._templates.get(config.prompt_text)
            if template is None:
                source = config.prompt_text
                if not _JINJA_SYNTAX.search(source):
                    template = source  # plain text: it renders to itself, no Jinja needed
                else:
                    template = self.prompts.compile(source, name=f"{config.name}.prompt_text")
                self._templates.put(source, template)
            if type(template) is str:
                return template
            return self.prompts.render_compiled(template, variables,
                                                name=f"{config.name}.prompt_text")
        return config.description or f"You are the {config.name} stage."

    def resolve_model(self, config: StageConfig, model: Model | str | None) -> Model:
        return infer_model(model or self.model or config.model.id)

    def run_stage(
        self,
        stage: str | StageConfig,
        input: str,
        *,
        context: dict[str, Any] | None = None,
        history: Sequence[Message] | None = None,
        model: Model | str | None = None,
        deps: Any = None,
        state: dict[str, Any] | None = None,
        stream: bool = False,
        run_id: str | None = None,
        emitter: Emitter | None = None,
    ) -> StageRun:
        """Start a stage run. Iterate the returned `StageRun` for its events.

        A model given as an id string is built for this run and closed when it ends; a
        `Model` object stays open (it is the caller's).
        `history` continues an earlier run (e.g. `previous.result.messages`): the stage's
        system prompt replaces the old one and `input` is the follow-up question.
        """
        if not isinstance(input, str):
            raise TypeError(f"run_stage(): input must be a str, not {type(input).__name__}")
        prepared = self.prepare(stage)
        chosen = model or self.model or prepared.config.model.id
        resolved = self.resolve_model(prepared.config, chosen)
        emitter = emitter or Emitter(run_id or os.urandom(8).hex())
        return StageRun(self, prepared, input, model=resolved, context=dict(context or {}),
                        history=history, deps=deps if deps is not None else self.deps,
                        state=state if state is not None else {}, stream=stream,
                        emitter=emitter, owns_model=resolved is not chosen)

    async def run(self, stage: str | StageConfig, input: str, **kwargs: Any) -> StageResult:
        """Run a stage to the end and return its result (events discarded)."""
        return await self.run_stage(stage, input, **kwargs).collect()
