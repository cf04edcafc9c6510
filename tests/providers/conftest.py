"""Fixtures: a fresh wire server per test and factories for adapters pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from stageagent.models.retry import RetryPolicy

from .wire_server import WireServer

T = TypeVar("T")

#: tiny backoff so retry tests take milliseconds
FAST = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.01)


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer().start()
    try:
        yield server
    finally:
        server.stop()


async def within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    """Every network test runs under a deadline: a hang fails, it never blocks the suite."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def collect(stream: Any, seconds: float = 5.0) -> list[Any]:
    async def run() -> list[Any]:
        return [event async for event in stream]
    return await within(run(), seconds)


@pytest.fixture
async def make_model(wire: WireServer) -> AsyncIterator[Callable[..., Any]]:
    """`make_model("anthropic"|"openai", **options)`: an adapter talking to `wire`;
    every model made is closed after the test."""
    made: list[Any] = []

    def factory(provider: str, **options: Any) -> Any:
        options.setdefault("retry_policy", FAST)
        if provider == "anthropic":
            from stageagent.models.anthropic import AnthropicModel

            options.setdefault("api_key", "sk-ant-test")
            model = AnthropicModel(options.pop("name", "claude-sonnet-4-6"), base_url=wire.url,
                                   **options)
        else:
            from stageagent.models.openai import OpenAIModel

            options.setdefault("api_key", "sk-test")
            model = OpenAIModel(options.pop("name", "gpt-4o-mini"), base_url=f"{wire.url}/v1",
                                **options)
        made.append(model)
        return model

    yield factory
    for model in made:
        await model.aclose()
