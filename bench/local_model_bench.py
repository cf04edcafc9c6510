"""Local model benchmark: our adapter's cost on a real stream (needs stageagent[local]).

One llama-cpp-python server on the bundled SmolLM2-135M; the same streamed request
(temperature 0, so the same tokens) is sent alternately by the raw `openai` client and by
`OpenAIModel.stream`. Figures: time to first token and tokens per second (one streamed
chunk is one token on this server), the median of the rounds, and our overhead against the
raw client in percent (positive: we are slower). The rounds interleave, so a slow spell of
the machine hits both alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

PROMPT = "Write two sentences about the sea."
MAX_TOKENS = 64


async def _raw_round(client: Any, model: str) -> tuple[float, float]:
    start = time.perf_counter()
    stamps: list[float] = []
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}], stream=True,
        max_tokens=MAX_TOKENS, temperature=0)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            stamps.append(time.perf_counter())
    return _figures(start, stamps)


async def _ours_round(model: Any) -> tuple[float, float]:
    from stageagent.messages import UserMessage
    from stageagent.models.base import ModelRequest, ModelSettings, TextDelta

    request = ModelRequest(messages=[UserMessage(content=PROMPT)],
                           settings=ModelSettings(max_tokens=MAX_TOKENS, temperature=0))
    start = time.perf_counter()
    stamps: list[float] = []
    async for event in model.stream(request):
        if isinstance(event, TextDelta):
            stamps.append(time.perf_counter())
    return _figures(start, stamps)


def _figures(start: float, stamps: list[float]) -> tuple[float, float]:
    """(time to first token in ms, tokens per second after the first)."""
    if len(stamps) < 2:
        raise RuntimeError("the server streamed fewer than two tokens")
    ttft = (stamps[0] - start) * 1000
    return ttft, (len(stamps) - 1) / (stamps[-1] - stamps[0])


async def _measure(base_url: str, rounds: int) -> dict[str, Any]:
    import openai

    from stageagent.models import infer_model

    raw_client = openai.AsyncOpenAI(base_url=base_url, api_key="local", max_retries=0)
    ours = infer_model(f"local:smollm2@{base_url}")
    raw: list[tuple[float, float]] = []
    mine: list[tuple[float, float]] = []
    try:
        await _raw_round(raw_client, "smollm2")  # warm-up: both connections, first prompt
        await _ours_round(ours)
        for _ in range(rounds):
            raw.append(await _raw_round(raw_client, "smollm2"))
            mine.append(await _ours_round(ours))
    finally:
        await raw_client.close()
        await ours.aclose()
    raw_ttft = statistics.median(r[0] for r in raw)
    our_ttft = statistics.median(r[0] for r in mine)
    raw_tps = statistics.median(r[1] for r in raw)
    our_tps = statistics.median(r[1] for r in mine)
    return {
        "rounds": rounds,
        "raw_ttft_ms": round(raw_ttft, 1), "ttft_ms": round(our_ttft, 1),
        "raw_tokens_per_s": round(raw_tps, 1), "tokens_per_s": round(our_tps, 1),
        "ttft_overhead_pct": round((our_ttft / raw_ttft - 1) * 100, 2),
        "throughput_overhead_pct": round((raw_tps / our_tps - 1) * 100, 2),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from stageagent.local_server import LocalModelServer, server_available

    if not server_available():
        return {"skipped": "the stageagent[local] extra is not installed"}
    with LocalModelServer(port=0) as server:
        return asyncio.run(_measure(server.base_url, 3 if quick else 15))


if __name__ == "__main__":
    import json

    print(json.dumps(run()))
