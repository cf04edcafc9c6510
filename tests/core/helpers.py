"""Small shared pieces for the core tests (tools and stages built in code)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from stageagent import StageAwareRuntime, StageConfig, tool


@tool(read_only=True)
async def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first addend
        b: the second addend
    """
    return a + b


@tool(read_only=True, timeout=0.05)
async def sleepy(seconds: float) -> str:
    """Sleep for a while (used to test timeouts and concurrency)."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@tool
def boom(reason: str) -> str:
    """Always raises."""
    raise ValueError(f"exploded: {reason}")


def free_price(model: str, usage: Any) -> float:
    """$1 per 1000 tokens: makes cost budgets testable with the doubles."""
    return usage.total_tokens / 1000


def make_runtime(*tools: Any, **kwargs: Any) -> StageAwareRuntime:
    kwargs.setdefault("price", lambda m, u: None)
    return StageAwareRuntime(tools=list(tools) or [add, sleepy, boom], **kwargs)


def stage(name: str = "calc", **kwargs: Any) -> StageConfig:
    kwargs.setdefault("tools", ["add", "sleepy", "boom"])
    kwargs.setdefault("prompt_text", "You are the {{ stage.name }} stage. Task: {{ input }}")
    return StageConfig(name=name, **kwargs)


async def events_of(run: Any) -> list[Any]:
    return [e async for e in run]


def load_bench(name: str) -> Any:
    """`bench.<name>` from the repository, without putting the repository root on sys.path
    (that would make `tools`, `evals`, ... importable a second time under top-level names)."""
    if "bench" not in sys.modules:
        root = Path(__file__).resolve().parents[2] / "bench"
        spec = importlib.util.spec_from_file_location(
            "bench", root / "__init__.py", submodule_search_locations=[str(root)])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"bench.{name}")
