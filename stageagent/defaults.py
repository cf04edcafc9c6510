"""The default registries: the report pipeline's built-in tools and evaluators (lazy)."""

from __future__ import annotations

from typing import Any

from .registry import Registry
from .function_tools import Tool


def _as_tool(obj: object) -> Tool:
    if isinstance(obj, Tool):
        return obj
    if callable(obj):
        return Tool(obj)  # type: ignore[arg-type]
    raise TypeError(f"{obj!r} is not a tool")


def tool_registry(tools: Any = ()) -> Registry[Tool]:
    """An empty tool registry plus `tools` (a list of Tool/functions or a mapping)."""
    registry: Registry[Tool] = Registry("tool", coerce=_as_tool)
    items = tools.items() if isinstance(tools, dict) else ((None, t) for t in tools)
    for name, item in items:
        t = _as_tool(item)
        registry.register(name or t.name, t)
    return registry


def default_tools() -> Registry[Tool]:
    """Every built-in tool of the report pipeline, imported on first use."""
    from stageagent.tools import BUILTIN_TOOLS

    registry = tool_registry()
    for name, ref in BUILTIN_TOOLS.items():
        registry.register_lazy(name, ref)
    return registry


def default_evaluators() -> Registry[Any]:
    """Every built-in stage evaluator, imported on first use."""
    from stageagent.tools import BUILTIN_EVALUATORS

    registry: Registry[Any] = Registry("evaluator")
    for name, ref in BUILTIN_EVALUATORS.items():
        registry.register_lazy(name, ref)
    return registry
