"""Where one iteration's time goes: each feature's cost, measured by switching it off.

`python -m bench overhead --shares` times the overhead benchmark's iteration (N=50, the
same zero-cost model and tool) with everything on, and again with one feature at a time
replaced by the cheapest stand-in that keeps the loop running. Rounds are interleaved
(every variant once per round, in turn), and a feature's cost is the median over rounds
of the difference within a round, so a slow spell of the machine cancels out; the time
with everything on is its best round. A feature's cost is the time the loop saves
without it - in place, with the rest of the loop's work between its calls, which is not
what a microbenchmark of the feature alone shows: token counting costs twice as much in
the loop as in a tight loop of counts (its tables fall out of the CPU caches between
turns). What is left beyond the bare loop and the shares is the loop's own structure.

The stand-ins exist only here, to measure; nothing in the package can switch a feature
off.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from stageagent import budget
from stageagent.budget import History
from stageagent.events import Emitter
from stageagent.tokens import TokenCounter

from .overhead import _one_run, _runtime, _stage, bare_loop, echo

Switch = Callable[[], Any]


@contextmanager
def _replaced(owner: Any, name: str, value: Any) -> Iterator[None]:
    """`owner.name` is `value` inside the block, what it was after it."""
    own = vars(owner)
    if name not in own:
        raise AttributeError(f"{owner!r} has no attribute {name!r} of its own to replace")
    saved = own[name]  # the function itself, not a bound method
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def _no_counting() -> Any:
    """Every text counts as its length in characters: no encoding at all."""
    return _replaced(TokenCounter, "raw_count", lambda self: len)


def _no_validation() -> Any:
    """The tool takes the model's arguments as they come."""
    return _replaced(echo, "validate", lambda arguments: arguments)


def _no_pricing() -> Any:
    """Every model is unpriced, found in no table."""
    return _replaced(budget, "_default_pricing", lambda: lambda model, usage: None)


def _no_window_copy() -> Any:
    """The request holds the history's own list (the bench stage has no context budget)."""
    return _replaced(History, "window", lambda self, token_budget: self.messages)


@contextmanager
def _no_events() -> Iterator[None]:
    """The three events of every tool iteration are one prebuilt event each."""
    emitter = Emitter("shares")
    called = emitter.tool_called("c", "echo", {})
    result = emitter.tool_result("c", "echo", False, "", 0.0, False)
    done = emitter.iteration_completed(None, None, 0)  # type: ignore[arg-type]
    with _replaced(Emitter, "tool_called", lambda self, *a: called), \
            _replaced(Emitter, "tool_result", lambda self, *a: result), \
            _replaced(Emitter, "iteration_completed", lambda self, *a, **k: done):
        yield


#: feature -> the block that switches it off
SWITCHES: dict[str, Switch] = {
    "token_counting": _no_counting,
    "argument_validation": _no_validation,
    "pricing": _no_pricing,
    "events": _no_events,
    "window_copy": _no_window_copy,
}


async def _sample(turns: int, batch: int) -> float:
    """µs per iteration of `batch` runs on a fresh runtime (after three untimed runs)."""
    rt, config = _runtime(), _stage(turns)
    for _ in range(3):
        await _one_run(rt, config, turns)
    start = time.perf_counter()
    for _ in range(batch):
        await _one_run(rt, config, turns)
    return (time.perf_counter() - start) / (batch * (turns + 1)) * 1e6


async def shares(turns: int = 50, rounds: int = 61, batch: int = 10) -> dict[str, Any]:
    """µs per iteration with everything on and the µs each feature costs (see module)."""
    variants: dict[str, Switch | None] = {"all_on": None, **SWITCHES}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, switch in variants.items():
            if switch is None:
                samples[name].append(await _sample(turns, batch))
            else:
                with switch():
                    samples[name].append(await _sample(turns, batch))
    full = min(samples["all_on"])
    bare = await bare_loop(turns)
    # a feature's cost: the median over rounds of (all on - that one off) in the same
    # round - paired, so a slow spell that spans a round cancels out
    cost = {name: round(statistics.median(on - off for on, off in
                                          zip(samples["all_on"], samples[name])), 2)
            for name in SWITCHES}
    return {
        "us_per_iteration": round(full, 2),
        "bare_loop_us": round(bare, 3),
        "shares_us": cost,
        "share_of_iteration": {name: round(c / full, 3) for name, c in cost.items()},
        "structure_us": round(full - bare - sum(cost.values()), 2),
    }


def run(quick: bool = False) -> dict[str, Any]:
    return asyncio.run(shares(rounds=7 if quick else 61))
