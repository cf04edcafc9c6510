"""What tracing costs: the overhead bench's 50-turn run, consumed three ways.

* us_per_iteration_plain: the run's events consumed directly (the overhead bench's figure).
* us_per_iteration_traced_off: through `traced(run)` with no tracer provider configured -
  `traced` returns the run itself, so this must equal the plain figure.
* us_per_iteration_traced_on: through `traced(run)` with an OpenTelemetry SDK provider
  whose processor drops every span (the cost of building the spans, not of exporting).
* tracing_active_ns: the check a facade run makes once to decide (provider lookup).

Samples of the three are interleaved; best and median of each, as in the overhead bench.
Without opentelemetry-sdk installed only the first two are measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench.overhead import _runtime, _stage, _turns_model
from stageagent.tracing import traced, tracing_active

TURNS = 50


def _sdk_provider() -> Any:
    try:
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    except ImportError:
        return None

    class Drop(SpanProcessor):  # spans are built and ended, then dropped
        pass

    provider = TracerProvider()
    provider.add_span_processor(Drop())
    return provider


async def _consume(rt: Any, config: Any, provider: Any, mode: str) -> None:
    run = rt.run_stage(config, "go", model=_turns_model(TURNS))
    events = run if mode == "plain" else traced(run, tracer_provider=provider)
    async for _ in events:
        pass
    assert run.result is not None and run.result.reason == "completed"


async def measure(repeats: int) -> dict[str, Any]:
    rt, config = _runtime(), _stage(TURNS)
    provider = _sdk_provider()
    modes: dict[str, Any] = {"plain": None, "traced_off": None}
    if provider is not None:
        modes["traced_on"] = provider
    batch = 10
    for mode, p in modes.items():  # warm-up
        for _ in range(batch):
            await _consume(rt, config, p, mode)
    samples: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(repeats):
        for mode, p in modes.items():
            start = time.perf_counter()
            for _ in range(batch):
                await _consume(rt, config, p, mode)
            samples[mode].append((time.perf_counter() - start) / (batch * (TURNS + 1)) * 1e6)
    out: dict[str, Any] = {}
    for mode, values in samples.items():
        out[f"us_per_iteration_{mode}"] = round(min(values), 2)
        out[f"us_per_iteration_{mode}_median"] = round(statistics.median(values), 2)
    return out


def _check_cost(n: int = 100_000) -> float:
    tracing_active()
    start = time.perf_counter()
    for _ in range(n):
        tracing_active()
    return (time.perf_counter() - start) / n * 1e9


def run(quick: bool = False) -> dict[str, Any]:
    figures = asyncio.run(measure(5 if quick else 25))
    figures["tracing_active_ns"] = round(_check_cost(10_000 if quick else 100_000), 1)
    return figures
