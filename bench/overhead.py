"""The framework's own overhead, measured with a zero-cost FunctionModel.

* us_per_iteration: one thought-tool iteration (model turn -> one trivial validated async
  tool -> observation) with events consumed and token accounting on, at N turns per run;
  growth from N=10 to N=200 shows whether per-turn work stays proportional to the new
  messages only.
* us_per_event: framework cost per streamed event (a model streaming text deltas), the
  model's own cost subtracted.
* runs_per_s / kb_per_run: 1,000 concurrent 5-turn runs on one event loop.
* import_s: `import stageagent` in a fresh interpreter, bytecode precompiled.
"""

from __future__ import annotations

import asyncio
import compileall
import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, AsyncIterator

from stageagent import (
    FunctionModel,
    Model,
    StageAwareRuntime,
    StageConfig,
    call,
    tool,
)
from stageagent.messages import AssistantMessage, TextPart
from stageagent.models.base import ModelRequest, StreamComplete, TextDelta
from stageagent.stage_config import StageLimits


@tool(read_only=True)
async def echo(i: int) -> int:
    """Returns its argument."""
    return i


def _turns_model(turns: int) -> FunctionModel:
    """Calls `echo` until `turns` tool turns happened, then answers."""

    def respond(request: ModelRequest) -> Any:
        done = (len(request.messages) - 2) // 2
        return call("echo", {"i": done}, id=f"c{done}") if done < turns else "done"

    return FunctionModel(respond, name="bench")


def _stage(turns: int) -> StageConfig:
    return StageConfig(name="bench", tools=["echo"], prompt_text="Benchmark stage.",
                       max_iterations=turns + 1,
                       limits=StageLimits(loop_repeats=turns + 2))


def _runtime() -> StageAwareRuntime:
    return StageAwareRuntime(tools=[echo], price=lambda model, usage: None)


async def _one_run(rt: StageAwareRuntime, config: StageConfig, turns: int) -> int:
    run = rt.run_stage(config, "go", model=_turns_model(turns))
    count = 0
    async for _ in run:
        count += 1
    assert run.result is not None and run.result.reason == "completed", run.result
    return count


async def per_iteration(turns: int, repeats: int) -> float:
    """Median µs per iteration over samples of back-to-back runs (~2,000 iterations each).

    The garbage collector stays on, so its cost is in the figure. No sample starts right
    after a forced `gc.collect()`: that empties CPython's free lists and returns memory
    to the OS, so the first run after it measures the allocator's cold start (about
    +30 µs per iteration at N=10 here), not the framework.
    """
    rt = _runtime()
    config = _stage(turns)
    batch = max(1, 2000 // (turns + 1))
    for _ in range(batch):  # warm-up: encodings, schemas, caches, free lists
        await _one_run(rt, config, turns)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batch):
            await _one_run(rt, config, turns)
        samples.append((time.perf_counter() - start) / (batch * (turns + 1)))
    return statistics.median(samples) * 1e6


class _DeltaModel(Model):
    """Streams `n` text deltas, as cheaply as a model can."""

    provider = "bench"

    def __init__(self, n: int):
        self.n = n
        self._deltas = [TextDelta(text="x") for _ in range(n)]
        self._done = StreamComplete(message=AssistantMessage(parts=[TextPart(text="x" * n)]))

    @property
    def name(self) -> str:
        return "bench-stream"

    async def request(self, request: ModelRequest) -> AssistantMessage:
        return self._done.message

    async def stream(self, request: ModelRequest) -> AsyncIterator[Any]:
        for delta in self._deltas:
            yield delta
        yield self._done


async def per_event(n: int = 20_000, repeats: int = 5) -> float:
    rt = _runtime()
    config = StageConfig(name="bench", prompt_text="Benchmark stage.", max_iterations=1)
    model = _DeltaModel(n)
    request = ModelRequest.model_construct(messages=[], tools=[], settings=None, output_schema=None)
    framework, raw = [], []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        async for _ in model.stream(request):
            pass
        raw.append(time.perf_counter() - start)
        start = time.perf_counter()
        async for _ in rt.run_stage(config, "go", model=model, stream=True):
            pass
        framework.append(time.perf_counter() - start)
    return (min(framework) - min(raw)) / n * 1e6


async def concurrent_runs(runs: int = 1000, turns: int = 5) -> float:
    rt = _runtime()
    config = _stage(turns)
    await _one_run(rt, config, turns)
    best = 0.0
    for _ in range(3):
        gc.collect()
        start = time.perf_counter()
        await asyncio.gather(*(_one_run(rt, config, turns) for _ in range(runs)))
        best = max(best, runs / (time.perf_counter() - start))
    return best


async def memory_per_run(runs: int = 1000, turns: int = 5) -> float:
    """Peak traced memory of `runs` runs in flight together, per run (KB)."""
    rt = _runtime()
    config = _stage(turns)
    await _one_run(rt, config, turns)
    gate = asyncio.Event()

    @tool(read_only=True)
    async def hold(i: int) -> int:
        """Parks every run mid-flight until all of them are in the air."""
        await gate.wait()
        return i

    rt.tools.register("echo", hold)  # same name: the stage is unchanged
    rt._prepared.clear()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(_one_run(rt, config, turns)) for _ in range(runs)]
    for _ in range(20):
        await asyncio.sleep(0)
    in_flight = tracemalloc.get_traced_memory()[0] - base
    gate.set()
    await asyncio.gather(*tasks)
    tracemalloc.stop()
    return in_flight / runs / 1024


def import_time(repeats: int = 7, *, touch_runtime: bool = False) -> float:
    """Median seconds for `import stageagent` in a fresh interpreter.

    The package resolves its public names lazily (PEP 562); `touch_runtime=True` also
    resolves `stageagent.StageAwareRuntime`, the cost a real program pays.
    """
    import stageagent

    compileall.compile_dir(str(Path(stageagent.__file__).parent), quiet=1)
    extra = "; stageagent.StageAwareRuntime" if touch_runtime else ""
    code = ("import time; t = time.perf_counter(); import stageagent" + extra +
            "; print(time.perf_counter() - t)")
    samples = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd="/")
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 15
    us = {str(n): round(asyncio.run(per_iteration(n, repeats)), 2) for n in (10, 50, 200)}
    return {
        "us_per_iteration": us,
        "growth_10_to_200": round(us["200"] / us["10"], 3),
        "us_per_event": round(asyncio.run(per_event(5_000 if quick else 20_000)), 3),
        "runs_per_s": round(asyncio.run(concurrent_runs(200 if quick else 1000))),
        "kb_per_run": round(asyncio.run(memory_per_run(200 if quick else 1000)), 2),
        "import_s": round(import_time(3 if quick else 7), 4),
        "import_with_runtime_s": round(import_time(3 if quick else 7, touch_runtime=True), 4),
    }
