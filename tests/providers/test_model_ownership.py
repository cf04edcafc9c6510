"""Whoever builds a model closes it: a run given a model id string closes the client it
built when it ends, however it ends; a model object passed in stays open (the caller's).
Real SDKs against the local wire server."""

from __future__ import annotations

import pytest

from stageagent import StageAwareRuntime, StageConfig

from .conftest import collect
from .replies import turn_reply

STAGE = StageConfig(name="hello", prompt_text="Say hello.")


def model_id(provider: str, url: str) -> str:
    if provider == "anthropic":
        return f"anthropic:claude-sonnet-4-6@{url}"
    return f"openai:gpt-4o-mini@{url}/v1"


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_model_built_from_an_id_is_closed_when_the_run_ends(provider, stream, wire,
                                                                    keys):
    wire.queue(turn_reply(provider, ["hello"], stream=stream))
    run = StageAwareRuntime().run_stage(STAGE, "hi", model=model_id(provider, wire.url),
                                        stream=stream)
    assert not run.model.is_closed
    events = await collect(run)
    assert events[-1].reason == "completed" and run.result.text == "hello"
    assert run.model.is_closed


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_run_closed_early_still_closes_the_model_it_built(provider, wire, keys):
    rt = StageAwareRuntime(model=model_id(provider, wire.url))  # an id string, per run
    first = rt.run_stage(STAGE, "hi")
    await first.__anext__()
    await first.aclose()
    assert first.model.is_closed
    never_started = rt.run_stage(STAGE, "hi")
    await never_started.aclose()
    assert never_started.model.is_closed and never_started.result.reason == "cancelled"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_a_model_object_stays_the_callers(provider, wire, make_model):
    wire.queue(turn_reply(provider, ["hello"], stream=False))
    model = make_model(provider)
    run = StageAwareRuntime().run_stage(STAGE, "hi", model=model)
    events = await collect(run)
    assert events[-1].reason == "completed"
    assert run.model is model and not model.is_closed
