"""The framework's own overhead, measured with a zero-cost FunctionModel.

* us_per_iteration: one thought-tool iteration (model turn -> one trivial validated async
  tool -> observation) with events consumed and token accounting on, at N turns per run
  (best of 31 samples; `us_per_iteration_median` beside it); growth from N=10 to N=200
  shows whether per-turn work stays proportional to the new messages only.
* us_per_event: framework cost per streamed event (a model streaming text deltas), the
  model's own cost subtracted.
* runs_per_s / kb_per_run: 1,000 concurrent 5-turn runs on one event loop.
* import_s: `import stageagent` in a fresh interpreter, bytecode precompiled.
* bare_loop_us: the same thought-tool loop written by hand with no framework (history of
  dicts, tool dispatch by name, three event dicts per iteration; `_bare_run`);
  ratio_to_bare_loop is us_per_iteration at N=50 over it, both measured in the same run.
* python: the interpreter's version. The ratios depend on it: 3.12 runs the bare loop's
  async generator and coroutines about 40% slower than 3.11, and our loop about as fast.
* await_floor_us: an async generator that only awaits two trivial coroutines and yields
  three values per iteration - the floor under any loop; ratio_to_await_floor beside it.

`python -m bench overhead --instructions` counts CPU instructions per iteration under
valgrind instead: the one figure that does not move with the machine's load. It also
counts `import stageagent` with the runtime resolved (import_instructions) and that plus
a first tiny stage run (import_and_first_run_instructions), interpreter startup subtracted.
"""

from __future__ import annotations

import asyncio
import compileall
import gc
import platform
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
from stageagent.models.test import to_message
from stageagent.stage_config import StageLimits


@tool(read_only=True)
async def echo(i: int) -> int:
    """Returns its argument."""
    return i


_SCRIPTS: dict[int, list[AssistantMessage]] = {}


def _script(turns: int) -> list[AssistantMessage]:
    """The model's answers, built once: `turns` calls to `echo`, then a final answer."""
    script = _SCRIPTS.get(turns)
    if script is None:
        script = _SCRIPTS[turns] = [
            to_message(call("echo", {"i": i}, id=f"c{i}"), "bench") for i in range(turns)
        ] + [to_message("done", "bench")]
    return script


_MODELS: dict[int, FunctionModel] = {}


def _turns_model(turns: int) -> FunctionModel:
    """A zero-cost model: answers from a script, by how many turns the request holds.

    What is timed is the framework's work per turn (FunctionModel's own wrapper
    included), not the building of the model's answers. Like a real client, one model
    object serves every run (it keeps no state between requests).
    """
    model = _MODELS.get(turns)
    if model is None:
        script = _script(turns)

        def respond(request: ModelRequest) -> Any:
            return script[(len(request.messages) - 2) // 2]

        model = _MODELS[turns] = FunctionModel(respond, name="bench")
    return model


def _stage(turns: int) -> StageConfig:
    return StageConfig(name="bench", tools=["echo"], prompt_text="Benchmark stage.",
                       max_iterations=turns + 1,
                       limits=StageLimits(loop_repeats=turns + 2))


def _runtime() -> StageAwareRuntime:
    """Everything on: events, validated arguments, exact token counts, default pricing
    (the bench model is missing from the price table, the slow case of a lookup)."""
    return StageAwareRuntime(tools=[echo])


async def _one_run(rt: StageAwareRuntime, config: StageConfig, turns: int) -> int:
    run = rt.run_stage(config, "go", model=_turns_model(turns))
    count = 0
    async for _ in run:
        count += 1
    assert run.result is not None and run.result.reason == "completed", run.result
    return count


async def per_iteration(turns: tuple[int, ...], repeats: int) -> dict[int, tuple[float, float]]:
    """µs per iteration at each N: (best, median) over `repeats` samples.

    A sample times back-to-back runs, about 500 iterations. The samples of the three N
    are interleaved, so a slow spell of the machine hits them alike and the growth
    figure compares like with like. The best sample is the headline, as in `timeit`
    and in the other figures here (best runs/s, fastest event stream): interference
    only ever adds time, and this shared machine's speed swings by up to 2x within
    minutes. The median is reported too. The garbage collector stays on, so its cost
    is in both; no sample starts right after a forced `gc.collect()` (that empties
    CPython's free lists, and the first run after it measures the allocator).
    """
    rt = _runtime()
    plans = []
    for n in turns:
        config = _stage(n)
        batch = max(1, 500 // (n + 1))
        for _ in range(batch):  # warm-up: encodings, schemas, caches, free lists
            await _one_run(rt, config, n)
        plans.append((n, config, batch))
    samples: dict[int, list[float]] = {n: [] for n in turns}
    for _ in range(repeats):
        for n, config, batch in plans:
            start = time.perf_counter()
            for _ in range(batch):
                await _one_run(rt, config, n)
            samples[n].append((time.perf_counter() - start) / (batch * (n + 1)) * 1e6)
    return {n: (min(s), statistics.median(s)) for n, s in samples.items()}


async def _echo(i: int) -> int:
    return i


_BARE_SCRIPTS: dict[int, list[dict[str, Any]]] = {}


def _bare_model(turns: int) -> Any:
    """The bare loop's model: the same script as plain dicts, answered by history length."""
    script = _BARE_SCRIPTS.get(turns)
    if script is None:
        script = _BARE_SCRIPTS[turns] = [
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": f"c{i}", "name": "echo", "arguments": {"i": i}}]}
            for i in range(turns)] + [{"role": "assistant", "content": "done", "tool_calls": None}]

    async def call_model(messages: list[dict[str, Any]]) -> dict[str, Any]:
        return script[(len(messages) - 2) // 2]

    return call_model


async def _bare_run(turns: int) -> AsyncIterator[Any]:
    """The same thought-tool loop written by hand, with no framework: a message history,
    the model awaited with it, each tool call dispatched by name and awaited, its output
    made text and appended, and the three events our loop yields per iteration (tool
    called, tool result, iteration completed) as plain dicts. No validation, no token
    counts, no pricing, no limits: what a user writes before reaching for a framework."""
    call_model, tools = _bare_model(turns), {"echo": _echo}
    messages: list[dict[str, Any]] = [{"role": "system", "content": "Benchmark stage."},
                                      {"role": "user", "content": "go"}]
    for turn in range(1, turns + 2):
        reply = await call_model(messages)
        messages.append(reply)
        calls = reply["tool_calls"]
        if not calls:
            yield {"type": "final", "turn": turn, "text": reply["content"]}
            return
        for call in calls:
            yield {"type": "tool_called", "turn": turn, "id": call["id"], "name": call["name"],
                   "arguments": call["arguments"]}
            output = await tools[call["name"]](**call["arguments"])
            content = output if isinstance(output, str) else str(output)
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
            yield {"type": "tool_result", "turn": turn, "id": call["id"], "content": content}
        yield {"type": "iteration_completed", "turn": turn}


async def _floor_run(turns: int) -> AsyncIterator[Any]:
    """The floor under any Python loop: an async generator awaiting two trivial
    coroutines and yielding three values per iteration, nothing else."""
    for i in range(turns + 1):
        answer = await _echo(i)
        yield answer
        yield await _echo(answer)
        yield None


async def bare_loop(turns: int = 50, repeats: int = 31, *, floor: bool = False) -> float:
    """µs per iteration of the hand-written loop (`_bare_run`), best of `repeats`; with
    `floor=True`, of the await floor (`_floor_run`, about a third of it)."""
    loop = _floor_run if floor else _bare_run
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(10):
            async for _ in loop(turns):
                pass
        samples.append((time.perf_counter() - start) / (10 * (turns + 1)) * 1e6)
    return min(samples)


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


async def concurrent_runs(runs: int = 1000, turns: int = 5, repeats: int = 5) -> float:
    """Best runs/s of `runs` concurrent runs on one loop, over `repeats` rounds (after an
    untimed round; no forced `gc.collect()` right before a timed one)."""
    rt = _runtime()
    config = _stage(turns)
    await asyncio.gather(*(_one_run(rt, config, turns) for _ in range(runs)))
    best = 0.0
    for _ in range(repeats):
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
    rt.clear_caches()
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


def _precompile() -> None:
    """Write the package's bytecode: an import is measured, not a compilation (the
    environment may say PYTHONDONTWRITEBYTECODE)."""
    import stageagent

    compileall.compile_dir(str(Path(stageagent.__file__).parent), quiet=1)


def import_time(repeats: int = 7, *, touch_runtime: bool = False) -> float:
    """Median seconds for `import stageagent` in a fresh interpreter.

    The package resolves its public names lazily (PEP 562); `touch_runtime=True` also
    resolves `stageagent.StageAwareRuntime`, the cost a real program pays.
    """
    _precompile()
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
    repeats = 7 if quick else 41
    # a fresh process runs its first thousands of iterations slower (the interpreter
    # specialises, the allocator grows its arenas): warm up, untimed, first
    asyncio.run(per_iteration((50,), 3 if quick else 10))
    figures = asyncio.run(per_iteration((10, 50, 200), repeats))
    bare = asyncio.run(bare_loop())
    floor = asyncio.run(bare_loop(floor=True))
    best = {str(n): round(b, 2) for n, (b, _) in figures.items()}
    median = {str(n): round(m, 2) for n, (_, m) in figures.items()}
    return {
        # the ratios depend on the interpreter: 3.12 runs the bare loop's async generator
        # and coroutines slower than 3.11 does, our loop about as fast
        "python": platform.python_version(),
        "us_per_iteration": best,
        # the bare loop beside ours: the ratio is the figure that survives machine load
        "bare_loop_us": round(bare, 3),
        "ratio_to_bare_loop": round(best["50"] / bare, 1),
        # the await floor: no history, no dispatch, no events - nothing a loop can skip
        "await_floor_us": round(floor, 3),
        "ratio_to_await_floor": round(best["50"] / floor, 1),
        "us_per_iteration_median": median,
        "growth_10_to_200": round(best["200"] / best["10"], 3),
        "us_per_event": round(asyncio.run(per_event(5_000 if quick else 20_000)), 3),
        "runs_per_s": round(asyncio.run(concurrent_runs(200 if quick else 1000))),
        "kb_per_run": round(asyncio.run(memory_per_run(200 if quick else 1000)), 2),
        "import_s": round(import_time(3 if quick else 7), 4),
        "import_with_runtime_s": round(import_time(3 if quick else 7, touch_runtime=True), 4),
    }


_COUNT_SCRIPT = """
import asyncio, sys
from bench.overhead import _bare_run, _floor_run, _one_run, _runtime, _stage
runs, turns, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
async def main():
    rt, config = _runtime(), _stage(turns)
    for _ in range(3 + runs):
        if kind != "-":
            async for _ in (_bare_run if kind == "bare" else _floor_run)(turns):
                pass
        else:
            await _one_run(rt, config, turns)
asyncio.run(main())
"""


#: a program's first stage: import, build a runtime with one tool, run one tool call and an
#: answer - everything a program pays before its first result (schemas built on first use
#: are paid here, not at import)
_FIRST_RUN_SCRIPT = """
import asyncio
import stageagent
from stageagent import ScriptedModel, StageAwareRuntime, StageConfig, call, tool
@tool(read_only=True)
async def echo(i: int) -> int:
    \"\"\"Returns its argument.\"\"\"
    return i
async def main():
    rt = StageAwareRuntime(tools=[echo])
    config = StageConfig(name="tiny", tools=["echo"], prompt_text="Tiny.", max_iterations=3)
    result = await rt.run(config, "go", model=ScriptedModel([call("echo", {"i": 1}), "done"]))
    assert result.reason == "completed", result
asyncio.run(main())
"""


def import_instructions() -> dict[str, int]:
    """Instructions over a bare interpreter's startup (`python -c pass`) for
    `import stageagent` with `StageAwareRuntime` resolved, and for that plus a first tiny
    stage run (`_FIRST_RUN_SCRIPT`)."""
    from bench.callgrind import collected

    _precompile()
    startup = collected("pass")
    return {
        "import_instructions":
            collected("import stageagent; stageagent.StageAwareRuntime") - startup,
        "import_and_first_run_instructions": collected(_FIRST_RUN_SCRIPT) - startup,
    }


def _collected(runs: int, turns: int, kind: str = "-") -> int:
    from bench.callgrind import collected

    return collected(_COUNT_SCRIPT, str(runs), str(turns), kind)


def instructions(turns: tuple[int, ...] = (10, 50, 200)) -> dict[str, Any]:
    """Instructions per iteration: (20 runs - 0 runs) / iterations, under callgrind.

    The same code gives the same count (within ~1%) whatever the machine is doing, so
    this is the figure to compare changes by; about 8,800 instructions make one µs here
    when the machine is quiet. Needs valgrind (Debian package `valgrind`).
    """
    from bench.callgrind import require_valgrind

    require_valgrind()
    per = {}
    for n in turns:
        runs = max(2, 1000 // (n + 1))
        per[str(n)] = round((_collected(runs, n) - _collected(0, n)) / (runs * (n + 1)))
    bare, floor = (round((_collected(19, 50, kind) - _collected(0, 50, kind)) / (19 * 51))
                   for kind in ("bare", "floor"))
    return {"instructions_per_iteration": per, "bare_loop_instructions": bare,
            "ratio_to_bare_loop": round(per["50"] / bare, 1) if "50" in per else None,
            "await_floor_instructions": floor,
            "ratio_to_await_floor": round(per["50"] / floor, 1) if "50" in per else None,
            **import_instructions()}

